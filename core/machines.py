"""The two state machines of the engine as data tables plus one transition function each (h11 style).

Session status: what a session may move to on each event. Fix outcome (R9, R10): what an outcome
may follow. An illegal move raises `IllegalTransition` with a refusal code and its parameters
(core.errors); the message names statuses in words, never as raw values.
"""

from __future__ import annotations

from enum import StrEnum

from core.errors import IllegalTransition
from core.labels import FIX_STATUS_LABELS, OUTCOME_WORDS
from core.models import FixStatus, SessionStatus


class SessionEvent(StrEnum):
    PARK = "park"
    RESUME = "resume"
    ESCALATE = "escalate"
    PICKUP = "pickup"
    RESOLVE = "resolve"


S = SessionStatus
SESSION_TRANSITIONS: dict[tuple[SessionStatus, SessionEvent], SessionStatus] = {
    (S.ACTIVE, SessionEvent.PARK): S.PARKED,
    (S.PARKED, SessionEvent.RESUME): S.ACTIVE,
    (S.ACTIVE, SessionEvent.ESCALATE): S.ESCALATED,
    (S.PARKED, SessionEvent.ESCALATE): S.ESCALATED,
    (S.ESCALATED, SessionEvent.PICKUP): S.ACTIVE,
    (S.ACTIVE, SessionEvent.RESOLVE): S.RESOLVED,
    (S.PARKED, SessionEvent.RESOLVE): S.RESOLVED,
}

_SESSION_REFUSALS: dict[SessionStatus, str] = {
    S.RESOLVED: "the session is already resolved",
    S.ESCALATED: "the session is escalated and awaiting pickup",
    S.PARKED: "the session is parked",
    S.ACTIVE: "the session is active",
}


# The event as a verb: "Can't pick up: …".
_EVENT_WORDS: dict[SessionEvent, str] = {SessionEvent.PICKUP: "pick up"}


def session_sources(event: SessionEvent) -> tuple[SessionStatus, ...]:
    """Statuses from which `event` is legal: the `expected` set of a conditional status update."""
    return tuple(src for (src, ev) in SESSION_TRANSITIONS if ev is event)


def next_session_status(current: SessionStatus, event: SessionEvent) -> SessionStatus:
    try:
        return SESSION_TRANSITIONS[(current, event)]
    except KeyError:
        raise IllegalTransition(f"Can't {_EVENT_WORDS.get(event, event.value)}: {_SESSION_REFUSALS[current]}.",
                                reason="session.illegal_transition",
                                params={"event": event.value, "status": current.value}) from None


F = FixStatus
TERMINAL_FIX_STATUSES = frozenset({F.APPLIED_SUCCESS, F.APPLIED_FAILED, F.DISMISSED})

FIX_TRANSITIONS: dict[FixStatus, frozenset[FixStatus]] = {
    F.PROPOSED: frozenset({F.APPLIED_SUCCESS, F.APPLIED_FAILED, F.APPLIED_PARTIAL, F.DISMISSED}),
    F.APPLIED_PARTIAL: frozenset({F.APPLIED_SUCCESS, F.APPLIED_FAILED}),
    F.APPLIED_SUCCESS: frozenset(),
    F.APPLIED_FAILED: frozenset(),
    F.DISMISSED: frozenset(),
}


FINAL_OUTCOME = "fix.final_outcome"  # the refusal code of any change to a fix with its final outcome


def final_outcome_message(current: FixStatus, outcome: FixStatus | None = None) -> str:
    said = f"The fix already has its final outcome: it {OUTCOME_WORDS[current]}"
    return f"{said}; it can't be marked '{FIX_STATUS_LABELS[outcome]}' now." if outcome else f"{said}."


def next_fix_status(current: FixStatus, outcome: FixStatus) -> FixStatus:
    if outcome in FIX_TRANSITIONS[current]:
        return outcome
    params = {"status": current.value, "status_label": FIX_STATUS_LABELS[current],
              "outcome": outcome.value, "outcome_label": FIX_STATUS_LABELS[outcome]}
    if current in TERMINAL_FIX_STATUSES:
        raise IllegalTransition(
            final_outcome_message(current, outcome), reason=FINAL_OUTCOME, params=params)
    raise IllegalTransition(
        f"The fix is marked '{FIX_STATUS_LABELS[current]}'; it can't be marked '{FIX_STATUS_LABELS[outcome]}'.",
        reason="fix.illegal_transition", params=params)
