"""InboxService (R36): stored before the ack, deduplicated, processed once by a worker, retried a
few times, pruned after an hour. Real service over the in-memory unit of work and the FakeClock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from core.inbox import LEASE_SECONDS, MAX_ATTEMPTS, InboxService
from core.platform import InboundDelivery, InboundStatus
from tests.unit.conftest import World


class Recorder:
    """A platform handler that records what it was given and fails the first `failures` times."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.seen: list[tuple[str, dict[str, Any], int]] = []

    async def __call__(self, delivery: InboundDelivery) -> None:
        self.seen.append((delivery.key, dict(delivery.payload), delivery.attempts))
        if len(self.seen) <= self.failures:
            raise RuntimeError(f"boom {len(self.seen)}")


def inbox(world: World) -> InboxService:
    return world.engine.inbox


async def stored(world: World, key: str, platform: str = "slack") -> InboundDelivery:
    async with world.engine.deps.uow_factory() as uow:
        rows = [r for r in world.store.rows[InboundDelivery].values()
                if (r["platform"], r["key"]) == (platform, key)]  # fmt: skip
        assert len(rows) == 1, rows
        found = await uow.inbound.get(delivery_id=rows[0]["id"])
        assert found is not None
        return found


HOUR = 3600.0  # how long finished deliveries are kept for dedupe (Slack retries for ~5 minutes)


def keys(world: World) -> list[str]:
    return sorted(r["key"] for r in world.store.rows[InboundDelivery].values())


# ---- accept -----------------------------------------------------------------------------------


async def test_accept_stores_once_per_platform_and_key(world: World) -> None:
    box = inbox(world)
    assert await box.accept(platform="slack", key="Ev1", payload={"n": 1}) is True
    assert await box.accept(platform="slack", key="Ev1", payload={"n": 2}) is False  # Slack's retry
    assert await box.accept(platform="teams", key="Ev1", payload={"n": 3}) is True  # another platform
    assert await box.accept(platform="slack", key="Ev2", payload={"n": 4}) is True
    assert len(world.store.rows[InboundDelivery]) == 3
    first = await stored(world, "Ev1")
    assert first.payload == {"n": 1}  # the retry did not overwrite it
    assert first.status == InboundStatus.PENDING and first.attempts == 0
    assert first.created_at == world.clock.now()


async def test_a_retry_after_processing_is_still_ignored(world: World) -> None:
    box = inbox(world)
    handler = Recorder()
    box.register("slack", handler)
    await box.accept(platform="slack", key="Ev1", payload={})
    await box.drain()
    assert await box.accept(platform="slack", key="Ev1", payload={}) is False
    assert await box.run_once() is None
    assert len(handler.seen) == 1


# ---- run_once ---------------------------------------------------------------------------------


async def test_run_once_with_nothing_waiting_returns_none(world: World) -> None:
    box = inbox(world)
    box.register("slack", Recorder())
    assert await box.run_once() is None


async def test_run_once_runs_the_platforms_handler_and_finishes_done(world: World) -> None:
    box = inbox(world)
    slack, teams = Recorder(), Recorder()
    box.register("slack", slack)
    box.register("teams", teams)
    await box.accept(platform="slack", key="Ev1", payload={"text": "hi"})
    processed = await box.run_once()
    assert processed is not None
    assert (processed.platform, processed.status, processed.error) == ("slack", InboundStatus.DONE, None)
    assert slack.seen == [("Ev1", {"text": "hi"}, 1)]
    assert teams.seen == []
    row = await stored(world, "Ev1")
    assert row.id == processed.delivery_id
    assert row.status == InboundStatus.DONE
    assert row.finished_at == world.clock.now()
    assert row.lease_owner == box.worker_id
    assert await box.run_once() is None  # processed once


async def test_the_handler_runs_outside_the_claiming_transaction(world: World) -> None:
    """The claim is committed before the handler runs: the handler can open its own unit of work
    (a nested one holding the row would deadlock) and already sees the delivery as running."""
    box = inbox(world)
    seen: list[tuple[InboundStatus, str | None]] = []

    async def handler(delivery: InboundDelivery) -> None:
        async with world.engine.deps.uow_factory() as uow:
            row = await uow.inbound.get(delivery_id=delivery.id or 0)
            assert row is not None
            seen.append((row.status, row.lease_owner))

    box.register("slack", handler)
    await box.accept(platform="slack", key="Ev1", payload={})
    processed = await box.run_once()
    assert processed is not None and processed.status == InboundStatus.DONE
    assert seen == [(InboundStatus.RUNNING, box.worker_id)]


