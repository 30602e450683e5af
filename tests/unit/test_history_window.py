"""The assistant's history window: bounded, and its start moves only in chunks (R32 cache prefix)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.assistant.types import AssistantTurn
from core.turn_context import HISTORY_CHUNK, window_start
from tests.unit.conftest import World


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=HISTORY_CHUNK, max_value=200))
def test_window_is_bounded_and_chunk_aligned(total: int, window: int) -> None:
    start = window_start(total, window)
    assert start % HISTORY_CHUNK == 0 and 0 <= start <= total
    assert total - start <= window  # never more than the window
    assert total - start > window - HISTORY_CHUNK or start == 0  # never much less
    assert window_start(total + 1, window) in (start, start + HISTORY_CHUNK)  # moves only in chunks


async def test_a_long_session_sends_a_stable_window(world: World) -> None:
    assert world.engine.deps.settings.history_window == 40  # the default window
    actor = await world.member("Dana")
    posted = await world.engine.sessions.start(actor=actor, problem="Long session")
    sid = posted.session.id or 0
    for i in range(70):
        world.assistant.turns.append(AssistantTurn(reply=f"reply {i}"))
        await world.engine.sessions.post_message(actor=actor, session_id=sid, text=f"message {i}")
        await world.engine.turns.drain()
    firsts = [c.history[0].text for c in world.assistant.contexts[-10:]]
    lengths = [len(c.history) for c in world.assistant.contexts[-10:]]
    assert all(21 <= n <= 40 for n in lengths), lengths
    assert len(set(firsts)) <= 2  # the start moved at most once in ten turns
    assert world.assistant.contexts[-1].history[-1].text == "message 69"
