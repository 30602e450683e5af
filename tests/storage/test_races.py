"""The race-safe statements under real concurrency: separate units of work, one task each."""

from __future__ import annotations

import asyncio

from core.models import TurnStatus
from core.ports import UnitOfWorkFactory
from tests.storage.scenario import T0, add_escalation, add_turns, at, seed

CONCURRENCY = 20


async def test_concurrent_bumps_each_count(uow_factory: UnitOfWorkFactory) -> None:
    """R1: 20 bumps in 20 transactions end at exactly +20, each seeing a distinct version."""
    world = await seed(uow_factory)

    async def bump() -> int:
        async with uow_factory() as uow:
            session = await uow.sessions.get(account_id=world.account, session_id=world.session)
            assert session is not None
            await asyncio.sleep(0)
            version = await uow.sessions.bump_state_version(
                account_id=world.account, session_id=world.session
            )
            assert session.state_version == version
            await asyncio.sleep(0)
            await uow.commit()
            return version

    versions = await asyncio.gather(*(bump() for _ in range(CONCURRENCY)))
    assert sorted(versions) == list(range(1, CONCURRENCY + 1))
    async with uow_factory() as uow:
        session = await uow.sessions.get(account_id=world.account, session_id=world.session)
        assert session is not None and session.state_version == CONCURRENCY


async def test_concurrent_pickups_have_exactly_one_winner(uow_factory: UnitOfWorkFactory) -> None:
    """R23: of 20 simultaneous claims one wins; every loser then sees who has it."""
    world = await seed(uow_factory, seniors=CONCURRENCY)
    async with uow_factory() as uow:
        handoff_id = await add_escalation(uow, world)
        await uow.commit()

    async def claim(member_id: int) -> tuple[int, bool, int | None]:
        async with uow_factory() as uow:
            handoff = await uow.handoffs.get(account_id=world.account, handoff_id=handoff_id)
            assert handoff is not None
            await asyncio.sleep(0)
            won = await uow.handoffs.claim(
                account_id=world.account, handoff_id=handoff_id, member_id=member_id, now=at(5)
            )
            await asyncio.sleep(0)
            await uow.commit()
            return member_id, won, handoff.claimed_by

    results = await asyncio.gather(*(claim(m) for m in world.seniors))
    winners = [member for member, won, _ in results if won]
    assert len(winners) == 1
    assert {seen for _, _, seen in results} == {winners[0]}
    async with uow_factory() as uow:
        handoff = await uow.handoffs.get(account_id=world.account, handoff_id=handoff_id)
        assert handoff is not None
        assert (handoff.claimed_by, handoff.claimed_at) == (winners[0], at(5))
        name = await uow.handoffs.claimant_name(account_id=world.account, session_id=world.session)
        assert name == f"Senior {world.seniors.index(winners[0])}"
        assert await uow.handoffs.claimant_name(account_id=world.other_account, session_id=world.session) is None


async def test_claimant_name_is_none_until_claimed(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        assert await uow.handoffs.claimant_name(account_id=world.account, session_id=world.session) is None
        await add_escalation(uow, world)
        assert await uow.handoffs.claimant_name(account_id=world.account, session_id=world.session) is None


async def test_workers_never_take_the_same_turn(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    turn_ids = await add_turns(uow_factory, world, 6)

    async def worker(name: str) -> list[int]:
        taken: list[int] = []
        while True:
            async with uow_factory() as uow:
                turn = await uow.turns.claim_next(worker_id=name, now=at(100), lease_until=at(160))
                await asyncio.sleep(0)
                await uow.commit()
            if turn is None:
                return taken
            assert (turn.status, turn.lease_owner, turn.attempts) == (TurnStatus.RUNNING, name, 1)
            assert turn.id is not None
            taken.append(turn.id)

    first, second = await asyncio.gather(worker("w1"), worker("w2"))
    assert sorted(first + second) == sorted(turn_ids)
    assert not set(first) & set(second)
    assert first == sorted(first) and second == sorted(second)  # oldest first


async def test_an_expired_lease_lets_another_worker_take_over(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    [turn_id] = await add_turns(uow_factory, world, 1)
    async with uow_factory() as uow:
        turn = await uow.turns.claim_next(worker_id="w1", now=at(10), lease_until=at(40))
        assert turn is not None and turn.id == turn_id
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.turns.claim_next(worker_id="w2", now=at(39), lease_until=at(99)) is None
        assert await uow.turns.count_open() == 1
        retaken = await uow.turns.claim_next(worker_id="w2", now=at(41), lease_until=at(99))
        assert retaken is not None and retaken.id == turn_id
        assert (retaken.lease_owner, retaken.attempts, retaken.lease_until) == ("w2", 2, at(99))
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.turns.finish(turn_id=turn_id, worker_id="w1", status="done", now=at(50))
        assert await uow.turns.finish(turn_id=turn_id, worker_id="w2", status="done", now=at(51))
        assert not await uow.turns.finish(turn_id=turn_id, worker_id="w2", status="failed", now=at(52))
        await uow.commit()
    async with uow_factory() as uow:
        done = await uow.turns.get(account_id=world.account, turn_id=turn_id)
        assert done is not None
        assert (done.status, done.finished_at, done.error) == (TurnStatus.DONE, at(51), None)
        assert await uow.turns.count_open() == 0
        assert await uow.turns.claim_next(worker_id="w3", now=at(500), lease_until=at(600)) is None


async def test_finish_refuses_non_owners_and_can_hand_a_turn_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    [turn_id] = await add_turns(uow_factory, world, 1)
    async with uow_factory() as uow:
        loaded = await uow.turns.get(account_id=world.account, turn_id=turn_id)
        assert loaded is not None and loaded.status is TurnStatus.PENDING
        assert not await uow.turns.finish(turn_id=turn_id, worker_id="w1", status="done", now=T0)
        assert await uow.turns.claim_next(worker_id="w1", now=at(1), lease_until=at(30)) is loaded
        assert not await uow.turns.finish(turn_id=turn_id, worker_id="intruder", status="done", now=at(2))
        assert loaded.status is TurnStatus.RUNNING
        assert await uow.turns.finish(
            turn_id=turn_id, worker_id="w1", status="pending", now=at(3), error="assistant timeout"
        )
        assert (loaded.status, loaded.lease_owner, loaded.error) == (
            TurnStatus.PENDING, None, "assistant timeout",
        )  # fmt: skip
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.turns.claim_next(worker_id="w2", now=at(4), lease_until=at(30))
        assert again is not None and (again.id, again.attempts) == (turn_id, 2)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.turns.finish(
            turn_id=turn_id, worker_id="w2", status="failed", now=at(5), error="gave up"
        )
        await uow.commit()
    async with uow_factory() as uow:
        failed = await uow.turns.get(account_id=world.account, turn_id=turn_id)
        assert failed is not None and (failed.status, failed.error) == (TurnStatus.FAILED, "gave up")


async def test_a_rolled_back_claim_releases_the_turn(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    [turn_id] = await add_turns(uow_factory, world, 1)
    async with uow_factory() as uow:
        assert await uow.turns.claim_next(worker_id="w1", now=at(1), lease_until=at(30)) is not None
    async with uow_factory() as uow:
        turn = await uow.turns.claim_next(worker_id="w2", now=at(2), lease_until=at(30))
        assert turn is not None and (turn.id, turn.attempts, turn.lease_owner) == (turn_id, 1, "w2")
