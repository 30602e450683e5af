"""R25: the in-process bus fans out per account, drops for slow subscribers, never blocks or raises."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from core.bus import InMemoryBus


async def test_every_subscriber_of_the_account_gets_the_event() -> None:
    bus = InMemoryBus()
    first, second = bus.subscribe(1), bus.subscribe(1)
    await bus.publish(1, {"type": "escalation_created", "handoff_id": 9})
    assert await first.get(timeout=1) == {"type": "escalation_created", "handoff_id": 9}
    assert await second.get(timeout=1) == {"type": "escalation_created", "handoff_id": 9}


async def test_accounts_are_isolated() -> None:
    bus = InMemoryBus()
    mine, theirs = bus.subscribe(1), bus.subscribe(2)
    await bus.publish(2, {"type": "escalation_claimed"})
    assert await mine.get(timeout=0.05) is None
    assert await theirs.get(timeout=1) == {"type": "escalation_claimed"}


async def test_a_full_queue_drops_for_that_subscriber_only() -> None:
    bus = InMemoryBus()
    slow, fast = bus.subscribe(1, max_queue=2), bus.subscribe(1, max_queue=10)
    for n in range(5):
        await bus.publish(1, {"n": n})
    assert slow.dropped == 3 and fast.dropped == 0
    assert [await slow.get(timeout=1) for _ in range(2)] == [{"n": 0}, {"n": 1}]
    assert await slow.get(timeout=0.05) is None
    assert [(await fast.get(timeout=1) or {}).get("n") for _ in range(5)] == [0, 1, 2, 3, 4]


async def test_publish_never_blocks_on_a_full_queue() -> None:
    bus = InMemoryBus()
    sub = bus.subscribe(1, max_queue=1)
    await asyncio.wait_for(asyncio.gather(*(bus.publish(1, {"n": n}) for n in range(1000))), timeout=1)
    assert sub.dropped == 999


async def test_publish_never_raises_on_a_bad_event() -> None:
    bus = InMemoryBus()
    sub = bus.subscribe(1)
    await bus.publish(1, {"self": float("nan"), "loop": object()})  # odd values become strings
    await bus.publish(1, ["not", "an", "object"])  # type: ignore[arg-type]
    got = await sub.get(timeout=1)
    assert got is not None and isinstance(got["loop"], str)
    assert await sub.get(timeout=0.05) is None


async def test_events_are_json_copies() -> None:
    bus = InMemoryBus()
    first, second = bus.subscribe(1), bus.subscribe(1)
    event = {"at": datetime(2026, 11, 2, 9, 0, tzinfo=UTC), "ids": (1, 2)}
    await bus.publish(1, event)
    a, b = await first.get(timeout=1), await second.get(timeout=1)
    assert a == {"at": "2026-11-02T09:00:00+00:00", "ids": [1, 2]}
    assert a is not None and b is not None
    a["ids"].append(3)
    assert b["ids"] == [1, 2]


async def test_close_wakes_a_waiting_reader_and_unsubscribes() -> None:
    bus = InMemoryBus()
    sub = bus.subscribe(1)
    waiter = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    sub.close()
    assert await asyncio.wait_for(waiter, 1) is None
    assert bus.subscriber_count(1) == 0
    await bus.publish(1, {"late": True})
    assert await sub.get(timeout=0.01) is None


async def test_subscription_as_context_manager_and_bus_close() -> None:
    bus = InMemoryBus()
    with bus.subscribe(1) as sub:
        assert bus.subscriber_count() == 1
    assert sub.closed and bus.subscriber_count() == 0
    other = bus.subscribe(3)
    await bus.close()
    assert other.closed


@settings(max_examples=60, deadline=None)
@given(
    max_queue=st.integers(1, 8),
    actions=st.lists(st.sampled_from(["publish", "get"]), max_size=40),
)
def test_queue_model(max_queue: int, actions: list[str]) -> None:
    """Delivered + dropped always equals published, and order is kept (a model-based check)."""

    async def run() -> None:
        bus = InMemoryBus()
        sub = bus.subscribe(5, max_queue=max_queue)
        published, received, queued = 0, [], 0
        for action in actions:
            if action == "publish":
                await bus.publish(5, {"n": published})
                published += 1
                queued = min(queued + 1, max_queue)
            else:
                event = await sub.get(timeout=0.001)
                assert (event is None) == (queued == 0)
                if event is not None:
                    received.append(event["n"])
                    queued -= 1
        assert received == sorted(received)
        assert len(received) + queued + sub.dropped == published

    asyncio.run(run())
