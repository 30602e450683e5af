"""Every state rule of the engine in one file: data tables plus small functions (h11 style).

Sessions (R18, R19, R24), fixes (R7–R12), handoffs (R23, R24) and writebacks (R39): for each
event, the statuses it may start from and the status it leads to; for each status, what it allows
and which controls it offers. Services ask here instead of comparing statuses themselves. An
illegal move raises `IllegalTransition` (a `Conflict`), or the refusal that rule has always given,
with a refusal code and its parameters (core.errors); messages name statuses in words, never as
raw values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from core.errors import Conflict, IllegalTransition
from core.labels import FIX_STATUS_LABELS, OUTCOME_WORDS
from core.models import FixStatus, HandoffIntent, SessionStatus, WritebackStatus


@dataclass(frozen=True)
class Move[T: StrEnum]:
    """One row of a table: the event is legal from `sources` and leads to `to` (None: the status
    stays as it is; the event changes other fields)."""

    sources: frozenset[T]
    to: T | None


def _move[T: StrEnum](sources: Iterable[T], to: T | None) -> Move[T]:
    return Move(frozenset(sources), to)


def _pairs[E: StrEnum, T: StrEnum](moves: Mapping[E, Move[T]]) -> dict[tuple[T, E], T]:
    """The table as (status, event) → new status, for lookups and tests."""
    return {(src, ev): (m.to or src) for ev, m in moves.items() for src in m.sources}


# ---------------------------------------------------------------------------------------------
# Sessions


class SessionEvent(StrEnum):
    PARK = "park"
    RESUME = "resume"
    ESCALATE = "escalate"
    PICKUP = "pickup"
    RESOLVE = "resolve"


S = SessionStatus
SESSION_MOVES: dict[SessionEvent, Move[SessionStatus]] = {
    SessionEvent.PARK: _move({S.ACTIVE}, S.PARKED),
    SessionEvent.RESUME: _move({S.PARKED}, S.ACTIVE),
    SessionEvent.ESCALATE: _move({S.ACTIVE, S.PARKED}, S.ESCALATED),
    SessionEvent.PICKUP: _move({S.ESCALATED}, S.ACTIVE),
    SessionEvent.RESOLVE: _move({S.ACTIVE, S.PARKED}, S.RESOLVED),
}
SESSION_TRANSITIONS: dict[tuple[SessionStatus, SessionEvent], SessionStatus] = _pairs(SESSION_MOVES)


@dataclass(frozen=True, kw_only=True)
class SessionRules:
    """What a session in one status allows."""

    accepts_changes: bool  # R24: messages, facts, fixes, the lane, the assistant's proposals
    on_message: SessionEvent | None = None  # what an engineer's message does to the status
    final: bool = False  # R19: resolved; resolving again is "already resolved"
    awaiting_pickup: bool = False  # R23: a colleague may claim its escalation
    offers: tuple[SessionEvent, ...] = ()  # the lane's session controls, in the order shown
    refusal: str  # "the session is …": why an illegal event is refused
    closed: Callable[[int | None], Conflict] | None = None  # the refusal of a change, by session id


def _awaiting_pickup(session_id: int | None) -> Conflict:
    return Conflict(f"Session #{session_id} is escalated and awaiting pickup; pick it up to continue.",
                    reason="session.awaiting_pickup", params={"session_id": session_id})


def _resolved(session_id: int | None) -> Conflict:
    return Conflict(f"Session #{session_id} is resolved; it can no longer change.", reason="session.closed_resolved",
                    params={"session_id": session_id})


# A parked session is not offered Park again: it resumes with the next message.
SESSION_RULES: dict[SessionStatus, SessionRules] = {
    S.ACTIVE: SessionRules(accepts_changes=True, offers=(SessionEvent.RESOLVE, SessionEvent.ESCALATE, SessionEvent.PARK),
                           refusal="the session is active"),
    S.PARKED: SessionRules(accepts_changes=True, on_message=SessionEvent.RESUME,
                           offers=(SessionEvent.RESOLVE, SessionEvent.ESCALATE), refusal="the session is parked"),
    S.ESCALATED: SessionRules(
        accepts_changes=False, awaiting_pickup=True, offers=(SessionEvent.PICKUP,),
        refusal="the session is escalated and awaiting pickup", closed=_awaiting_pickup),
    S.RESOLVED: SessionRules(
        accepts_changes=False, final=True, refusal="the session is already resolved", closed=_resolved),
}

# The event as a verb: "Can't pick up: …".
_EVENT_WORDS: dict[SessionEvent, str] = {SessionEvent.PICKUP: "pick up"}


def session_sources(event: SessionEvent) -> tuple[SessionStatus, ...]:
    """Statuses from which `event` is legal: the `expected` set of a conditional status update."""
    return tuple(s for s in SessionStatus if s in SESSION_MOVES[event].sources)


def next_session_status(current: SessionStatus, event: SessionEvent) -> SessionStatus:
    move = SESSION_MOVES[event]
    if current in move.sources and move.to is not None:
        return move.to
    raise IllegalTransition(f"Can't {_EVENT_WORDS.get(event, event.value)}: {SESSION_RULES[current].refusal}.",
                            reason="session.illegal_transition",
                            params={"event": event.value, "status": current.value})


def session_accepts_changes(status: SessionStatus) -> bool:
    """Active and parked sessions change; escalated (awaiting pickup) and resolved ones only read."""
    return SESSION_RULES[status].accepts_changes


def require_session_open(status: SessionStatus, session_id: int | None) -> None:
    """R24: the refusal of any change to a closed session (escalated awaiting pickup, resolved)."""
    closed = SESSION_RULES[status].closed
    if closed is not None:
        raise closed(session_id)


def session_is_final(status: SessionStatus) -> bool:
    """R19: a resolved session takes no further change; resolving it again says when and by whom."""
    return SESSION_RULES[status].final


def message_event(status: SessionStatus) -> SessionEvent | None:
    """What an engineer's message does to the status: a parked session resumes."""
    return SESSION_RULES[status].on_message


