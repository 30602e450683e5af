"""The PSA writeback outbox (R17, R19, R20) and the per-account ConnectWise connection, on every
backend: scoping (R35), the idempotency key, the lease queue shared with assistant turns, and
`put` replacing an account's one connection."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.errors import Conflict
from core.models import PsaConnection, TurnStatus, WritebackStatus, WriteupKind
from core.ports import UnitOfWorkFactory
from tests.storage.scenario import (
    T0,
    World,
    add_turns,
    add_writeback,
    add_writebacks,
    at,
    seed,
)

WORKERS = 3


async def test_writebacks_are_scoped_found_by_key_and_listed_oldest_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        late = await add_writeback(uow, account_id=world.account, session_id=world.session,
                                   member_id=world.engineer, key="resolve:late", created_at=at(20))  # fmt: skip
        early = await add_writeback(uow, account_id=world.account, session_id=world.session,
                                    member_id=world.engineer, key="resolve:early", created_at=at(10))  # fmt: skip
        theirs = await add_writeback(uow, account_id=world.other_account, session_id=world.other_session,
                                     member_id=world.other_member, key="resolve:late", created_at=at(5))  # fmt: skip
        await uow.commit()
    a, b = world.account, world.other_account
    async with uow_factory() as uow:
        listed = await uow.writebacks.list(account_id=a, session_id=world.session)
        assert [w.id for w in listed] == [early, late]
        assert await uow.writebacks.list(account_id=b, session_id=world.session) == []
        found = await uow.writebacks.find_by_key(account_id=a, idempotency_key="resolve:late")
        assert found is not None and found.id == late
        assert found is listed[1]  # one object per row inside a unit of work
        other = await uow.writebacks.find_by_key(account_id=b, idempotency_key="resolve:late")
        assert other is not None and other.id == theirs
        assert await uow.writebacks.find_by_key(account_id=b, idempotency_key="resolve:early") is None
        assert await uow.writebacks.get(account_id=b, writeback_id=late) is None
        assert await uow.writebacks.get(account_id=a, writeback_id=theirs) is None
        assert await uow.writebacks.count_open(account_id=a) == 2
        assert await uow.writebacks.count_open(account_id=b) == 1
        assert await uow.writebacks.count_open() == 3
        stored = await uow.writebacks.get(account_id=a, writeback_id=early)
        assert stored is not None
        assert (stored.kind, stored.status, stored.attempts, stored.created_at) == (
            WriteupKind.RESOLVE, WritebackStatus.PENDING, 0, at(10),
        )  # fmt: skip
        assert stored.kind is WriteupKind.RESOLVE and stored.status is WritebackStatus.PENDING
        assert (stored.lease_owner, stored.finished_at, stored.external_note_id) == (None, None, None)


async def test_a_repeated_idempotency_key_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    """R19: the same writeup never gets two outbox rows, whether added in one unit or two."""
    world = await seed(uow_factory)
    [first] = await add_writebacks(uow_factory, world, 1)
    for same_unit in (False, True):
        with pytest.raises(Conflict):
            async with uow_factory() as uow:
                if same_unit:
                    await add_writeback(uow, account_id=world.account, session_id=world.session,
                                        member_id=world.engineer, key="escalate:7")  # fmt: skip
                    await add_writeback(uow, account_id=world.account, session_id=world.session,
                                        member_id=world.engineer, key="escalate:7")  # fmt: skip
                else:
                    await add_writeback(uow, account_id=world.account, session_id=world.session,
                                        member_id=world.engineer, key="resolve:0")  # fmt: skip
                await uow.commit()
    async with uow_factory() as uow:  # nothing half-written; the original is intact
        listed = await uow.writebacks.list(account_id=world.account, session_id=world.session)
        assert [w.id for w in listed] == [first]
        assert await uow.writebacks.find_by_key(account_id=world.account, idempotency_key="escalate:7") is None
        assert len(await uow.writeups.list(account_id=world.account, session_id=world.session)) == 1


async def test_workers_never_take_the_same_writeback(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    ids = await add_writebacks(uow_factory, world, 7)

    async def worker(name: str) -> list[int]:
        taken: list[int] = []
        while True:
            async with uow_factory() as uow:
                wb = await uow.writebacks.claim_next(worker_id=name, now=at(100), lease_until=at(160))
                await asyncio.sleep(0)
                await uow.commit()
            if wb is None:
                return taken
            assert (wb.status, wb.lease_owner, wb.attempts) == (WritebackStatus.RUNNING, name, 1)
            assert wb.lease_until == at(160) and wb.id is not None
            taken.append(wb.id)

    results = await asyncio.gather(*(worker(f"w{n}") for n in range(WORKERS)))
    every = [wb_id for taken in results for wb_id in taken]
    assert sorted(every) == sorted(ids) and len(set(every)) == len(every)
    assert all(taken == sorted(taken) for taken in results)  # oldest first
    async with uow_factory() as uow:
        assert await uow.writebacks.count_open() == len(ids)  # running still counts as open


async def test_an_expired_writeback_lease_lets_another_worker_take_over(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    [wb_id] = await add_writebacks(uow_factory, world, 1)
    async with uow_factory() as uow:
        wb = await uow.writebacks.claim_next(worker_id="w1", now=at(10), lease_until=at(40))
        assert wb is not None and wb.id == wb_id
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.writebacks.claim_next(worker_id="w2", now=at(40), lease_until=at(99)) is None
        retaken = await uow.writebacks.claim_next(worker_id="w2", now=at(41), lease_until=at(99))
        assert retaken is not None and retaken.id == wb_id
        assert (retaken.lease_owner, retaken.attempts, retaken.lease_until) == ("w2", 2, at(99))
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.writebacks.finish(writeback_id=wb_id, worker_id="w1", status="done", now=at(50))
        loaded = await uow.writebacks.get(account_id=world.account, writeback_id=wb_id)
        assert loaded is not None
        loaded.external_note_id, loaded.outcome, loaded.actual_status = "901", "resolved", "Closed"
        assert await uow.writebacks.finish(writeback_id=wb_id, worker_id="w2", status="done", now=at(51))
        assert (loaded.status, loaded.finished_at, loaded.lease_owner) == (WritebackStatus.DONE, at(51), "w2")
        assert not await uow.writebacks.finish(writeback_id=wb_id, worker_id="w2", status="failed", now=at(52))
        await uow.commit()
    async with uow_factory() as uow:
        done = await uow.writebacks.get(account_id=world.account, writeback_id=wb_id)
        assert done is not None
        assert (done.status, done.finished_at, done.attempts) == (WritebackStatus.DONE, at(51), 2)
        assert (done.external_note_id, done.outcome, done.actual_status) == ("901", "resolved", "Closed")
        assert await uow.writebacks.count_open() == 0
        assert await uow.writebacks.claim_next(worker_id="w3", now=at(900), lease_until=at(999)) is None


async def test_finish_refuses_non_owners_and_pending_hands_the_writeback_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    [wb_id] = await add_writebacks(uow_factory, world, 1)
    async with uow_factory() as uow:
        loaded = await uow.writebacks.get(account_id=world.account, writeback_id=wb_id)
        assert loaded is not None
        assert not await uow.writebacks.finish(writeback_id=wb_id, worker_id="w1", status="done", now=T0)
        assert await uow.writebacks.claim_next(worker_id="w1", now=at(1), lease_until=at(30)) is loaded
        assert not await uow.writebacks.finish(writeback_id=wb_id, worker_id="intruder", status="done", now=at(2))
        assert (loaded.status, loaded.lease_owner) == (WritebackStatus.RUNNING, "w1")
        with pytest.raises(ValueError):
            await uow.writebacks.finish(writeback_id=wb_id, worker_id="w1", status="running", now=at(2))
        assert await uow.writebacks.finish(writeback_id=wb_id, worker_id="w1", status="pending", now=at(3))
        assert (loaded.status, loaded.lease_owner, loaded.lease_until, loaded.finished_at) == (
            WritebackStatus.PENDING, None, None, None,
        )  # fmt: skip
        assert not await uow.writebacks.finish(writeback_id=wb_id, worker_id="w1", status="done", now=at(4))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.writebacks.count_open(account_id=world.account) == 1
        again = await uow.writebacks.claim_next(worker_id="w2", now=at(5), lease_until=at(30))
        assert again is not None and (again.id, again.attempts, again.lease_owner) == (wb_id, 2, "w2")
        assert await uow.writebacks.finish(writeback_id=wb_id, worker_id="w2", status="failed", now=at(6))
        await uow.commit()
    async with uow_factory() as uow:
        failed = await uow.writebacks.get(account_id=world.account, writeback_id=wb_id)
        assert failed is not None and (failed.status, failed.finished_at) == (WritebackStatus.FAILED, at(6))
        assert await uow.writebacks.count_open() == 0


async def test_the_writeback_and_turn_queues_are_independent(uow_factory: UnitOfWorkFactory) -> None:
    """They share one lease implementation; each must still work on its own table only."""
    world = await seed(uow_factory)
    [turn_id] = await add_turns(uow_factory, world, 1)
    [wb_id] = await add_writebacks(uow_factory, world, 1)
    async with uow_factory() as uow:
        wb = await uow.writebacks.claim_next(worker_id="w", now=at(10), lease_until=at(40))
        assert wb is not None and wb.id == wb_id
        assert await uow.writebacks.claim_next(worker_id="w", now=at(10), lease_until=at(40)) is None
        assert not await uow.turns.finish(turn_id=turn_id, worker_id="w", status="done", now=at(11))
        turn = await uow.turns.get(account_id=world.account, turn_id=turn_id)
        assert turn is not None and turn.status is TurnStatus.PENDING
        assert await uow.turns.count_open() == 1
        claimed = await uow.turns.claim_next(worker_id="w", now=at(12), lease_until=at(40))
        assert claimed is turn and claimed.status is TurnStatus.RUNNING
        assert await uow.writebacks.finish(writeback_id=wb_id, worker_id="w", status="done", now=at(13))
        assert claimed.status is TurnStatus.RUNNING and wb.status is WritebackStatus.DONE
        await uow.commit()


def _connection(world: World, site: str, *, account_id: int | None = None,
                updated_by: int | None = None) -> PsaConnection:  # fmt: skip
    return PsaConnection(
        account_id=world.account if account_id is None else account_id, kind="connectwise",
        settings={"site": site, "company": "acme", "public_key": f"pub-{site}", "client_id": "client-1"},
        secrets_encrypted={"private_key": f"sealed-{site}"}, updated_at=at(len(site)),
        updated_by=world.senior if updated_by is None else updated_by,
    )  # fmt: skip


async def test_put_inserts_then_replaces_the_accounts_one_connection(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        assert await uow.psa_connections.get(account_id=world.account) is None
        first = await uow.psa_connections.put(_connection(world, "eu.example.net"))
        assert first.id is not None
        assert await uow.psa_connections.get(account_id=world.account) is first
        await uow.commit()
    async with uow_factory() as uow:
        replacement = _connection(world, "na.example.net", updated_by=world.engineer)
        replacement.settings["codebase"] = "v2025_1"
        stored = await uow.psa_connections.put(replacement)
        assert stored.id == first.id  # the account keeps its one row
        assert await uow.psa_connections.get(account_id=world.account) is stored
        await uow.psa_connections.put(_connection(world, "globex.example.net", account_id=world.other_account,
                                                  updated_by=world.other_member))  # fmt: skip
        await uow.commit()
    async with uow_factory() as uow:
        ours = await uow.psa_connections.get(account_id=world.account)
        theirs = await uow.psa_connections.get(account_id=world.other_account)
        assert ours is not None and theirs is not None and ours.id != theirs.id
        assert (ours.id, ours.settings, ours.secrets_encrypted) == (
            first.id, {"site": "na.example.net", "company": "acme", "public_key": "pub-na.example.net",
                       "client_id": "client-1", "codebase": "v2025_1"}, {"private_key": "sealed-na.example.net"},
        )  # fmt: skip
        assert (ours.updated_by, ours.updated_at, ours.kind) == (world.engineer, at(14), "connectwise")
        assert theirs.settings["site"] == "globex.example.net"
        ours.settings = {k: v for k, v in ours.settings.items() if k != "codebase"}
        assert await uow.psa_connections.put(ours) is ours  # putting the live row back is fine
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.psa_connections.get(account_id=world.account)
        assert again is not None and again.id == first.id and "codebase" not in again.settings


async def test_put_refuses_an_unknown_member_and_racing_first_puts_never_make_two_rows(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """Two admins connecting ConnectWise at once: whichever put still saw no row inserts; the
    other either replaces the committed row (it saw it) or gets Conflict (both inserted). Never
    two rows, never another error. Which of the two happens depends on timing on SQL backends."""
    world = await seed(uow_factory)
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.psa_connections.put(_connection(world, "x.example.net", updated_by=999_999))
            await uow.commit()
    # In one process SQLite's units of work queue at the writer gate, so both can't look at once
    # there: the second one sees the first's committed row and replaces it.
    queued = getattr(uow_factory, "gated", False)
    both_looked = asyncio.Barrier(1 if queued else 2)

    async def first_put(site: str) -> str:
        try:
            async with uow_factory() as uow:
                assert queued or await uow.psa_connections.get(account_id=world.account) is None
                await both_looked.wait()
                await uow.psa_connections.put(_connection(world, site))
                await asyncio.sleep(0)
                await uow.commit()
        except Conflict:
            return "conflict"
        return site

    outcomes = await asyncio.wait_for(
        asyncio.gather(first_put("a.example.net"), first_put("b.example.net")), timeout=30
    )
    assert outcomes.count("conflict") <= 1
    async with uow_factory() as uow:
        stored = await uow.psa_connections.get(account_id=world.account)
        assert stored is not None and stored.settings["site"] in outcomes


async def test_a_writeback_row_round_trips_every_field(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    [wb_id] = await add_writebacks(uow_factory, world, 1)
    async with uow_factory() as uow:
        wb = await uow.writebacks.get(account_id=world.account, writeback_id=wb_id)
        assert wb is not None
        wb.time_entry_minutes, wb.time_started_at = 45, at(1)
        wb.note_attempted_at, wb.time_attempted_at = at(2), at(4)
        wb.time_entry_id, wb.time_outcome, wb.time_detail, wb.status_outcome = "77", "logged", None, "verified"
        wb.note_posted_at = at(3) + timedelta(microseconds=7)
        wb.detail = "Posted the resolution note… ✓"
        await uow.commit()
    async with uow_factory() as uow:
        wb = await uow.writebacks.get(account_id=world.account, writeback_id=wb_id)
        assert wb is not None
        assert (wb.time_entry_minutes, wb.ticket_id, wb.note_kind, wb.time_started_at) == (45, 4711, "resolution", at(1))
        assert (wb.note_attempted_at, wb.time_attempted_at, wb.time_entry_id, wb.time_outcome, wb.status_outcome) == (
            at(2), at(4), "77", "logged", "verified")
        assert wb.note_posted_at == at(3) + timedelta(microseconds=7)
        assert wb.detail == "Posted the resolution note… ✓"
        assert wb.created_by == world.engineer and wb.writeup_id is not None
