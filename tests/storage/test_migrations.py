"""Migrations, engines and health probes on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.models import Account, Member, PsaConnection, Role
from core.platform import InboundDelivery, TenantLink
from storage import db
from storage.mapping import start_mappers
from storage.tables import accounts, metadata
from storage.uow import SqlUnitOfWorkFactory

NEW_IN_0002 = {"writebacks", "psa_connections"}
NEW_IN_0003 = {"tenant_links", "inbound_deliveries", "surface_refs", "connect_codes"}


def _schema_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_from_empty_twice_matches_tables_py(
    sql_backend: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migrations build exactly storage/tables/; a second run is a no-op; no alembic.ini is
    needed in the working directory."""
    _, url = sql_backend
    monkeypatch.chdir(tmp_path)
    engine = db.make_engine(url)
    try:
        assert await db.ping(engine)
        assert not await db.is_current(engine)
        await db.upgrade(url)
        assert await db.is_current(engine)
        await db.upgrade(engine)
        assert await db.is_current(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_schema_diff) == []
            tables = await connection.run_sync(_table_names)
            versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert tables == {t.name for t in metadata.sorted_tables} | {"alembic_version"}
        assert [v[0] for v in versions] == sorted(db.head_revisions())  # the newest migration
    finally:
        await engine.dispose()


async def _old_account(engine: AsyncEngine, name: str, when: datetime) -> int:
    """An account row as a schema before 0006 holds it (no time_zone), so the ORM's mapping of
    today's columns stays out of the old schema."""
    async with engine.begin() as connection:
        result = await connection.execute(accounts.insert().values(name=name, created_at=when, preferences={}))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _migrate_to(connection: Connection, direction: str, revision: str) -> None:
    config = db.alembic_config()
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)


async def test_0002_upgrades_a_populated_0001_database_and_downgrades_back(
    own_sql_backend: tuple[str, str],
) -> None:
    """A deployment at 0001 with data gains the outbox tables and keeps its rows; downgrading
    0002 removes exactly those tables, and upgrading again works."""
    _, url = own_sql_backend
    engine = db.make_engine(url)
    factory = SqlUnitOfWorkFactory(engine)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate_to, "upgrade", "0001")
            assert not NEW_IN_0002 & await connection.run_sync(_table_names)
        account_id = await _old_account(engine, "Acme IT", when)
        async with factory() as uow:
            member = await uow.members.add(Member(account_id=account_id, name="Dana",
                                                  role=Role.ADMIN, created_at=when))  # fmt: skip
            await uow.commit()
        assert not await db.is_current(engine)
        await db.upgrade(engine)
        assert await db.is_current(engine)
        async with factory() as uow:
            assert await uow.accounts.get_by_name(name="Acme IT") is not None
            await uow.psa_connections.put(PsaConnection(
                account_id=account_id, kind="connectwise", settings={"site": "na.myconnectwise.net"},
                secrets_encrypted={"private_key": "enc"}, updated_at=when, updated_by=member.id or 0))  # fmt: skip
            await uow.commit()
        async with engine.begin() as connection:
            assert await connection.run_sync(_schema_diff) == []
            await connection.run_sync(_migrate_to, "downgrade", "0001")
            tables = await connection.run_sync(_table_names)
            version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
            names = (await connection.execute(text("SELECT name FROM accounts"))).scalars().all()
        assert not NEW_IN_0002 & tables and "accounts" in tables
        assert (version, names) == ("0001", ["Acme IT"])
        await db.upgrade(engine)
        assert await db.is_current(engine)
        async with factory() as uow:
            assert await uow.psa_connections.get(account_id=account_id) is None
    finally:
        await engine.dispose()


async def test_0003_upgrades_a_populated_0002_database_and_downgrades_back(
    own_sql_backend: tuple[str, str],
) -> None:
    """The platform tables arrive beside existing data and leave again without touching it."""
    _, url = own_sql_backend
    engine = db.make_engine(url)
    factory = SqlUnitOfWorkFactory(engine)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate_to, "upgrade", "0002")
            assert not NEW_IN_0003 & await connection.run_sync(_table_names)
        account_id = await _old_account(engine, "Acme IT", when)
        await db.upgrade(engine)
        async with factory() as uow:
            await uow.tenants.add(TenantLink(account_id=account_id, platform="slack", external_id="T1",
                                             name="Acme", created_at=when))  # fmt: skip
            assert await uow.inbound.accept(InboundDelivery(platform="slack", key="Ev1", payload={}, created_at=when))
            await uow.commit()
        async with engine.begin() as connection:
            await connection.run_sync(_migrate_to, "downgrade", "0002")
            tables = await connection.run_sync(_table_names)
            version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        assert not NEW_IN_0003 & tables and NEW_IN_0002 <= tables and version == "0002"
        await db.upgrade(engine)
        async with factory() as uow:
            assert await uow.tenants.list(account_id=account_id) == []
            assert await uow.accounts.get_by_name(name="Acme IT") is not None
    finally:
        await engine.dispose()


