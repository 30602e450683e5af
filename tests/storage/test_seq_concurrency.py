"""No lost input under concurrency: fact labels (F1, F2…) and lane labels (Q1, C1…) come from one
atomic counter per session, so writers in several OS processes never collide on
UNIQUE(session_id, seq) and every input is stored, numbered 1..n without gaps or repeats."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, insert, text

from core.access import Actor
from core.bus import InMemoryBus
from core.deps import Deps
from core.errors import NotFound
from core.facts import FactService
from core.lane import merge_proposals
from core.models import Fact, FactSource, ItemKind, ItemStatus, TaskItem
from core.ports import UnitOfWorkFactory
from storage import db
from storage.tables import metadata, task_items
from storage.uow import SqlUnitOfWorkFactory
from tests.storage.conftest import SQL_BACKENDS
from tests.storage.scenario import T0, World, seed

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 5
PER_PROCESS = 10
START_SECONDS = 90.0


@pytest.fixture(params=SQL_BACKENDS)
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database other processes can open: a SQLite file, or the shared PostgreSQL one
    emptied first (sync, as the session fixtures it uses start their own event loops)."""
    if request.param == "sqlite":
        path = tmp_path / "shared" / "rflow.db"
        path.parent.mkdir()
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_migrated_db")
    asyncio.run(_truncate(url))
    return url


async def _truncate(url: str) -> None:
    engine = db.make_engine(url)
    try:
        async with engine.begin() as connection:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


async def _seeded(url: str) -> World:
    engine = db.make_engine(url)
    try:
        return await seed(SqlUnitOfWorkFactory(engine))
    finally:
        await engine.dispose()


async def _run_writers(url: str, world: World, tmp_path: Path, mode: str, per_process: int) -> list[dict[str, Any]]:
    """PROCESSES writer processes, released together once all are connected; their reports."""
    go = tmp_path / "go"
    args = [url, str(world.account), str(world.engineer), str(world.session)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.storage.seq_writer", *args, str(w), str(per_process), str(go), mode,
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        for w in range(PROCESSES)
    ]  # fmt: skip
    try:
        async with asyncio.timeout(START_SECONDS):
            while not all(Path(f"{go}.ready.{w}").exists() for w in range(PROCESSES)):
                if any(p.returncode is not None for p in procs):
                    break
                await asyncio.sleep(0.02)
            go.touch()
            outputs = [await p.communicate() for p in procs]
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
    reports: list[dict[str, Any]] = []
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err.decode()
        reports.extend(json.loads(line) for line in out.decode().splitlines() if line.strip())
    return reports


async def _stored(url: str, world: World) -> tuple[list[Fact], list[TaskItem]]:
    engine = db.make_engine(url)
    try:
        async with SqlUnitOfWorkFactory(engine)() as uow:
            facts = await uow.facts.list(account_id=world.account, session_id=world.session, include_deleted=True)
            items = await uow.items.list(account_id=world.account, session_id=world.session)
        return facts, items
    finally:
        await engine.dispose()


async def test_fact_adds_from_several_processes_are_all_kept_in_one_order(
    migrated_url: str, tmp_path: Path
) -> None:
    """5 processes x 10 concurrent add_note calls on one session: 50 facts, F1..F50, none failed."""
    world = await _seeded(migrated_url)
    reports = await _run_writers(migrated_url, world, tmp_path, "facts", PER_PROCESS)
    total = PROCESSES * PER_PROCESS
    assert [r for r in reports if not r["ok"]] == []
    assert sorted(r["seq"] for r in reports) == list(range(1, total + 1))
    facts, _ = await _stored(migrated_url, world)
    assert [f.seq for f in facts] == list(range(1, total + 1))
    assert {f.text for f in facts} == {r["text"] for r in reports} and len(facts) == total
    assert {(r["text"], r["seq"]) for r in reports} == {(f.text, f.seq) for f in facts}


