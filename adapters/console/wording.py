"""Core's refusals in the console's words: where a console command is the way on, the hint names
it (core's own messages name no surface's controls). Anything not listed reads as core says it."""

from __future__ import annotations

from core.errors import DomainError, worded

# By refusal code (core.errors); placeholders are the refusal's params, and {message} its default.
OVERRIDES: dict[str, str] = {
    "fact.synthesis_unavailable": "Can't write the fact for you: {why}. Give its words: /promote {label} <text>",
    "fact.nothing_confirms": "Nothing in the conversation confirms {label} yet. Give the fact's words: /promote {label} <text>",
    "fix.title_missing": "A fix needs a title: /fix <title> [:: description]",
    "fix.none": "{message} /fix <title> proposes your own.",
    "fix.partial_notes_missing": "Partly worked needs notes on what changed: /partial <notes>",
    "escalate.reason_missing": "Say why you escalate: /escalate <reason> [@target]",
    "message.too_long": "The message is {length:,} characters; at most {max:,}. Nothing was saved.",
    "session.problem_missing": "Describe the problem to start a session, e.g. /new <problem>.",
    "session.awaiting_pickup": "{message} /pickup {session_id}",
    "ticket.ref_invalid": "That is not a ticket number: use /link 12345, #12345 or a ticket URL.",
    "time_entries.off": "Time entries are off for this account; an admin turns them on with /psa time on.",
    "psa.not_configured": "{psa} is not set up for this account: an admin connects it with /psa connect key=value … (/psa lists the keys).",
    "psa.status_not_on_board": "{message} /psa boards lists each board's own statuses.",
    "psa.board_unknown": "{message} /psa boards lists the boards.",
    "psa.work_type_unknown": "{message} /psa time lists the work types.",
    "psa.work_role_unknown": "{message} /psa time lists the work roles.",
    "psa.member_unknown": "{message} /psa members lists them.",
    "psa.member_no_email": "{message} /psa me <member> chooses your member; /psa members lists them.",
    "psa.member_not_found": "{message} /psa me <member> chooses your member; /psa members lists them.",
    "prefs.empty": "Give at least one key=value: /prefs key=value …",
    "metric.period_unknown": "The period is 7d, 30d or 90d: /stats 30d",
}


def error_text(exc: DomainError) -> str:
    return worded(exc, OVERRIDES)
