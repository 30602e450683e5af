"""Engines, migrations and health probes for the embedded SQLite file and for PostgreSQL."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

PACKAGE_DIR = Path(__file__).resolve().parent
ALEMBIC_INI = PACKAGE_DIR / "alembic.ini"
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# pg_advisory_xact_lock key: replicas starting together migrate one after the other.
MIGRATION_LOCK_KEY = 0x5F_52_46_4C  # "_RFL"


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """`sqlite:///path/to.db` or `postgresql://…` (drivers are chosen here: aiosqlite, asyncpg).

    SQLite: the parent directory is created; WAL, foreign keys and a busy timeout on every
    connection. In-memory SQLite is refused: each pooled connection would get its own database.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
            raise ValueError("in-memory SQLite is not supported: give a file path")
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            parsed.set(drivername="sqlite+aiosqlite"),
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # Every unit of work ends its transaction itself (commit, or rollback on the way out):
            # the pool's extra ROLLBACK on return would be one more driver round trip per action.
            pool_reset_on_return=None,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if backend in ("postgresql", "postgres"):
        return create_async_engine(
            parsed.set(drivername="postgresql+asyncpg"),
            echo=echo,
            pool_size=10,
            max_overflow=10,
            pool_timeout=30,
            pool_recycle=1800,
            pool_pre_ping=False,  # a checkout ping costs a round trip on every action; a disconnect invalidates the whole pool instead
        )
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def alembic_config() -> Config:
    """The packaged alembic.ini, with paths that do not depend on the current directory."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def _upgrade_on(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(engine_or_url: AsyncEngine | str) -> None:
    """Apply every migration up to head (a no-op when already there)."""
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            await connection.run_sync(_upgrade_on)
    finally:
        if isinstance(engine_or_url, str):
            await engine.dispose()


def _current_heads(connection: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection).get_current_heads())


async def is_current(engine: AsyncEngine) -> bool:
    """True when the database is migrated to head (for /healthz). Any failure reads as False."""
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(_current_heads)
    except Exception:
        return False
    return current == head_revisions()


async def ping(engine: AsyncEngine, *, timeout: float = 2.0) -> bool:
    """True when a trivial query answers within `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
