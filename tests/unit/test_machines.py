"""Property tests of the session and fix state machines (R9, R10)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.errors import IllegalTransition
from core.machines import (
    FIX_TRANSITIONS,
    SESSION_TRANSITIONS,
    TERMINAL_FIX_STATUSES,
    SessionEvent,
    next_fix_status,
    next_session_status,
    session_sources,
)
from core.models import FixStatus, SessionStatus


@given(st.lists(st.sampled_from(list(SessionEvent)), max_size=30))
def test_session_machine_follows_the_table_and_resolved_is_final(events: list[SessionEvent]) -> None:
    status = SessionStatus.ACTIVE
    for event in events:
        was = status
        try:
            status = next_session_status(status, event)
        except IllegalTransition as exc:
            assert (was, event) not in SESSION_TRANSITIONS
            assert str(exc).startswith(f"Can't {event.value.replace('pickup', 'pick up')}:")
            assert exc.reason == "session.illegal_transition" and exc.params == {"event": event.value, "status": was.value}
            continue
        assert SESSION_TRANSITIONS[(was, event)] == status
        assert was != SessionStatus.RESOLVED
        assert was in session_sources(event)


@given(st.lists(st.sampled_from(list(FixStatus)), max_size=20))
def test_fix_outcomes_terminal_never_change(outcomes: list[FixStatus]) -> None:
    status = FixStatus.PROPOSED
    for outcome in outcomes:
        try:
            new = next_fix_status(status, outcome)
        except IllegalTransition:
            assert outcome not in FIX_TRANSITIONS[status]
            continue
        assert status not in TERMINAL_FIX_STATUSES
        assert status != FixStatus.APPLIED_PARTIAL or new in (FixStatus.APPLIED_SUCCESS, FixStatus.APPLIED_FAILED)
        status = new


def test_partial_moves_on_but_success_is_final() -> None:
    assert next_fix_status(FixStatus.APPLIED_PARTIAL, FixStatus.APPLIED_SUCCESS) == FixStatus.APPLIED_SUCCESS
    for terminal in TERMINAL_FIX_STATUSES:
        for outcome in FixStatus:
            try:
                next_fix_status(terminal, outcome)
            except IllegalTransition:
                continue
            raise AssertionError(f"{terminal} moved to {outcome}")