def session_offers(status: SessionStatus) -> tuple[SessionEvent, ...]:
    """The session controls the lane shows (Preview resolution / Escalate / Park, or Pick up)."""
    return SESSION_RULES[status].offers


# ---------------------------------------------------------------------------------------------
# Fixes


class FixEvent(StrEnum):
    APPLY = "apply"  # R9: stamps applied_at; the status stays ("verifying")
    DECIDE = "decide"  # R8: a script decision
    SAVE_SCRIPT = "save_script"  # R12
    PROPOSE_OUTCOME = "propose_outcome"  # R11: the assistant's proposal, dropped on a closed fix
    WORKED = "worked"
    FAILED = "failed"
    PARTIAL = "partial"
    DISMISS = "dismiss"


F = FixStatus
_OPEN_FIX = (F.PROPOSED, F.APPLIED_PARTIAL)
FIX_MOVES: dict[FixEvent, Move[FixStatus]] = {
    FixEvent.APPLY: _move(_OPEN_FIX, None),
    FixEvent.DECIDE: _move(_OPEN_FIX, None),
    FixEvent.SAVE_SCRIPT: _move(_OPEN_FIX, None),
    FixEvent.PROPOSE_OUTCOME: _move(_OPEN_FIX, None),
    FixEvent.WORKED: _move(_OPEN_FIX, F.APPLIED_SUCCESS),
    FixEvent.FAILED: _move(_OPEN_FIX, F.APPLIED_FAILED),
    FixEvent.PARTIAL: _move({F.PROPOSED}, F.APPLIED_PARTIAL),
    FixEvent.DISMISS: _move({F.PROPOSED}, F.DISMISSED),
}
# The outcome a person records (R10), as the event that records it.
OUTCOME_EVENTS: dict[FixStatus, FixEvent] = {
    F.APPLIED_SUCCESS: FixEvent.WORKED, F.APPLIED_FAILED: FixEvent.FAILED,
    F.APPLIED_PARTIAL: FixEvent.PARTIAL, F.DISMISSED: FixEvent.DISMISS,
}
# Success, failed and dismissed: no event starts from them.
TERMINAL_FIX_STATUSES = frozenset(s for s in FixStatus if not any(s in m.sources for m in FIX_MOVES.values()))
# Which outcome may follow which (R10).
FIX_TRANSITIONS: dict[FixStatus, frozenset[FixStatus]] = {
    s: frozenset(m.to for m in FIX_MOVES.values() if s in m.sources and m.to is not None) for s in FixStatus
}


@dataclass(frozen=True, kw_only=True)
class Superseded:
    """The refusal of an event on a fix a newer one replaced; `first`: checked before the status."""

    refusal: Callable[[int | None], Conflict]
    first: bool


def _superseded(fix_id: int | None) -> Conflict:
    return Conflict("That fix was superseded by a newer one.", reason="fix.superseded", params={"fix_id": fix_id})


def _dismiss_superseded(fix_id: int | None) -> Conflict:
    return Conflict("That fix was already superseded; there is nothing to dismiss.", reason="fix.dismiss_superseded",
                    params={"fix_id": fix_id})


FIX_SUPERSEDED: dict[FixEvent, Superseded] = {
    FixEvent.APPLY: Superseded(refusal=_superseded, first=False),
    FixEvent.DISMISS: Superseded(refusal=_dismiss_superseded, first=True),
}


