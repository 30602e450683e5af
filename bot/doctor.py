"""`rflow doctor`: the whole configuration and every configured connection, checked and shown as a
table (check, status ok/failed/skipped, what was found in words). Exit 0 when nothing failed, else 2.

Each check has its own time limit (`--timeout`, 10 s by default) and none changes anything: the
SQLite file is not created, the database not migrated, no message is posted. The addresses come
from the settings the bot itself uses (RF_SLACK_API_URL, ANTHROPIC_BASE_URL, RF_CW_API_URL,
RF_TEAMS_OPENID_URL, and RF_TEAMS_LOGIN_URL for the Microsoft login), so tests point them at fakes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Connection, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.doctor_platforms import check_anthropic, check_slack, check_teams
from bot.doctor_rows import FAILED, OK, SKIPPED, Check
from bot.doctor_rows import clean as _clean
from bot.doctor_rows import http_words as _http_words
from bot.doctor_rows import quoted as _quoted
from bot.doctor_rows import secret as _secret
from bot.logging_setup import LOG_FILE_NAME
from bot.settings import Settings
from bot.startup_errors import (
    EXIT_CONFIG,
    StartupError,
    database_url,
    directory_problem,
    explain,
    load_settings,
    problems,
)
from bot.version import version

DEFAULT_TIMEOUT = 10.0


def render(rows: Sequence[Check]) -> str:
    width = max([len("CHECK"), *(len(row.name) for row in rows)])
    lines = [f"{'CHECK':<{width}}  {'STATUS':<7}  DETAIL"]
    lines += [f"{row.name:<{width}}  {row.status:<7}  {_clean(row.detail)}" for row in rows]
    counts = {status: sum(1 for row in rows if row.status == status) for status in (FAILED, OK, SKIPPED)}
    verdict = "nothing failed" if not counts[FAILED] else f"{counts[FAILED]} failed"
    lines.append(f"\nrflow {version()} doctor: {verdict} ({counts[OK]} ok, {counts[SKIPPED]} skipped).")
    return "\n".join(lines)


async def doctor(*, timeout: float = DEFAULT_TIMEOUT) -> int:
    """Print the table; the exit code."""
    try:
        settings = load_settings()
    except StartupError as exc:
        rows = [Check("configuration", FAILED, exc.message),
                Check("connections", SKIPPED, "not checked until the settings load")]
    else:
        rows = await run_checks(settings, timeout=timeout)
    print(render(rows), flush=True)
    return EXIT_CONFIG if any(row.status == FAILED for row in rows) else 0


async def run_checks(settings: Settings, *, timeout: float = DEFAULT_TIMEOUT) -> list[Check]:
    rows = configuration_checks(settings)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
        groups = await asyncio.gather(
            _database_then_psa(settings, timeout),
            _guarded("redis", check_redis(settings, timeout), timeout, "Redis"),
            _guarded("slack", check_slack(settings, http), timeout, "Slack"),
            _guarded("teams", check_teams(settings, http), timeout, "the Microsoft login"),
            _guarded("anthropic", check_anthropic(settings, http), timeout, "Anthropic"),
        )
    database, psa = groups[0]
    return [*rows, *database, *[row for group in groups[1:] for row in group], *psa]


async def _guarded(name: str, check: Awaitable[Check | list[Check]], timeout: float, whom: str) -> list[Check]:
    """The check within its time limit; whatever it raised as words in a failed row."""
    try:
        async with asyncio.timeout(timeout):
            found = await check
    except TimeoutError:
        return [Check(name, FAILED, f"{whom} did not answer within {timeout:g} s")]
    except httpx.HTTPError as exc:
        return [Check(name, FAILED, _http_words(exc, whom))]
    except Exception as exc:  # the doctor reports; it never ends in a traceback
        return [Check(name, FAILED, f"{type(exc).__name__}: {_quoted(exc)}")]
    return found if isinstance(found, list) else [found]


# ---- configuration ---------------------------------------------------------------------------------

def configuration_checks(settings: Settings) -> list[Check]:
    found = problems(settings, platforms=True, create=False)
    rows = [Check("configuration", FAILED, problem) for problem in found] or [
        Check("configuration", OK, "every setting has a usable shape (environment and .env)")]
    directory = settings.data_dir.absolute()
    problem = directory_problem(directory, "RF_SQLITE_PATH", create=False)
    state = "is writable" if directory.exists() else "does not exist yet: it is made on the first start"
    rows.append(Check("data directory", FAILED, problem) if problem else
                Check("data directory", OK, f"{directory} {state}; the console logs to {directory / LOG_FILE_NAME}"))
    return rows


# ---- database and the PSA connections stored in it --------------------------------------------------

async def _database_then_psa(settings: Settings, timeout: float) -> tuple[list[Check], list[Check]]:
    ready: list[bool] = []
    database = await _guarded("database", check_database(settings, ready), timeout, "the database")
    if not settings.secret_key or not _secret(settings.secret_key):
        return database, [Check("connectwise", SKIPPED, "RF_SECRET_KEY is not set, so no account can have stored "
                                                        "ConnectWise keys")]
    if not ready:
        return database, [Check("connectwise", SKIPPED, "needs the database at the latest migration (see database)")]
    return database, await _guarded("connectwise", check_psa_connections(settings, timeout), timeout * 3, "ConnectWise")


def _where(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"SQLite {Path(url.database or '').expanduser()}"
    return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}/{url.database or url.username or ''}"


def _current_heads(connection: Connection) -> frozenset[str]:
    from alembic.runtime.migration import MigrationContext

    return frozenset(MigrationContext.configure(connection).get_current_heads())


async def check_database(settings: Settings, ready: list[bool]) -> Check:
    """Connect (no migration, no file made) and compare the migration state with this rflow's."""
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config, head_revisions, make_engine

    url = database_url(settings)
    if url is None or url.get_backend_name() not in ("sqlite", "postgresql", "postgres"):
        return Check("database", FAILED, "not checked: the database URL is wrong (see configuration)")
    where = _where(url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "").expanduser()
        if not url.database or url.database == ":memory:" or path.is_dir():
            return Check("database", FAILED, "not checked: the SQLite path is wrong (see configuration)")
        if not path.exists():
            return Check("database", OK, f"{where} does not exist yet: it is made and migrated on the first start")
    engine = make_engine(settings.resolved_database_url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(_current_heads)
            server = connection.dialect.server_version_info
    except Exception as exc:
        message = explain(exc, settings)
        if message is None:
            raise
        return Check("database", FAILED, message)
    finally:
        await engine.dispose()
    if url.get_backend_name() != "sqlite" and server:
        where = where.replace("PostgreSQL", "PostgreSQL " + ".".join(str(part) for part in server[:2]), 1)
    heads = head_revisions()
    head = ", ".join(sorted(heads))
    if current == heads:
        ready.append(True)
        return Check("database", OK, f"{where}: migrations at the latest ({head})")
    if not current:
        return Check("database", OK, f"{where} is empty: the migrations run on the first start (or `rflow db upgrade`)")
    script = ScriptDirectory.from_config(alembic_config())
    known = {revision.revision for revision in script.walk_revisions()}
    unknown = sorted(current - known)
    if unknown:
        return Check("database", FAILED, f"{where} is at migration {', '.join(unknown)}, which rflow {version()} does "
                                         "not have: a newer rflow upgraded it. Install that version, or check "
                                         "RF_DATABASE_URL.")
    pending: list[Any] = list(script.iterate_revisions(tuple(heads), tuple(current)))
    behind = len(pending) - len(current)
    return Check("database", OK, f"{where}: at migration {', '.join(sorted(current))}, {max(behind, 1)} behind {head}; "
                                 "`rflow db upgrade` applies them (serve and the console do on start)")


async def check_psa_connections(settings: Settings, timeout: float) -> list[Check]:
    """Every account's stored PSA connection, tested by the adapter through core (as /psa test does)."""
    from bot.bootstrap import make_psa_provider, make_secret_box
    from core.bus import InMemoryBus
    from core.deps import Deps
    from storage.db import make_engine
    from storage.tables import accounts, psa_connections
    from storage.uow import SqlUnitOfWorkFactory

    engine = make_engine(settings.resolved_database_url)
    try:
        async with engine.connect() as connection:
            found = (await connection.execute(
                select(accounts.c.id, accounts.c.name)
                .join(psa_connections, psa_connections.c.account_id == accounts.c.id)
                .order_by(accounts.c.name))).all()
        if not found:
            return [Check("connectwise", SKIPPED, "no account has connected ConnectWise yet (/psa connect in the "
                                                  "console, or the PSA settings in Slack and Teams)")]
        deps = Deps(uow_factory=SqlUnitOfWorkFactory(engine), bus=InMemoryBus(), secret_box=make_secret_box(settings),
                    psa=make_psa_provider(settings))
        return list(await asyncio.gather(*(_check_account(deps, engine, int(account_id), str(name), timeout)
                                           for account_id, name in found)))
    finally:
        await engine.dispose()


async def _check_account(deps: Any, engine: AsyncEngine, account_id: int, account: str, timeout: float) -> Check:
    from core.errors import DomainError
    from core.psa_link import connection_of, open_psa, psa_name

    name = f"{psa_name(deps).lower()} ({account})"
    try:
        async with asyncio.timeout(timeout):
            async with deps.uow_factory() as uow:
                connection = await connection_of(uow, account_id)
            async with open_psa(deps, connection) as psa:
                report = await psa.check_connection()
    except TimeoutError:
        return Check(name, FAILED, f"{psa_name(deps)} did not answer within {timeout:g} s")
    except DomainError as exc:
        return Check(name, FAILED, _quoted(exc))
    if not report.ok:
        return Check(name, FAILED, "; ".join(problem.message for problem in report.problems))
    member = f" as {report.api_member}" if report.api_member else ""
    return Check(name, OK, f"{psa_name(deps)} answered{member}: the connection works")


# ---- Redis -----------------------------------------------------------------------------------------

async def check_redis(settings: Settings, timeout: float) -> Check:
    if not settings.redis_url:
        return Check("redis", SKIPPED, "RF_REDIS_URL is not set: fine for one process (serve replicas and workers "
                                       "need it)")
    from redis import exceptions
    from redis.asyncio import Redis

    parts = urlsplit(settings.redis_url)
    where = f"Redis at {parts.hostname or parts.path or 'localhost'}" + (f":{parts.port}" if parts.port else "")
    try:
        client = Redis.from_url(settings.redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
    except ValueError as exc:
        return Check("redis", FAILED, f"RF_REDIS_URL is not usable ({_quoted(exc)})")
    try:
        await client.ping()
        info = await client.info("server")
    except exceptions.AuthenticationError:
        return Check("redis", FAILED, f"{where} refused the user or password in RF_REDIS_URL")
    except exceptions.ResponseError as exc:
        if "NOAUTH" in str(exc):
            return Check("redis", FAILED, f"{where} wants a password: put it in RF_REDIS_URL "
                                          "(redis://:PASSWORD@host:6379/0)")
        return Check("redis", FAILED, f"{where} answered {_quoted(exc)}")
    except (exceptions.ConnectionError, exceptions.TimeoutError, OSError) as exc:
        return Check("redis", FAILED, f"cannot connect to {where} ({_quoted(exc)}): is Redis running? Check RF_REDIS_URL")
    finally:
        await client.aclose()
    return Check("redis", OK, f"{where} answers (Redis {info.get('redis_version', '?')})")


__all__ = ["FAILED", "OK", "SKIPPED", "Check", "doctor", "render", "run_checks"]
