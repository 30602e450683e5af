"""Core's refusals in Slack's words: hints point at Slack's own controls (the task lane's buttons,
its menus, `/rf` commands), never at another surface's syntax. Anything not listed reads as core
says it (core's messages name no surface's controls)."""

from __future__ import annotations

from core.errors import DomainError, worded

# By refusal code (core.errors); placeholders are the refusal's params, and {message} its default.
# Text is Slack mrkdwn; params are filled in as core gives them, as the default message is.
OVERRIDES: dict[str, str] = {
    "fact.synthesis_unavailable": ("Can't write the fact for you: {why}. Use *Confirm in my words…* next to "
                                   "{label} on the task lane."),
    "fact.nothing_confirms": ("Nothing in the conversation confirms {label} yet. Use *Confirm in my words…* next "
                              "to it on the task lane."),
    "fix.partial_notes_missing": "Partly worked needs notes: use *Partly* on the task lane and say what changed.",
    "session.problem_missing": "Describe the problem to start a session, e.g. `/rf new printer offline for 3 users`.",
    "session.awaiting_pickup": ("Session #{session_id} is escalated and awaiting pickup; use *Pick up* on its task lane "
                                "or escalation post to continue."),
    "ticket.ref_invalid": "That is not a ticket number: use `/rf link 12345`, `#12345` or a ticket URL.",
    "time_entries.off": "Time entries are off for this account; an admin turns them on under *Time entries* in `/rf settings`.",
    # The PSA's settings live behind the buttons of `/rf settings` (on_psa.py).
    "psa.not_configured": "{psa} is not set up for this account: an admin connects it under *Connection* in `/rf settings`.",
    "psa.key_undecryptable": ("The stored PSA keys can't be decrypted (was RF_SECRET_KEY changed?): an admin enters "
                              "them again under *Connection* in `/rf settings`."),
    "psa.status_not_on_board": ("That status belongs to another board, not to {board}: choose one of the statuses "
                                "listed for {board}."),
    "psa.board_unknown": "{message} Open *Statuses per board* in `/rf settings` again to see the current boards.",
    "psa.statuses_unreadable": "{message} Give the API member that permission, then save {board} again.",
    "psa.work_type_unknown": "{message} Open *Time entries* in `/rf settings` again to see the current work types.",
    "psa.work_role_unknown": "{message} Open *Time entries* in `/rf settings` again to see the current work roles.",
    "psa.member_unknown": "{message} Pick yourself again from the member list in `/rf settings`.",
    "psa.member_no_email": ("{member} has no e-mail address to be matched by: pick yourself from the member list "
                            "in `/rf settings`, then try again."),
    "psa.member_not_found": ("Your PSA has no single member with the e-mail address {email}: {member} picks "
                             "themselves from the member list in `/rf settings`, then tries again."),
    "metric.period_unknown": "The period is 7d, 30d or 90d, e.g. `/rf stats 30d`.",
    "role.unknown": "A role is viewer, engineer or admin, e.g. `/rf role @person engineer`.",
}


def error_text(exc: DomainError) -> str:
    return worded(exc, OVERRIDES)