async def test_0006_gives_existing_accounts_utc_and_downgrades_back(own_sql_backend: tuple[str, str]) -> None:
    """Accounts stored before 0006 read back in UTC (what their dates meant), keep their
    preferences, and take a zone of their own afterwards; downgrading drops only the column."""
    _, url = own_sql_backend
    engine = db.make_engine(url)
    factory = SqlUnitOfWorkFactory(engine)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate_to, "upgrade", "0005")
        async with engine.begin() as connection:
            await connection.execute(accounts.insert().values(name="Acme IT", created_at=when,
                                                              preferences={"cw_time_entries": True}))  # fmt: skip
        await db.upgrade(engine)
        async with factory() as uow:
            account = await uow.accounts.get_by_name(name="Acme IT")
            assert account is not None and account.time_zone == "UTC"
            assert account.preferences == {"time_entries": True}  # renamed by 0008, kept
            account.time_zone = "Europe/Amsterdam"
            await uow.commit()
        async with factory() as uow:
            again = await uow.accounts.get_by_name(name="Acme IT")
            assert again is not None and again.time_zone == "Europe/Amsterdam"
        async with engine.begin() as connection:
            assert await connection.run_sync(_schema_diff) == []
            await connection.run_sync(_migrate_to, "downgrade", "0005")
            columns = await connection.run_sync(lambda c: [col["name"] for col in inspect(c).get_columns("accounts")])
            names = (await connection.execute(select(accounts.c.name))).scalars().all()
        assert "time_zone" not in columns and names == ["Acme IT"]
        await db.upgrade(engine)
        async with factory() as uow:
            back = await uow.accounts.get_by_name(name="Acme IT")
            assert back is not None and back.time_zone == "UTC"
    finally:
        await engine.dispose()


async def test_health_probes_report_an_unreachable_database_as_down() -> None:
    engine = db.make_engine("postgresql://postgres@127.0.0.1:1/nowhere")
    try:
        assert not await db.ping(engine, timeout=2)
        assert not await db.is_current(engine)
    finally:
        await engine.dispose()


async def test_sqlite_engine_creates_its_directory_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "rflow.db"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        async with engine.connect() as connection:
            journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
            busy = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
        assert (journal, foreign_keys, busy) == ("wal", 1, db.SQLITE_BUSY_TIMEOUT_MS)
        assert path.exists()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://u@h/d"])
def test_make_engine_refuses_what_it_cannot_serve(url: str) -> None:
    with pytest.raises(ValueError):
        db.make_engine(url)


async def test_sqlite_stores_utc_text_and_returns_aware_utc(tmp_path: Path) -> None:
    """SQLite drops zones: we store UTC and hand back aware UTC (timezone round trip)."""
    url = f"sqlite:///{tmp_path / 'tz.db'}"
    await db.upgrade(url)
    engine = db.make_engine(url)
    try:
        factory = SqlUnitOfWorkFactory(engine)
        new_york = timezone(timedelta(hours=-5))
        async with factory() as uow:
            account = await uow.accounts.add(
                Account(name="tz", created_at=datetime(2026, 1, 1, 7, 30, tzinfo=new_york))
            )
            await uow.commit()
        async with engine.connect() as connection:
            raw = (await connection.execute(text("SELECT created_at FROM accounts"))).scalar_one()
        assert raw.startswith("2026-01-01 12:30:00")
        async with factory() as uow:
            again = await uow.accounts.get(account_id=account.id or 0)
        assert again is not None and again.created_at == datetime(2026, 1, 1, 12, 30, tzinfo=UTC)
        assert again.created_at.utcoffset() == timedelta(0)
    finally:
        await engine.dispose()


def test_start_mappers_is_idempotent() -> None:
    start_mappers()
    start_mappers()
    assert inspect(Account).local_table.name == "accounts"


def test_alembic_command_line_uses_the_packaged_ini(tmp_path: Path) -> None:
    """`alembic -c storage/alembic.ini -x url=... upgrade head` from an unrelated directory."""
    ini = Path(db.__file__).with_name("alembic.ini")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RF_DATABASE_URL")}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"url=sqlite:///{tmp_path / 'cli.db'}",
         "upgrade", "head"],  # fmt: skip
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(rev,) for rev in sorted(db.head_revisions())]


async def test_0008_converts_a_connection_and_prefs_without_decrypting(own_sql_backend: tuple[str, str]) -> None:
    """A ConnectWise connection of the old shape becomes vendor-neutral settings with the encrypted
    key moved as it is; the per-account status ids go (statuses are per board now)."""
    _, url = own_sql_backend
    engine = db.make_engine(url)
    factory = SqlUnitOfWorkFactory(engine)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate_to, "upgrade", "0007")
        account_id = await _old_account(engine, "Acme IT", when)
        async with engine.begin() as connection:
            await connection.execute(accounts.update().where(accounts.c.id == account_id).values(
                preferences={"cw_resolved_status_id": 104, "cw_time_entries": True, "other": 1}))
            member_id = (await connection.execute(text(
                "INSERT INTO members (account_id, name, role, created_at, active) "
                "VALUES (:a, 'Dana', 'admin', :w, true) RETURNING id"), {"a": account_id, "w": when})).scalar_one()
            await connection.execute(text(
                "INSERT INTO psa_connections (account_id, site, company_id, public_key, client_id, "
                "private_key_encrypted, updated_at, updated_by, kind, codebase) VALUES "
                "(:a, 'na.myconnectwise.net', 'acme', 'pub', 'cid', 'gAAAA-token', :w, :m, 'connectwise', "
                "'v2025_1/')"), {"a": account_id, "w": when, "m": member_id})
        await db.upgrade(engine)
        async with factory() as uow:
            connection_row = await uow.psa_connections.get(account_id=account_id)
            account = await uow.accounts.get(account_id=account_id)
        assert connection_row is not None and account is not None
        assert connection_row.settings == {"site": "na.myconnectwise.net", "company": "acme", "public_key": "pub",
                                           "client_id": "cid", "codebase": "v2025_1/"}
        assert connection_row.secrets_encrypted == {"private_key": "gAAAA-token"}
        assert account.preferences == {"time_entries": True, "other": 1}
    finally:
        await engine.dispose()
