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
    # The PSA's settings live on the settings card (`@ResolutionFlow settings`, adapters/teams/cards_psa.py).
    "psa.not_configured": ("{psa} is not set up for this account: an admin connects it under **Connection** on "
                           "the settings card (`@ResolutionFlow settings`)."),
    "psa.settings_missing": "{message} Fill them in under **Connection** on the settings card.",
    "psa.key_undecryptable": ("The stored PSA keys can't be decrypted (was RF_SECRET_KEY changed?): an admin enters "
                              "them again under **Connection** on the settings card."),
    "psa.status_not_on_board": "{message} Its menus on the settings card offer only the board's own statuses.",
    "psa.board_unknown": "{message} The settings card lists the active boards (`@ResolutionFlow settings`).",
    "psa.statuses_unreadable": ("Can't read the statuses of the board '{board}' ({message}), so none can be chosen "
                                "for it until that is fixed."),
    "psa.work_type_unknown": "{message} Choose one from the **Work type** menu on the settings card.",
    "psa.work_role_unknown": "{message} Choose one from the **Work role** menu on the settings card.",
    "psa.billable_invalid": "Choose how time is billed from the **Billable** menu on the settings card.",
    "psa.member_unknown": "{message} Type your name under **My member** on the settings card and choose yourself.",
    "psa.member_no_email": ("{member} has no e-mail address to be matched to a PSA member by: choose the member under "
                            "**My member** on the settings card (`@ResolutionFlow settings`), then retry."),
    "psa.member_not_found": ("No single PSA member has the e-mail address {email}: {member} chooses their member under "
                             "**My member** on the settings card (`@ResolutionFlow settings`), then retries."),
    "time_entries.off": ("Time entries are off for this account; an admin turns them on under **Time entries** on "
                         "the settings card (`@ResolutionFlow settings`)."),
}


def error_text(exc: DomainError) -> str:
    return worded(exc, OVERRIDES)
