"""Teams' wording of action outcomes (core.actions.OutcomeCode and its params) and of the line a
slow click is answered with while it runs, so every sentence a click produces reads in one place."""

from __future__ import annotations

from core.actions import ActionId, Outcome, OutcomeCode

# While a slow click (SPECS[id].slow) runs from the inbox; {id} is the session.
PENDING: dict[ActionId, str] = {
    ActionId.CONFIRM_ITEM: "Confirming it as a fact of session #{id}; the task lane card updates in a moment.",
    ActionId.PREVIEW_RESOLVE: "Preparing the resolution note; it will appear in this conversation.",
    ActionId.PREVIEW_ESCALATE: "Preparing the escalation package; it will appear in this conversation.",
    ActionId.RESOLVE: "Posting the resolution of session #{id}; this card shows it when it is done.",
    ActionId.ESCALATE: "Escalating session #{id}; the escalation channel hears of it in a moment.",
    ActionId.LINK_TICKET: "Linking the ticket to session #{id}; the task lane card updates in a moment.",
}
PENDING_DEFAULT = "Working on it; the card updates when it is done."

RESOLVED_HOW = {"resolved_local": "here (no ticket linked, nothing posted to the PSA)",
                "writeback_pending": "; the note is on its way to the ticket"}
WORDS: dict[OutcomeCode, str] = {
    OutcomeCode.FACT_ADDED: "Added {label}: {text}",
    OutcomeCode.FACT_CONFIRMED: "Confirmed as {label}: {text}",
    OutcomeCode.FACT_PROPOSED: "Proposed {label}: {text} — confirm it, or confirm it in your words, on the card.",
    OutcomeCode.ITEM_DISMISSED: "Dismissed {label}.",
    OutcomeCode.FACT_EDITED: "{label} now reads: {text}",
    OutcomeCode.FACT_DELETED: "Deleted {label}.",
    OutcomeCode.FIX_ADDED: "Proposed the fix **{title}**.",
    OutcomeCode.FIX_APPLIED: "Marked **{title}** as applied; say how it went with the fix's buttons.",
    OutcomeCode.FIX_OUTCOME: "Recorded: **{title}** {outcome_label}.",
    OutcomeCode.OUTCOME_NOT_YET: "Kept **{title}** open: the outcome is not settled yet.",
    OutcomeCode.PREVIEW_READY: "The {kind} note is ready (state v{version}).",
    OutcomeCode.RESOLVED: "Session #{session_id} resolved{how}.",
    OutcomeCode.ESCALATED: "Session #{session_id} escalated: {reason}.",
    OutcomeCode.PARKED: "Session #{session_id} parked; it is there to pick up again.",
    OutcomeCode.PICKED_UP: "You picked up #{session_id} {title}; the handoff is in your personal chat.",
    OutcomeCode.TICKET_LINKED: "Linked ticket #{ticket_id}: {summary}.",
    OutcomeCode.WRITEBACK_RETRIED: "Trying the writeback to ticket #{ticket_id} again.",
}
POSTED_TITLE = "Resolution posted — session #{id}"
POSTED_BODY = "{name} resolved the session{how}."


def pending_text(kind: ActionId, session_id: int) -> str:
    return PENDING.get(kind, PENDING_DEFAULT).format(id=session_id)


def resolved_how(outcome: Outcome) -> str:
    how = RESOLVED_HOW.get(str(outcome.params.get("outcome")), "")
    return f" {how}" if how and not how.startswith(";") else how


class _Params(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "?"  # a param core did not send still leaves a readable line


def outcome_text(outcome: Outcome) -> str:
    return WORDS[outcome.code].format_map(
        _Params({**outcome.params, "session_id": outcome.session_id, "how": resolved_how(outcome)}))
