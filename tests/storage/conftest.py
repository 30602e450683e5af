"""One behavioural suite, three backends: the in-memory fake, a SQLite file, PostgreSQL.

PostgreSQL gets a throwaway database per test session (migrated once, truncated per test);
SQLite gets a fresh copy of a migrated template file per test.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.ports import UnitOfWorkFactory
from storage.db import make_engine, upgrade
from storage.tables import metadata
from storage.uow import SqlUnitOfWorkFactory
from tests.databases import admin
from tests.fakes.memory_uow import memory_uow_factory
from tests.services import postgres_url_or_skip

BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
SQL_BACKENDS = BACKENDS[1:]


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    return postgres_url_or_skip()


@contextmanager
def _throwaway_database(admin_url: str, *, migrated: bool) -> Iterator[str]:
    """`rflow_test_<random>` beside the admin URL's database, dropped afterwards."""
    name = f"rflow_test_{secrets.token_hex(4)}"
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    asyncio.run(admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        if migrated:
            asyncio.run(_migrate(url))
        yield url
    finally:
        asyncio.run(admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_server_db(postgres_admin_url: str) -> Iterator[str]:
    """An empty database, for the migration tests."""
    with _throwaway_database(postgres_admin_url, migrated=False) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_migrated_db(postgres_admin_url: str) -> Iterator[str]:
    """Migrated once per test session; the `engine` fixture truncates it before each test."""
    with _throwaway_database(postgres_admin_url, migrated=True) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    """(name, database URL); the URL is None for the memory fake."""
    name: str = request.param
    if name == "sqlite":
        path = tmp_path / "db" / "rflow.db"
        path.parent.mkdir()
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return name, f"sqlite:///{path}"
    if name == "postgres":
        return name, request.getfixturevalue("postgres_migrated_db")
    return name, None


@pytest.fixture(params=SQL_BACKENDS)
def sql_backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """A migrated-nothing database URL: an empty SQLite path or an empty PostgreSQL database."""
    if request.param == "postgres":
        return "postgres", request.getfixturevalue("postgres_server_db")
    return "sqlite", f"sqlite:///{tmp_path / 'fresh' / 'rflow.db'}"


@pytest.fixture(params=SQL_BACKENDS)
def own_sql_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Like `sql_backend`, but a PostgreSQL database of the test's own: for tests that move the
    schema up and down, which would upset the shared empty one."""
    if request.param == "postgres":
        admin_url = request.getfixturevalue("postgres_admin_url")
        with _throwaway_database(admin_url, migrated=False) as url:
            yield "postgres", url
        return
    yield "sqlite", f"sqlite:///{tmp_path / 'own' / 'rflow.db'}"


@pytest.fixture
async def engine(backend: tuple[str, str | None]) -> AsyncIterator[AsyncEngine | None]:
    name, url = backend
    if url is None:
        yield None
        return
    sql_engine = make_engine(url)
    if name == "postgres":
        tables = ", ".join(t.name for t in metadata.sorted_tables)
        async with sql_engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield sql_engine
    await sql_engine.dispose()


@pytest.fixture
def uow_factory(engine: AsyncEngine | None) -> UnitOfWorkFactory:
    if engine is None:
        return memory_uow_factory()
    return SqlUnitOfWorkFactory(engine)