@dataclass(frozen=True, kw_only=True)
class OutcomeRules:
    """What recording an outcome does besides the status (R8, R10)."""

    notes_required: bool = False  # partial needs notes on what changed
    notes_into: str | None = None  # the field the notes go to
    verifies: bool = False  # stamps verified_at
    supersedes: bool = False  # dismissed: decision dismissed, superseded, so a fresh suggestion takes over


OUTCOME_RULES: dict[FixStatus, OutcomeRules] = {
    F.APPLIED_SUCCESS: OutcomeRules(verifies=True),
    F.APPLIED_FAILED: OutcomeRules(verifies=True, notes_into="failure_reason"),
    F.APPLIED_PARTIAL: OutcomeRules(notes_required=True, notes_into="partial_notes"),
    F.DISMISSED: OutcomeRules(supersedes=True),
}

# The fix controls the lane shows per status, in order. Partly stays offered on a partial fix as
# before; the table refuses it.
FIX_OFFERS: dict[FixStatus, tuple[FixEvent, ...]] = {
    F.PROPOSED: (FixEvent.APPLY, FixEvent.WORKED, FixEvent.FAILED, FixEvent.PARTIAL, FixEvent.DISMISS),
    F.APPLIED_PARTIAL: (FixEvent.APPLY, FixEvent.WORKED, FixEvent.FAILED),  # partly worked moves on (R10)
    F.APPLIED_SUCCESS: (), F.APPLIED_FAILED: (), F.DISMISSED: (),
}

FINAL_OUTCOME = "fix.final_outcome"  # the refusal code of any change to a fix with its final outcome


def final_outcome_message(current: FixStatus, outcome: FixStatus | None = None) -> str:
    said = f"The fix already has its final outcome: it {OUTCOME_WORDS[current]}"
    return f"{said}; it can't be marked '{FIX_STATUS_LABELS[outcome]}' now." if outcome else f"{said}."


def _refuse_superseded(event: FixEvent | None, *, first: bool, superseded: bool, fix_id: int | None) -> None:
    rule = FIX_SUPERSEDED.get(event) if event is not None else None
    if rule is not None and superseded and rule.first is first:
        raise rule.refusal(fix_id)


def fix_allows(current: FixStatus, event: FixEvent) -> bool:
    return current in FIX_MOVES[event].sources


def fix_move(current: FixStatus, event: FixEvent, *, fix_id: int | None = None, superseded: bool = False) -> FixStatus:
    """The status after `event`. An outcome event refused raises IllegalTransition; the events that
    keep the status (apply, decide, save script) refuse a final fix with a plain Conflict."""
    current = FixStatus(current)
    move = FIX_MOVES[event]
    if move.to is not None:
        return next_fix_status(current, move.to, fix_id=fix_id, superseded=superseded)
    _refuse_superseded(event, first=True, superseded=superseded, fix_id=fix_id)
    if current not in move.sources:
        raise Conflict(final_outcome_message(current), reason=FINAL_OUTCOME,
                       params={"fix_id": fix_id, "status": current.value, "status_label": FIX_STATUS_LABELS[current]})
    _refuse_superseded(event, first=False, superseded=superseded, fix_id=fix_id)
    return current


def next_fix_status(current: FixStatus, outcome: FixStatus, *, fix_id: int | None = None,
                    superseded: bool = False) -> FixStatus:
    """R10: the status once `outcome` is recorded, or the refusal."""
    current = FixStatus(current)
    event = OUTCOME_EVENTS.get(outcome)
    _refuse_superseded(event, first=True, superseded=superseded, fix_id=fix_id)
    if event is not None and current in FIX_MOVES[event].sources:
        _refuse_superseded(event, first=False, superseded=superseded, fix_id=fix_id)
        return outcome
    params = {"status": current.value, "status_label": FIX_STATUS_LABELS[current],
              "outcome": outcome.value, "outcome_label": FIX_STATUS_LABELS[outcome]}
    if current in TERMINAL_FIX_STATUSES:
        raise IllegalTransition(
            final_outcome_message(current, outcome), reason=FINAL_OUTCOME, params=params)
    raise IllegalTransition(
        f"The fix is marked '{FIX_STATUS_LABELS[current]}'; it can't be marked '{FIX_STATUS_LABELS[outcome]}'.",
        reason="fix.illegal_transition", params=params)


def outcome_rules(outcome: FixStatus) -> OutcomeRules:
    return OUTCOME_RULES.get(outcome, OutcomeRules())


def fix_offers(status: FixStatus, *, applied: bool) -> tuple[FixEvent, ...]:
    """The fix controls the lane shows; Apply only until the fix is applied."""
    return tuple(e for e in FIX_OFFERS[FixStatus(status)] if not (applied and e is FixEvent.APPLY))


