"""The state machines of core.machines (R9, R10, R19, R23, R24, R39): every (state, event) pair
either moves to the state its table declares or is refused with its code, and random event
sequences keep the invariants (a resolved session takes no change; a final fix never changes)."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from core.errors import Conflict, IllegalTransition
from core.machines import (
    FINAL_OUTCOME,
    FIX_MOVES,
    FIX_OFFERS,
    FIX_TRANSITIONS,
    HANDOFF_MOVES,
    OUTCOME_EVENTS,
    SESSION_MOVES,
    SESSION_RULES,
    SESSION_TRANSITIONS,
    TERMINAL_FIX_STATUSES,
    WRITEBACK_MOVES,
    WRITEBACK_TRANSITIONS,
    FixEvent,
    HandoffEvent,
    HandoffState,
    SessionEvent,
    WritebackEvent,
    fix_allows,
    fix_move,
    fix_offers,
    fix_tried,
    handoff_claimable,
    handoff_rules,
    handoff_state,
    message_event,
    next_fix_status,
    next_handoff_state,
    next_session_status,
    next_writeback_status,
    outcome_rules,
    require_session_open,
    session_accepts_changes,
    session_is_final,
    session_offers,
    session_sources,
    writeback_allows,
)
from core.models import FixStatus, HandoffIntent, SessionStatus, WritebackStatus

S, F, W = SessionStatus, FixStatus, WritebackStatus
MOVING_FIX_EVENTS = [e for e, m in FIX_MOVES.items() if m.to is not None]
STAYING_FIX_EVENTS = [e for e, m in FIX_MOVES.items() if m.to is None]


# --- sessions: the table, pair by pair -----------------------------------------------------------

@pytest.mark.parametrize(("status", "event"), list(product(SessionStatus, SessionEvent)))
def test_every_session_pair_moves_as_declared_or_is_refused(status: SessionStatus, event: SessionEvent) -> None:
    if (status, event) in SESSION_TRANSITIONS:
        assert next_session_status(status, event) == SESSION_TRANSITIONS[(status, event)] == SESSION_MOVES[event].to
        assert status in session_sources(event)
        return
    with pytest.raises(IllegalTransition) as refused:
        next_session_status(status, event)
    assert refused.value.reason == "session.illegal_transition"
    assert refused.value.params == {"event": event.value, "status": status.value}
    assert str(refused.value).startswith(f"Can't {event.value.replace('pickup', 'pick up')}: the session is ")
    assert status not in session_sources(event)


def test_session_table_as_the_product_states_it() -> None:
    assert SESSION_TRANSITIONS == {
        (S.ACTIVE, SessionEvent.PARK): S.PARKED, (S.PARKED, SessionEvent.RESUME): S.ACTIVE,
        (S.ACTIVE, SessionEvent.ESCALATE): S.ESCALATED, (S.PARKED, SessionEvent.ESCALATE): S.ESCALATED,
        (S.ESCALATED, SessionEvent.PICKUP): S.ACTIVE,
        (S.ACTIVE, SessionEvent.RESOLVE): S.RESOLVED, (S.PARKED, SessionEvent.RESOLVE): S.RESOLVED,
    }
    assert not any(src == S.RESOLVED for src, _ in SESSION_TRANSITIONS)  # R19: resolved is final


@pytest.mark.parametrize("status", list(SessionStatus))
def test_per_status_session_rules(status: SessionStatus) -> None:
    rules = SESSION_RULES[status]
    assert session_accepts_changes(status) is (status in (S.ACTIVE, S.PARKED))
    assert session_is_final(status) is (status == S.RESOLVED)
    assert message_event(status) == (SessionEvent.RESUME if status == S.PARKED else None)
    if rules.on_message is not None:
        assert (status, rules.on_message) in SESSION_TRANSITIONS
    assert (SessionEvent.PICKUP in session_offers(status)) is rules.awaiting_pickup is (status == S.ESCALATED)
    # What the lane offers is legal.
    for event in session_offers(status):
        assert (status, event) in SESSION_TRANSITIONS
    if rules.accepts_changes:
        require_session_open(status, 7)
    else:
        with pytest.raises(Conflict) as refused:
            require_session_open(status, 7)
        assert refused.value.reason == ("session.closed_resolved" if status == S.RESOLVED else "session.awaiting_pickup")
        assert refused.value.params == {"session_id": 7} and "Session #7 is " in refused.value.message


# --- fixes: the table, pair by pair --------------------------------------------------------------

def test_fix_tables_as_the_product_states_them() -> None:
    assert TERMINAL_FIX_STATUSES == {F.APPLIED_SUCCESS, F.APPLIED_FAILED, F.DISMISSED}
    assert FIX_TRANSITIONS == {
        F.PROPOSED: {F.APPLIED_SUCCESS, F.APPLIED_FAILED, F.APPLIED_PARTIAL, F.DISMISSED},
        F.APPLIED_PARTIAL: {F.APPLIED_SUCCESS, F.APPLIED_FAILED},
        F.APPLIED_SUCCESS: set(), F.APPLIED_FAILED: set(), F.DISMISSED: set(),
    }
    assert {FIX_MOVES[e].to for e in OUTCOME_EVENTS.values()} == set(OUTCOME_EVENTS)
    for event in STAYING_FIX_EVENTS:  # apply, decide, save script, a proposal: on any open fix
        assert FIX_MOVES[event].sources == set(FixStatus) - TERMINAL_FIX_STATUSES


@pytest.mark.parametrize(("status", "event"), list(product(FixStatus, FixEvent)))
def test_every_fix_pair_moves_as_declared_or_is_refused(status: FixStatus, event: FixEvent) -> None:
    move = FIX_MOVES[event]
    if status in move.sources:
        assert fix_allows(status, event)
        assert fix_move(status, event, fix_id=5) == (move.to or status)
        return
    assert not fix_allows(status, event)
    expected = IllegalTransition if move.to is not None else Conflict
    with pytest.raises(expected) as refused:
        fix_move(status, event, fix_id=5)
    params = refused.value.params
    if move.to is None:  # the events that keep the status refuse only a final fix
        assert status in TERMINAL_FIX_STATUSES and type(refused.value) is Conflict
        assert refused.value.reason == FINAL_OUTCOME and params["fix_id"] == 5 and params["status"] == status.value
    else:
        assert refused.value.reason == (FINAL_OUTCOME if status in TERMINAL_FIX_STATUSES else "fix.illegal_transition")
        assert params["status"] == status.value and params["outcome"] == move.to.value


@pytest.mark.parametrize(("status", "outcome"), list(product(FixStatus, FixStatus)))
def test_every_outcome_pair(status: FixStatus, outcome: FixStatus) -> None:
    if outcome in FIX_TRANSITIONS[status]:
        assert next_fix_status(status, outcome) == outcome
        return
    with pytest.raises(IllegalTransition) as refused:
        next_fix_status(status, outcome)
    if status in TERMINAL_FIX_STATUSES:
        assert refused.value.reason == FINAL_OUTCOME and "already has its final outcome" in refused.value.message
    else:
        assert refused.value.reason == "fix.illegal_transition"


@pytest.mark.parametrize("status", list(FixStatus))
def test_a_superseded_fix(status: FixStatus) -> None:
    """Apply: the final outcome is said first, then "superseded". Dismiss: "superseded" first."""
    with pytest.raises(Conflict) as applying:
        fix_move(status, FixEvent.APPLY, fix_id=3, superseded=True)
    assert applying.value.reason == (FINAL_OUTCOME if status in TERMINAL_FIX_STATUSES else "fix.superseded")
    with pytest.raises(Conflict) as dismissing:
        next_fix_status(status, F.DISMISSED, fix_id=3, superseded=True)
    assert dismissing.value.reason == "fix.dismiss_superseded" and dismissing.value.params == {"fix_id": 3}
    for event in (FixEvent.WORKED, FixEvent.DECIDE, FixEvent.SAVE_SCRIPT):  # as before: no superseded check
        if fix_allows(status, event):
            fix_move(status, event, superseded=True)


def test_outcome_rules_and_offers() -> None:
    assert outcome_rules(F.APPLIED_PARTIAL).notes_required and outcome_rules(F.APPLIED_PARTIAL).notes_into == "partial_notes"
    assert outcome_rules(F.APPLIED_FAILED).notes_into == "failure_reason" and outcome_rules(F.APPLIED_FAILED).verifies
    assert outcome_rules(F.APPLIED_SUCCESS).verifies and not outcome_rules(F.APPLIED_SUCCESS).notes_required
    assert outcome_rules(F.DISMISSED).supersedes and not outcome_rules(F.PROPOSED).supersedes
    for status in FixStatus:
        assert (fix_offers(status, applied=False) == ()) is (status in TERMINAL_FIX_STATUSES)
        assert FixEvent.APPLY not in fix_offers(status, applied=True)
        for event in FIX_OFFERS[status]:  # offered means legal
            assert fix_allows(status, event)
    assert fix_offers(F.PROPOSED, applied=True) == (FixEvent.WORKED, FixEvent.FAILED, FixEvent.PARTIAL, FixEvent.DISMISS)
    assert not fix_tried(F.PROPOSED, applied=False) and fix_tried(F.PROPOSED, applied=True) and fix_tried(F.DISMISSED, applied=False)


# --- handoffs and writebacks ---------------------------------------------------------------------

@pytest.mark.parametrize(("intent", "claimed", "status"), list(product(HandoffIntent, (False, True), SessionStatus)))
def test_handoff_state_and_rules(intent: HandoffIntent, claimed: bool, status: SessionStatus) -> None:
    state = handoff_state(intent=intent, claimed=claimed, session_status=status)
    expected = (HandoffState.PARK if intent == HandoffIntent.PARK else HandoffState.CLAIMED if claimed
                else HandoffState.AWAITING_PICKUP if status == S.ESCALATED else HandoffState.STALE)
    assert state is expected
    rules = handoff_rules(intent=intent, claimed=claimed, session_status=status)
    assert handoff_claimable(intent=intent, claimed=claimed, session_status=status) is rules.claimable
    assert rules.claimable is (state is HandoffState.AWAITING_PICKUP)
    assert rules.taken is rules.handler_only is (state is HandoffState.CLAIMED)  # R23 / R24


@pytest.mark.parametrize(("state", "event"), list(product(HandoffState, HandoffEvent)))
def test_every_handoff_pair(state: HandoffState, event: HandoffEvent) -> None:
    move = HANDOFF_MOVES[event]
    if state in move.sources:
        assert next_handoff_state(state, event) == move.to == HandoffState.CLAIMED
    else:
        with pytest.raises(IllegalTransition) as refused:
            next_handoff_state(state, event)
        assert refused.value.reason == "handoff.illegal_transition"


@pytest.mark.parametrize(("status", "event"), list(product(WritebackStatus, WritebackEvent)))
def test_every_writeback_pair(status: WritebackStatus, event: WritebackEvent) -> None:
    if (status, event) in WRITEBACK_TRANSITIONS:
        assert writeback_allows(status, event)
        assert next_writeback_status(status, event) == WRITEBACK_TRANSITIONS[(status, event)]
        return
    assert not writeback_allows(status, event)
    with pytest.raises(IllegalTransition) as refused:
        next_writeback_status(status, event)
    assert refused.value.reason == "writeback.illegal_transition"
    assert refused.value.params == {"event": event.value, "status": status.value}


def test_writeback_table() -> None:
    assert WRITEBACK_TRANSITIONS == {
        (W.PENDING, WritebackEvent.CLAIM): W.RUNNING, (W.RUNNING, WritebackEvent.CLAIM): W.RUNNING,
        (W.RUNNING, WritebackEvent.HAND_BACK): W.RUNNING, (W.RUNNING, WritebackEvent.DELIVER): W.DONE,
        (W.RUNNING, WritebackEvent.GIVE_UP): W.FAILED, (W.FAILED, WritebackEvent.RETRY): W.PENDING,
    }
    assert not any(src == W.DONE for src, _ in WRITEBACK_TRANSITIONS)  # R39: done once
    assert set(WRITEBACK_MOVES) == set(WritebackEvent)


# --- random event sequences ----------------------------------------------------------------------

@given(st.lists(st.sampled_from(list(SessionEvent)), max_size=30))
def test_session_machine_follows_the_table_and_resolved_is_final(events: list[SessionEvent]) -> None:
    status = S.ACTIVE
    for event in events:
        was = status
        try:
            status = next_session_status(status, event)
        except IllegalTransition:
            assert (was, event) not in SESSION_TRANSITIONS
            continue
        assert SESSION_TRANSITIONS[(was, event)] == status
        assert was != S.RESOLVED


class SessionMachine(RuleBasedStateMachine):
    """A session under random events, as the services drive it: a message resumes a parked
    session, a change needs an open session, every status move goes through the table."""

    def __init__(self) -> None:
        super().__init__()
        self.status = S.ACTIVE
        self.resolved_once = False

    @rule(event=st.sampled_from(list(SessionEvent)))
    def event(self, event: SessionEvent) -> None:
        was = self.status
        try:
            self.status = next_session_status(was, event)
        except IllegalTransition:
            assert was not in session_sources(event)
            return
        assert was != S.RESOLVED
        self.resolved_once |= self.status == S.RESOLVED

    @rule()
    def message(self) -> None:
        try:
            require_session_open(self.status, 1)
        except Conflict:
            assert not session_accepts_changes(self.status)
            return
        event = message_event(self.status)
        if event is not None:
            self.status = next_session_status(self.status, event)
        assert self.status == S.ACTIVE

    @invariant()
    def resolved_takes_no_change(self) -> None:
        assert self.resolved_once is (self.status == S.RESOLVED)
        if self.status == S.RESOLVED:
            assert session_is_final(self.status) and not session_accepts_changes(self.status)
            assert SESSION_RULES[self.status].offers == ()


class FixMachine(RuleBasedStateMachine):
    """A fix under random events, with the side effects fixes.py takes from the tables (a newer
    fix supersedes it; dismissing supersedes it; applying stamps applied)."""

    def __init__(self) -> None:
        super().__init__()
        self.status = F.PROPOSED
        self.superseded = False
        self.applied = False
        self.final: FixStatus | None = None

    def _try(self, event: FixEvent) -> None:
        was = self.status
        try:
            new = fix_move(was, event, superseded=self.superseded)
        except Conflict:
            return
        assert was not in TERMINAL_FIX_STATUSES
        assert new == (FIX_MOVES[event].to or was)
        self.status = new
        if event is FixEvent.APPLY:
            self.applied = True
        elif FIX_MOVES[event].to is not None:
            rules = outcome_rules(new)
            self.superseded |= rules.supersedes
            self.applied |= not rules.supersedes
        if self.status in TERMINAL_FIX_STATUSES:
            self.final = self.status

    @rule(event=st.sampled_from(list(FixEvent)))
    def event(self, event: FixEvent) -> None:
        self._try(event)

    @precondition(lambda self: not self.superseded)
    @rule()
    def newer_fix(self) -> None:
        self.superseded = True

    @invariant()
    def terminal_never_changes(self) -> None:
        if self.final is not None:
            assert self.status == self.final
            assert fix_offers(self.status, applied=self.applied) == ()
            assert not any(fix_allows(self.status, e) for e in FixEvent)

    @invariant()
    def dismissed_is_superseded_and_outcomes_applied(self) -> None:
        if self.status == F.DISMISSED:
            assert self.superseded
        if self.status in (F.APPLIED_SUCCESS, F.APPLIED_FAILED, F.APPLIED_PARTIAL):
            assert self.applied and fix_tried(self.status, applied=self.applied)


TestSessionMachine = SessionMachine.TestCase
TestFixMachine = FixMachine.TestCase
