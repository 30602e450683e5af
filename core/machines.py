"""The two state machines of the engine as data tables plus one transition function each (h11 style).

Session status: what a session may move to on each event. Fix outcome (R9, R10): what an outcome
may follow. An illegal move raises `IllegalTransition` with a message every surface shows as is.
"""

from __future__ import annotations

from enum import StrEnum

from core.errors import IllegalTransition
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


def session_sources(event: SessionEvent) -> tuple[SessionStatus, ...]:
    """Statuses from which `event` is legal: the `expected` set of a conditional status update."""
    return tuple(src for (src, ev) in SESSION_TRANSITIONS if ev is event)


def next_session_status(current: SessionStatus, event: SessionEvent) -> SessionStatus:
    try:
        return SESSION_TRANSITIONS[(current, event)]
    except KeyError:
        raise IllegalTransition(f"Can't {event.value}: {_SESSION_REFUSALS[current]}.") from None


F = FixStatus
TERMINAL_FIX_STATUSES = frozenset({F.APPLIED_SUCCESS, F.APPLIED_FAILED, F.DISMISSED})

FIX_TRANSITIONS: dict[FixStatus, frozenset[FixStatus]] = {
    F.PROPOSED: frozenset({F.APPLIED_SUCCESS, F.APPLIED_FAILED, F.APPLIED_PARTIAL, F.DISMISSED}),
    F.APPLIED_PARTIAL: frozenset({F.APPLIED_SUCCESS, F.APPLIED_FAILED}),
    F.APPLIED_SUCCESS: frozenset(),
    F.APPLIED_FAILED: frozenset(),
    F.DISMISSED: frozenset(),
}


def next_fix_status(current: FixStatus, outcome: FixStatus) -> FixStatus:
    if outcome in FIX_TRANSITIONS[current]:
        return outcome
    if current in TERMINAL_FIX_STATUSES:
        raise IllegalTransition(
            f"The fix already has its final outcome ({current.value}); it can't change to {outcome.value}."
        )
    raise IllegalTransition(f"A {current.value} fix can't move to {outcome.value}.")