async def test_oldest_delivery_first(world: World) -> None:
    box = inbox(world)
    handler = Recorder()
    box.register("slack", handler)
    for key in ("first", "second", "third"):
        await box.accept(platform="slack", key=key, payload={})
        world.clock.advance(1)
    done = await box.drain()
    assert [p.status for p in done] == [InboundStatus.DONE] * 3
    assert [key for key, _, _ in handler.seen] == ["first", "second", "third"]


async def test_a_failing_handler_gets_the_delivery_back_until_max_attempts(world: World) -> None:
    box = inbox(world)
    handler = Recorder(failures=10)
    box.register("slack", handler)
    await box.accept(platform="slack", key="Ev1", payload={"x": 1})
    statuses = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        processed = await box.run_once()
        assert processed is not None
        statuses.append(processed.status)
        assert processed.error == f"RuntimeError: boom {attempt}"
        row = await stored(world, "Ev1")
        assert row.attempts == attempt
        assert row.error == processed.error
    assert statuses == [InboundStatus.PENDING] * (MAX_ATTEMPTS - 1) + [InboundStatus.FAILED]
    assert (await stored(world, "Ev1")).status == InboundStatus.FAILED
    assert (await stored(world, "Ev1")).finished_at == world.clock.now()
    assert await box.run_once() is None  # failed for good: not handed out again
    assert [attempts for _, _, attempts in handler.seen] == list(range(1, MAX_ATTEMPTS + 1))


async def test_a_handler_that_recovers_finishes_done(world: World) -> None:
    box = inbox(world)
    handler = Recorder(failures=1)
    box.register("slack", handler)
    await box.accept(platform="slack", key="Ev1", payload={})
    done = await box.drain()
    assert [p.status for p in done] == [InboundStatus.PENDING, InboundStatus.DONE]
    assert (await stored(world, "Ev1")).status == InboundStatus.DONE
    assert len(handler.seen) == 2


async def test_a_failed_delivery_does_not_block_the_next(world: World) -> None:
    box = inbox(world)
    handler = Recorder(failures=MAX_ATTEMPTS)
    box.register("slack", handler)
    await box.accept(platform="slack", key="bad", payload={})
    world.clock.advance(1)
    await box.accept(platform="slack", key="good", payload={})
    await box.drain()
    assert (await stored(world, "bad")).status == InboundStatus.FAILED
    assert (await stored(world, "good")).status == InboundStatus.DONE


async def test_no_handler_for_the_platform_fails_the_delivery(world: World) -> None:
    box = inbox(world)
    box.register("slack", Recorder())
    await box.accept(platform="teams", key="A1", payload={})
    processed = await box.run_once()
    assert processed is not None
    assert processed.status == InboundStatus.FAILED
    assert processed.error == "no handler for teams"
    row = await stored(world, "A1", platform="teams")
    assert (row.status, row.error, row.attempts) == (InboundStatus.FAILED, "no handler for teams", 1)
    assert await box.run_once() is None


async def test_a_running_delivery_is_not_handed_to_a_second_worker(world: World) -> None:
    """While one worker's handler is slow (within its lease), another replica finds nothing."""
    box, other = inbox(world), InboxService(world.engine.deps)
    other.register("slack", Recorder())
    stolen: list[object] = []

    async def slow(delivery: InboundDelivery) -> None:
        world.clock.advance(LEASE_SECONDS - 5)
        stolen.append(await other.run_once())

    box.register("slack", slow)
    await box.accept(platform="slack", key="Ev1", payload={})
    processed = await box.run_once()
    assert stolen == [None]
    assert processed is not None and processed.status == InboundStatus.DONE
    assert (await stored(world, "Ev1")).attempts == 1