async def test_lane_merges_from_several_processes_number_each_kind_without_gaps(
    migrated_url: str, tmp_path: Path
) -> None:
    """5 processes x 4 concurrent merges of one question and one check: Q1..Q20 and C1..C20."""
    world = await _seeded(migrated_url)
    per_process = 4
    reports = await _run_writers(migrated_url, world, tmp_path, "lane", per_process)
    total = PROCESSES * per_process
    assert [r for r in reports if not r["ok"]] == []
    _, items = await _stored(migrated_url, world)
    for kind in (ItemKind.QUESTION, ItemKind.CHECK):  # the assistant proposes no facts here
        of_kind = [i for i in items if i.kind == kind]
        assert [i.seq for i in of_kind] == list(range(1, total + 1)), kind
    reported = {(kind, seq, item_text) for r in reports for kind, seq, item_text in r["items"]}
    assert reported == {(i.kind.value, i.seq, i.text) for i in items}


async def test_concurrent_adds_in_one_process_on_every_backend(uow_factory: UnitOfWorkFactory) -> None:
    """The memory fake allocates like the databases: 20 notes and 20 merges at once, all kept."""
    world = await seed(uow_factory)
    facts = FactService(Deps(uow_factory=uow_factory, bus=InMemoryBus()))
    actor = Actor(account_id=world.account, member_id=world.engineer)

    async def merge(n: int) -> list[TaskItem]:
        async with uow_factory() as uow:
            session = await uow.sessions.get(account_id=world.account, session_id=world.session)
            assert session is not None
            await asyncio.sleep(0)
            created = await merge_proposals(uow, session=session, questions=(f"q{n}", f"q{n} again"),
                                            checks=(f"c{n}",), now=T0)
            await asyncio.sleep(0)
            await uow.commit()
        return created

    notes = [facts.add_note(actor=actor, session_id=world.session, text=f"note {n}") for n in range(20)]
    results = await asyncio.gather(*notes, *(merge(n) for n in range(20)))
    assert sorted(r.seq for r in results[:20] if isinstance(r, Fact)) == list(range(1, 21))
    async with uow_factory() as uow:
        stored = await uow.facts.list(account_id=world.account, session_id=world.session)
        items = await uow.items.list(account_id=world.account, session_id=world.session)
    assert [f.seq for f in stored] == list(range(1, 21))
    assert [i.seq for i in items if i.kind == ItemKind.QUESTION] == list(range(1, 41))
    assert [i.seq for i in items if i.kind == ItemKind.CHECK] == list(range(1, 21))


async def test_allocate_seq_hands_out_ranges_per_session_and_kind(uow_factory: UnitOfWorkFactory) -> None:
    """A range of n is one allocation; counters are per session and name; another account's session
    is not found (R35); a rolled-back allocation is handed out again (the counter is in the
    transaction, so a label is never skipped for nothing stored)."""
    world = await seed(uow_factory)
    a, s = world.account, world.session
    async with uow_factory() as uow:
        assert await uow.facts.allocate_seq(account_id=a, session_id=s, count=3) == 1
        assert await uow.facts.allocate_seq(account_id=a, session_id=s) == 4
        assert await uow.items.allocate_seq(account_id=a, session_id=s, kind=ItemKind.QUESTION, count=2) == 1
        assert await uow.items.allocate_seq(account_id=a, session_id=s, kind=ItemKind.CHECK) == 1
        assert await uow.items.allocate_seq(account_id=a, session_id=s, kind=ItemKind.QUESTION) == 3
        other = await uow.facts.allocate_seq(account_id=world.other_account, session_id=world.other_session)
        assert other == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.facts.allocate_seq(account_id=a, session_id=s, count=10) == 5
        await uow.rollback()
    async with uow_factory() as uow:
        assert await uow.facts.allocate_seq(account_id=a, session_id=s) == 5
        with pytest.raises(NotFound):
            await uow.facts.allocate_seq(account_id=world.other_account, session_id=s)
    async with uow_factory() as uow:
        with pytest.raises(NotFound):
            await uow.items.allocate_seq(account_id=a, session_id=world.other_session, kind=ItemKind.CHECK)


