"""The inbox by thread (R37): one thread's deliveries are handled one at a time, in arrival order,
while other threads' are claimed alongside; deliveries without a thread key are never held up."""

from __future__ import annotations

import asyncio

from core.platform import InboundDelivery, InboundStatus
from core.ports import UnitOfWorkFactory
from tests.storage.scenario import at


async def _accept(uow_factory: UnitOfWorkFactory, *deliveries: tuple[str, str | None]) -> None:
    async with uow_factory() as uow:
        for n, (key, thread) in enumerate(deliveries):
            await uow.inbound.accept(InboundDelivery(platform="slack", key=key, payload={}, created_at=at(n),
                                                     thread_key=thread))
        await uow.commit()


async def _claim(uow_factory: UnitOfWorkFactory, worker: str, now: float = 10) -> InboundDelivery | None:
    async with uow_factory() as uow:
        delivery = await uow.inbound.claim_next(worker_id=worker, now=at(now), lease_until=at(now + 30))
        await uow.commit()
    return delivery


async def test_a_thread_waits_for_its_oldest_delivery_while_others_go(uow_factory: UnitOfWorkFactory) -> None:
    await _accept(uow_factory, ("a1", "T-a"), ("a2", "T-a"), ("b1", "T-b"), ("x", None))
    claimed = await asyncio.gather(*(_claim(uow_factory, f"w{n}") for n in range(6)))
    keys = sorted(d.key for d in claimed if d is not None)
    assert keys == ["a1", "b1", "x"]  # a2 waits behind a1
    first = next(d for d in claimed if d is not None and d.key == "a1")
    assert await _claim(uow_factory, "w9") is None
    async with uow_factory() as uow:
        assert await uow.inbound.finish(delivery_id=first.id or 0, worker_id=first.lease_owner or "",
                                        status=InboundStatus.DONE, now=at(11))
        await uow.commit()
    after = await _claim(uow_factory, "w9", now=12)
    assert after is not None and after.key == "a2"


async def test_a_dead_workers_delivery_is_retaken_before_the_next_of_its_thread(uow_factory: UnitOfWorkFactory) -> None:
    await _accept(uow_factory, ("a1", "T-a"), ("a2", "T-a"))
    first = await _claim(uow_factory, "w1", now=10)
    assert first is not None and first.key == "a1"
    assert await _claim(uow_factory, "w2", now=20) is None  # a1's lease still runs
    again = await _claim(uow_factory, "w2", now=41)
    assert again is not None and (again.key, again.attempts) == ("a1", 2)


async def test_a_renewed_lease_keeps_a_delivery_and_only_its_holder_renews(uow_factory: UnitOfWorkFactory) -> None:
    await _accept(uow_factory, ("r1", "T-r"))
    held = await _claim(uow_factory, "w1", now=10)  # lease until 40
    assert held is not None
    async with uow_factory() as uow:
        assert await uow.inbound.renew_lease(entity_id=held.id or 0, worker_id="w1", lease_until=at(70))
        assert not await uow.inbound.renew_lease(entity_id=held.id or 0, worker_id="w2", lease_until=at(500))
        await uow.commit()
    assert await _claim(uow_factory, "w2", now=50) is None  # past the first lease, within the renewed one
    taken = await _claim(uow_factory, "w2", now=71)
    assert taken is not None and taken.key == "r1"
    async with uow_factory() as uow:  # the old holder lost it: its renewal now fails
        assert not await uow.inbound.renew_lease(entity_id=held.id or 0, worker_id="w1", lease_until=at(200))
