"""What Slack tells the person who acted, worded from core's outcome (a code and its parameters).
Outcomes the task lane or the session's thread already show (a fact, a fix, a resolution, an
escalation) say nothing more; these are the ones that happen somewhere the person is not looking."""

from __future__ import annotations

from adapters.slack.text import escape
from core.actions import Outcome, OutcomeCode

TOLD = {
    OutcomeCode.FACT_PROPOSED: ("Here is the answer as the assistant reads it, {label}: {text}. It becomes a fact once you "
                                "confirm it (or confirm it in your words) on the task lane."),
    OutcomeCode.PICKED_UP: ("You picked up session #{session_id}. The handoff context is in your DMs; continue in the "
                            "session's thread."),
    OutcomeCode.TICKET_LINKED: "Session #{session_id} is linked to ticket #{ticket_id}: {summary} ({company}, {status}).",
    OutcomeCode.WRITEBACK_RETRIED: "Session #{session_id} is being written to ticket #{ticket_id} again.",
}


def outcome_text(outcome: Outcome) -> str | None:
    template = TOLD.get(outcome.code)
    if template is None:
        return None
    params = {k: escape(v) if isinstance(v, str) else v for k, v in outcome.params.items()}
    return template.format(**{**params, "session_id": outcome.session_id})