async def test_allocate_seq_never_falls_behind_rows_written_without_it(uow_factory: UnitOfWorkFactory) -> None:
    """A replica still on the previous release numbers by max(seq)+1: the next allocation skips
    past whatever it stored, so neither collides."""
    world = await seed(uow_factory)
    a, s = world.account, world.session
    async with uow_factory() as uow:
        assert await uow.facts.allocate_seq(account_id=a, session_id=s) == 1
        await uow.commit()
    async with uow_factory() as uow:
        await uow.facts.add(Fact(account_id=a, session_id=s, seq=7, text="by an old replica",
                                 source=FactSource.NOTE, created_at=T0))  # fmt: skip
        await uow.items.add(TaskItem(account_id=a, session_id=s, kind=ItemKind.CHECK, seq=3, text="old",
                                     created_at=T0))  # fmt: skip
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.facts.allocate_seq(account_id=a, session_id=s, count=2) == 8
        assert await uow.facts.allocate_seq(account_id=a, session_id=s) == 10
        assert await uow.items.allocate_seq(account_id=a, session_id=s, kind=ItemKind.CHECK) == 4
        assert await uow.items.allocate_seq(account_id=a, session_id=s, kind=ItemKind.QUESTION) == 1


def _migrate_to(connection: Connection, direction: str, revision: str) -> None:
    config = db.alembic_config()
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)


async def test_0005_starts_each_counter_after_the_stored_labels(own_sql_backend: tuple[str, str]) -> None:
    """A database with facts and lane items from before the counters: the next labels follow the
    highest stored ones (soft-deleted facts included), and downgrading drops only the counters."""
    _, url = own_sql_backend
    engine = db.make_engine(url)
    factory = SqlUnitOfWorkFactory(engine)
    try:
        await db.upgrade(engine)
        world = await seed(factory)  # at head, as the ORM maps today's accounts; the rows stay the same at 0004
        async with engine.begin() as connection:
            await connection.run_sync(_migrate_to, "downgrade", "0004")
        async with factory() as uow:
            for seq in (1, 2, 5):
                await uow.facts.add(Fact(account_id=world.account, session_id=world.session, seq=seq,
                                         text=f"fact {seq}", source=FactSource.NOTE, created_at=T0,
                                         deleted_at=T0 if seq == 5 else None))  # fmt: skip
            await uow.commit()
        async with engine.begin() as connection:  # the columns items had at 0004 (0007 added source_ref)
            for kind, seq in ((ItemKind.QUESTION, 1), (ItemKind.QUESTION, 2), (ItemKind.CHECK, 1)):
                await connection.execute(insert(task_items).values(
                    account_id=world.account, session_id=world.session, kind=kind, seq=seq, text=f"{kind} {seq}",
                    created_at=T0, status=ItemStatus.OPEN))
        await db.upgrade(engine)
        async with factory() as uow:
            a, s = world.account, world.session
            assert await uow.facts.allocate_seq(account_id=a, session_id=s) == 6
            assert await uow.items.allocate_seq(account_id=a, session_id=s, kind=ItemKind.QUESTION) == 3
            assert await uow.items.allocate_seq(account_id=a, session_id=s, kind=ItemKind.CHECK) == 2
            other = world.other_session
            assert await uow.facts.allocate_seq(account_id=world.other_account, session_id=other) == 1
            await uow.commit()
        async with engine.begin() as connection:
            await connection.run_sync(_migrate_to, "downgrade", "0004")
            version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
            count = (await connection.execute(text("SELECT count(*) FROM facts"))).scalar_one()
        assert (version, count) == ("0004", 3)
        await db.upgrade(engine)
        async with factory() as uow:  # the backfill again, from what is stored
            assert await uow.facts.allocate_seq(account_id=world.account, session_id=world.session) == 6
    finally:
        await engine.dispose()