def fix_tried(status: FixStatus, *, applied: bool) -> bool:
    """A fix belongs in "what we tried" once applied or given any outcome."""
    return applied or status != F.PROPOSED


# ---------------------------------------------------------------------------------------------
# Handoffs (derived from the handoff row and its session, never stored)


class HandoffState(StrEnum):
    AWAITING_PICKUP = "awaiting_pickup"
    CLAIMED = "claimed"
    STALE = "stale"  # unclaimed, but its session is no longer escalated
    PARK = "park"  # the record of a park: nobody picks it up


class HandoffEvent(StrEnum):
    CLAIM = "claim"


HANDOFF_MOVES: dict[HandoffEvent, Move[HandoffState]] = {
    HandoffEvent.CLAIM: _move({HandoffState.AWAITING_PICKUP}, HandoffState.CLAIMED),
}


@dataclass(frozen=True, kw_only=True)
class HandoffRules:
    claimable: bool = False  # R23: a pickup may win it
    taken: bool = False  # R23: a pickup is told who has it
    handler_only: bool = False  # R24: changes for the handler and admins only


HANDOFF_RULES: dict[HandoffState, HandoffRules] = {
    HandoffState.AWAITING_PICKUP: HandoffRules(claimable=True),
    HandoffState.CLAIMED: HandoffRules(taken=True, handler_only=True),
    HandoffState.STALE: HandoffRules(),
    HandoffState.PARK: HandoffRules(),
}


def handoff_state(*, intent: HandoffIntent, claimed: bool, session_status: SessionStatus) -> HandoffState:
    if intent == HandoffIntent.PARK:
        return HandoffState.PARK
    if claimed:
        return HandoffState.CLAIMED
    return HandoffState.AWAITING_PICKUP if SESSION_RULES[session_status].awaiting_pickup else HandoffState.STALE


def handoff_rules(*, intent: HandoffIntent, claimed: bool, session_status: SessionStatus) -> HandoffRules:
    return HANDOFF_RULES[handoff_state(intent=intent, claimed=claimed, session_status=session_status)]


def handoff_claimable(*, intent: HandoffIntent, claimed: bool, session_status: SessionStatus) -> bool:
    """R23: an escalation nobody has claimed whose session still awaits pickup."""
    return handoff_rules(intent=intent, claimed=claimed, session_status=session_status).claimable


def next_handoff_state(current: HandoffState, event: HandoffEvent) -> HandoffState:
    move = HANDOFF_MOVES[event]
    if current in move.sources and move.to is not None:
        return move.to
    raise IllegalTransition(f"Can't {event.value}: the handoff is {current.value.replace('_', ' ')}.",
                            reason="handoff.illegal_transition", params={"event": event.value, "state": current.value})


# ---------------------------------------------------------------------------------------------
# Writebacks (R39): the outbox row's status. Storage makes each move one conditional UPDATE.


class WritebackEvent(StrEnum):
    CLAIM = "claim"  # a worker takes it; a running row only once its lease ran out (storage checks)
    HAND_BACK = "hand_back"  # the PSA is unreachable: the lease is pushed out, the row stays running
    DELIVER = "deliver"  # posted (and the status verified): done
    GIVE_UP = "give_up"  # refused, not verified or unreachable too long: failed
    RETRY = "retry"  # a person sends a failed writeback back to the queue


W = WritebackStatus
WRITEBACK_MOVES: dict[WritebackEvent, Move[WritebackStatus]] = {
    WritebackEvent.CLAIM: _move({W.PENDING, W.RUNNING}, W.RUNNING),
    WritebackEvent.HAND_BACK: _move({W.RUNNING}, None),
    WritebackEvent.DELIVER: _move({W.RUNNING}, W.DONE),
    WritebackEvent.GIVE_UP: _move({W.RUNNING}, W.FAILED),
    WritebackEvent.RETRY: _move({W.FAILED}, W.PENDING),
}
WRITEBACK_TRANSITIONS = _pairs(WRITEBACK_MOVES)


def writeback_allows(status: WritebackStatus, event: WritebackEvent) -> bool:
    return status in WRITEBACK_MOVES[event].sources


def next_writeback_status(current: WritebackStatus, event: WritebackEvent) -> WritebackStatus:
    current = WritebackStatus(current)
    move = WRITEBACK_MOVES[event]
    if current in move.sources:
        return move.to or current
    raise IllegalTransition(f"Can't {event.value.replace('_', ' ')} a writeback that is {current.value}.",
                            reason="writeback.illegal_transition", params={"event": event.value, "status": current.value})
