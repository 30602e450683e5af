"""Core's refusals in Teams' words: hints point at the cards' buttons and `@ResolutionFlow`
commands, never at another surface's syntax. Anything not listed reads as core says it (core's
messages name no surface's controls)."""

from __future__ import annotations

from core.errors import DomainError, worded

# By refusal code (core.errors); placeholders are the refusal's params, and {message} its default.
OVERRIDES: dict[str, str] = {
    "fact.synthesis_unavailable": ("Can't write the fact for you: {why}. Use **Confirm in my words…** next to "
                                   "{label} on the task lane card."),
    "fact.nothing_confirms": ("Nothing in the conversation confirms {label} yet. Use **Confirm in my words…** "
                              "next to it on the task lane card."),
    "fix.partial_notes_missing": "Partly worked needs notes: use **Partly** on the task lane card and say what changed.",
    "session.problem_missing": "Describe the problem to start a session, e.g. `@ResolutionFlow new printer offline for 3 users`.",
    "session.awaiting_pickup": ("Session #{session_id} is escalated and awaiting pickup; use **Pick up** on its task "
                                "lane card or escalation post to continue."),
    "metric.period_unknown": "The period is 7d, 30d or 90d, e.g. `@ResolutionFlow stats 30d`.",
}


def error_text(exc: DomainError) -> str:
    return worded(exc, OVERRIDES)
