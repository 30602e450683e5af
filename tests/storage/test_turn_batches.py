"""The per-session turn batches (R37) on every backend, under real concurrency: a session's open
turns are claimed together and never while one of them runs; accounts are listed for fairness."""

from __future__ import annotations

import asyncio

from core.models import PendingTurn, Step, StepKind, TurnStatus
from core.ports import UnitOfWorkFactory
from tests.storage.scenario import World, add_step, add_turns, at, seed

CLAIMERS = 12


async def _other_session_turn(uow_factory: UnitOfWorkFactory, world: World, seconds: float) -> int:
    async with uow_factory() as uow:
        step = await uow.steps.add(Step(account_id=world.other_account, session_id=world.other_session,
                                        kind=StepKind.ENGINEER_MESSAGE, text="other", created_at=at(seconds),
                                        author_id=world.other_member))
        step_id = step.id or 0
        turn = await uow.turns.add(PendingTurn(account_id=world.other_account, session_id=world.other_session,
                                               step_id=step_id, created_at=at(seconds)))
        await uow.commit()
    assert turn.id is not None
    return turn.id


async def test_a_session_is_claimed_whole_by_exactly_one_of_many_claimers(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    ids = await add_turns(uow_factory, world, 3)

    async def claim(name: str) -> list[int]:
        async with uow_factory() as uow:
            batch = await uow.turns.claim_session(account_id=world.account, worker_id=name, now=at(10),
                                                  lease_until=at(40))
            await asyncio.sleep(0)
            await uow.commit()
        return [t.id or 0 for t in batch]

    results = await asyncio.gather(*(claim(f"w{n}") for n in range(CLAIMERS)))
    winners = [r for r in results if r]
    assert winners == [ids]  # one winner, all three turns, oldest first


async def test_a_running_session_waits_and_its_new_turns_coalesce_after(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    [first] = await add_turns(uow_factory, world, 1)
    other = await _other_session_turn(uow_factory, world, 0.5)
    async with uow_factory() as uow:
        assert await uow.turns.waiting_accounts(now=at(1)) == [world.account, world.other_account]
        batch = await uow.turns.claim_session(account_id=world.account, worker_id="w1", now=at(1), lease_until=at(30))
        assert [t.id for t in batch] == [first]
        await uow.commit()
    later = []
    async with uow_factory() as uow:  # two more messages while the first runs
        for n in (2, 3):
            step_id = await add_step(uow, world, f"more {n}", at(n))
            turn = await uow.turns.add(PendingTurn(account_id=world.account, session_id=world.session,
                                                   step_id=step_id, created_at=at(n)))
            later.append(turn.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.turns.waiting_accounts(now=at(4)) == [world.other_account]
        assert await uow.turns.claim_session(account_id=world.account, worker_id="w2", now=at(4),
                                             lease_until=at(30)) == []
        assert await uow.turns.renew(turn_ids=[first], worker_id="w1", lease_until=at(60))
        assert not await uow.turns.renew(turn_ids=[first], worker_id="w2", lease_until=at(90))
        assert await uow.turns.finish_batch(turn_ids=[first], worker_id="w1", status=TurnStatus.DONE, now=at(5))
        await uow.commit()
    async with uow_factory() as uow:
        batch = await uow.turns.claim_session(account_id=world.account, worker_id="w2", now=at(6), lease_until=at(30))
        assert [t.id for t in batch] == later
        assert [t.id for t in await uow.turns.claim_session(account_id=world.other_account, worker_id="w2",
                                                              now=at(6), lease_until=at(30))] == [other]
        await uow.commit()


async def test_an_expired_batch_is_retaken_with_newer_turns_and_the_old_owner_loses(
        uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    ids = await add_turns(uow_factory, world, 2)
    async with uow_factory() as uow:
        await uow.turns.claim_session(account_id=world.account, worker_id="w1", now=at(2), lease_until=at(10))
        await uow.commit()
    async with uow_factory() as uow:
        step_id = await add_step(uow, world, "after the crash", at(5))
        newer = await uow.turns.add(PendingTurn(account_id=world.account, session_id=world.session,
                                                step_id=step_id, created_at=at(5)))
        await uow.commit()
    async with uow_factory() as uow:
        batch = await uow.turns.claim_session(account_id=world.account, worker_id="w2", now=at(11), lease_until=at(40))
        assert [t.id for t in batch] == [*ids, newer.id]
        assert [t.attempts for t in batch] == [2, 2, 1]
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.turns.finish_batch(turn_ids=ids, worker_id="w1", status=TurnStatus.DONE, now=at(12))
    async with uow_factory() as uow:
        assert await uow.turns.finish_batch(turn_ids=[*ids, newer.id or 0], worker_id="w2", status=TurnStatus.DONE,
                                            now=at(13))
        await uow.commit()
        assert await uow.turns.count_open() == 0


async def test_cancel_ends_open_turns_and_the_worker_cannot_finish(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    ids = await add_turns(uow_factory, world, 2)
    async with uow_factory() as uow:
        await uow.turns.claim_session(account_id=world.account, worker_id="w1", now=at(2), lease_until=at(30))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.turns.cancel_open(account_id=world.other_account, session_id=world.session, now=at(3)) == []
        assert await uow.turns.cancel_open(account_id=world.account, session_id=world.session, now=at(3)) == ids
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.turns.finish_batch(turn_ids=ids, worker_id="w1", status=TurnStatus.DONE, now=at(4))
        turn = await uow.turns.get(account_id=world.account, turn_id=ids[0])
        assert turn is not None and turn.status is TurnStatus.CANCELLED
        assert await uow.turns.count_open() == 0