async def test_a_delivery_whose_worker_died_is_taken_again_after_the_lease(world: World) -> None:
    """Nothing is lost to a crash after the ack: another worker claims it once the lease lapses."""
    box = inbox(world)
    handler = Recorder()
    box.register("slack", handler)
    await box.accept(platform="slack", key="Ev1", payload={})
    now = world.clock.now()
    async with world.engine.deps.uow_factory() as uow:  # a worker that claims, then crashes
        claimed = await uow.inbound.claim_next(worker_id="dead", now=now,
                                               lease_until=now + timedelta(seconds=LEASE_SECONDS))
        assert claimed is not None
        await uow.commit()
    world.clock.advance(LEASE_SECONDS - 1)
    assert await box.run_once() is None  # still leased
    assert handler.seen == []
    world.clock.advance(2)
    processed = await box.run_once()
    assert processed is not None and processed.status == InboundStatus.DONE
    assert handler.seen == [("Ev1", {}, 2)]


# ---- prune ------------------------------------------------------------------------------------


async def test_prune_drops_finished_deliveries_after_an_hour_only(world: World) -> None:
    box = inbox(world)
    box.register("slack", Recorder(failures=MAX_ATTEMPTS))  # the first delivery fails for good
    await box.accept(platform="slack", key="failed", payload={})
    await box.drain()
    world.clock.advance(1)
    box.register("slack", Recorder())
    await box.accept(platform="slack", key="done", payload={})
    await box.drain()
    await box.accept(platform="teams", key="waiting", payload={})  # never processed: stays pending
    world.clock.advance(HOUR - 2)
    assert await box.prune() == 0
    assert keys(world) == ["done", "failed", "waiting"]
    world.clock.advance(1.5)  # "failed" is now older than an hour, "done" not quite
    assert await box.prune() == 1
    assert keys(world) == ["done", "waiting"]
    world.clock.advance(3600 * 24)
    assert await box.prune() == 1
    assert keys(world) == ["waiting"]
    assert (await stored(world, "waiting", platform="teams")).status == InboundStatus.PENDING


async def test_after_pruning_the_same_key_is_accepted_again(world: World) -> None:
    box = inbox(world)
    box.register("slack", Recorder())
    await box.accept(platform="slack", key="Ev1", payload={})
    await box.drain()
    world.clock.advance(HOUR + 1)
    assert await box.prune() == 1
    assert await box.accept(platform="slack", key="Ev1", payload={}) is True


# ---- the worker loop --------------------------------------------------------------------------


async def test_run_forever_is_woken_by_accept(world: World) -> None:
    """A fresh delivery wakes the idle worker at once instead of after the poll interval."""
    box = inbox(world)
    handled = asyncio.Event()

    async def handler(delivery: InboundDelivery) -> None:
        handled.set()

    box.register("slack", handler)
    stop = asyncio.Event()
    worker = asyncio.create_task(box.run_forever(stop, poll_seconds=30))
    try:
        await asyncio.sleep(0.05)  # the worker found nothing and is asleep
        assert await box.accept(platform="slack", key="Ev1", payload={})
        await asyncio.wait_for(handled.wait(), timeout=2)
        for _ in range(100):  # the worker finishes the delivery right after the handler returns
            if (await stored(world, "Ev1")).status == InboundStatus.DONE:
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        worker.cancel()
        with pytest.raises(asyncio.CancelledError):
            await worker
    assert (await stored(world, "Ev1")).status == InboundStatus.DONE


async def test_a_slow_handler_keeps_its_delivery_by_renewing_the_lease() -> None:
    """Real time here: the lease (0.3 s) runs out three times over while the handler works, and no
    other worker takes the delivery, because the lease is renewed; once done it is done once."""
    from core.bus import InMemoryBus
    from core.deps import Deps
    from tests.fakes.memory_uow import MemoryStore, memory_uow_factory
    from tests.fakes.scripted_assistant import ScriptedAssistant

    deps = Deps(uow_factory=memory_uow_factory(MemoryStore()), bus=InMemoryBus(), assistant=ScriptedAssistant())
    working, other = InboxService(deps, lease_seconds=0.3), InboxService(deps, lease_seconds=0.3)
    calls: list[str] = []

    async def slow(delivery: InboundDelivery) -> None:
        calls.append(delivery.key)
        await asyncio.sleep(1.0)

    working.register("slack", slow)
    other.register("slack", slow)
    await working.accept(platform="slack", key="Ev-slow", payload={})
    first = asyncio.create_task(working.run_once())
    await asyncio.sleep(0.5)  # past the first lease
    assert await other.run_once() is None  # not taken over: the lease was renewed
    done = await first
    assert done is not None and done.status == InboundStatus.DONE and calls == ["Ev-slow"]
    assert await other.run_once() is None
