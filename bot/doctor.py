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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from sqlalchemy import Connection, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.logging_setup import LOG_FILE_NAME
from bot.settings import Settings
from bot.startup_errors import (
    EXIT_CONFIG,
    StartupError,
    database_url,
    directory_problem,
    explain,
    load_settings,
    one_line,
    problems,
)
from bot.version import version
from core.redaction import redact_text

DEFAULT_TIMEOUT = 10.0
OK, FAILED, SKIPPED = "ok", "failed", "skipped"
SLACK_API = "https://slack.com/api/"
ANTHROPIC_API = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
MICROSOFT_LOGIN = "https://login.microsoftonline.com"
BOTFRAMEWORK_TENANT = "botframework.com"  # where a multi-tenant bot gets its tokens (adapters/teams/connector.py)
BOTFRAMEWORK_SCOPE = "https://api.botframework.com/.default"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # OK, FAILED or SKIPPED
    detail: str


def _clean(text: str) -> str:
    """One line, no control characters. The words are ours and name settings, never their values;
    what a server or an exception says is redacted where it is quoted (`_quoted`)."""
    return one_line("".join(ch if ch.isprintable() or ch.isspace() else "?" for ch in text))


def _quoted(text: object) -> str:
    return redact_text(one_line(str(text)))


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


def _http_words(exc: httpx.HTTPError, whom: str) -> str:
    where = ""
    try:
        url = exc.request.url
        where = f" at {url.scheme}://{url.netloc.decode()}"
    except RuntimeError:
        pass
    if isinstance(exc, httpx.TimeoutException):
        return f"{whom}{where} did not answer in time"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {whom}{where}: {_quoted(exc) or 'connection failed'}"
    return f"{whom}{where}: {type(exc).__name__} {_quoted(exc)}"


def _secret(value: Any) -> str:
    raw = value.get_secret_value() if value is not None else ""
    return raw.strip() if isinstance(raw, str) else ""


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


# ---- Slack -----------------------------------------------------------------------------------------

SLACK_REFUSED = {
    "invalid_auth": "Slack does not accept {setting} (invalid_auth): copy it again from {where}, or reinstall the app",
    "not_authed": "Slack got no token from {setting}: copy it again from {where}",
    "token_revoked": "{setting} was revoked (the app was uninstalled?): reinstall the app and copy the new token",
    "token_expired": "{setting} has expired: reinstall the app, or turn token rotation off, and copy the new token",
    "account_inactive": "{setting} belongs to a deleted app or a deactivated workspace: reinstall the app",
    "not_allowed_token_type": "{setting} is the wrong kind of token: copy the one from {where}",
}


async def _slack_call(http: httpx.AsyncClient, settings: Settings, method: str, token: str) -> dict[str, Any]:
    base = (settings.slack_api_url or SLACK_API).rstrip("/") + "/"
    response = await http.post(base + method, headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 429:
        return {"ok": False, "error": f"rate limited (retry after {response.headers.get('Retry-After', '?')} s)"}
    if response.status_code != 200:
        return {"ok": False, "error": f"HTTP {response.status_code}"}
    try:
        body = response.json()
    except ValueError:
        return {"ok": False, "error": "an answer that is not JSON (is RF_SLACK_API_URL right?)"}
    return body if isinstance(body, dict) else {"ok": False, "error": "an unexpected answer"}


def _slack_refusal(error: str, setting: str, where: str) -> str:
    template = SLACK_REFUSED.get(error)
    return template.format(setting=setting, where=where) if template else f"Slack refused {setting} ({_quoted(error)})"


async def check_slack(settings: Settings, http: httpx.AsyncClient) -> list[Check]:
    token, app_token = _secret(settings.slack_bot_token), _secret(settings.slack_app_token)
    rows: list[Check] = []
    if token:
        body = await _slack_call(http, settings, "auth.test", token)
        if body.get("ok"):
            rows.append(Check("slack", OK, f"SLACK_BOT_TOKEN works: workspace {body.get('team')} "
                                           f"({body.get('team_id')}) as @{body.get('user')}"))
        else:
            rows.append(Check("slack", FAILED, _slack_refusal(str(body.get("error")), "SLACK_BOT_TOKEN",
                                                              "OAuth & Permissions → Bot User OAuth Token")))
    elif settings.slack_oauth:
        rows.append(Check("slack", SKIPPED, "OAuth install (SLACK_CLIENT_ID): each workspace's token is stored when "
                                            "it installs the app, and used as it is"))
    elif settings.slack_signing_secret or app_token:
        rows.append(Check("slack", FAILED, "no SLACK_BOT_TOKEN, nor SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: "
                                           "Slack cannot be answered (see configuration)"))
    else:
        rows.append(Check("slack", SKIPPED, "not configured (SLACK_SIGNING_SECRET with SLACK_BOT_TOKEN, or "
                                            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)"))
    if app_token:
        body = await _slack_call(http, settings, "apps.connections.open", app_token)
        rows.append(Check("slack socket mode", OK, "SLACK_APP_TOKEN works: Socket Mode can connect") if body.get("ok")
                    else Check("slack socket mode", FAILED, _slack_refusal(
                        str(body.get("error")), "SLACK_APP_TOKEN", "Basic Information → App-Level Tokens")))
    return rows


# ---- Teams -----------------------------------------------------------------------------------------

async def check_teams(settings: Settings, http: httpx.AsyncClient) -> list[Check]:
    app_id = (settings.microsoft_app_id or "").strip()
    if not app_id:
        if settings.teams_anonymous:
            return [Check("teams", SKIPPED, "RF_TEAMS_ANONYMOUS=true and no MICROSOFT_APP_ID: /api/messages accepts "
                                            "UNAUTHENTICATED requests (local testing only); no token to get")]
        return [Check("teams", SKIPPED, "not configured (MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD)")]
    token, keys = await asyncio.gather(_teams_token(settings, http, app_id), _teams_keys(settings, http, app_id),
                                       return_exceptions=True)
    rows = []
    for name, found in (("teams token", token), ("teams signing keys", keys)):
        if isinstance(found, httpx.HTTPError):
            rows.append(Check(name, FAILED, _http_words(found, "the Microsoft login" if name == "teams token"
                                                        else "the Bot Framework's key service")))
        elif isinstance(found, BaseException):
            raise found
        else:
            rows.append(found)
    return rows


TEAMS_REFUSED = {
    "AADSTS7000215": "MICROSOFT_APP_PASSWORD is not a valid client secret of the app: make a new one (Azure Bot → "
                     "Configuration → Manage Password) and copy its Value",
    "AADSTS7000222": "MICROSOFT_APP_PASSWORD has expired: make a new client secret and copy its Value",
    "AADSTS700016": "MICROSOFT_APP_ID is not an app in tenant {tenant}: check MICROSOFT_APP_ID, and set "
                    "MICROSOFT_APP_TENANT_ID only for a single-tenant bot",
    "AADSTS90002": "MICROSOFT_APP_TENANT_ID {tenant} is not a Microsoft Entra tenant: copy the Directory (tenant) ID",
    "AADSTS900023": "MICROSOFT_APP_TENANT_ID {tenant} is not a tenant ID: copy the Directory (tenant) ID",
}


async def _teams_token(settings: Settings, http: httpx.AsyncClient, app_id: str) -> Check:
    password = _secret(settings.microsoft_app_password)
    if not password:
        return Check("teams token", FAILED, "MICROSOFT_APP_PASSWORD is not set: the bot cannot get a token to reply "
                                            "(see configuration)")
    tenant = (settings.microsoft_app_tenant_id or "").strip() or BOTFRAMEWORK_TENANT
    login = (settings.teams_login_url or MICROSOFT_LOGIN).rstrip("/")
    response = await http.post(f"{login}/{quote(tenant)}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": app_id, "client_secret": password,
        "scope": BOTFRAMEWORK_SCOPE})
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code == 200 and body.get("access_token"):
        return Check("teams token", OK, f"the Microsoft login gave app {app_id} a token (tenant {tenant})")
    description = str(body.get("error_description") or body.get("error") or f"HTTP {response.status_code}")
    for code, words in TEAMS_REFUSED.items():
        if description.startswith(code + ":") or f" {code}:" in description:
            return Check("teams token", FAILED, f"{words.format(tenant=tenant)} ({code})")
    return Check("teams token", FAILED, f"the Microsoft login refused app {app_id}: {_quoted(description.splitlines()[0])}")


async def _teams_keys(settings: Settings, http: httpx.AsyncClient, app_id: str) -> Check:
    """The signing keys of the Bot Connector's tokens: without them every Teams request is refused."""
    from adapters.teams.auth import TeamsAuthSettings

    auth = TeamsAuthSettings(app_id=app_id, tenant_id=(settings.microsoft_app_tenant_id or None),
                             openid_metadata_url=settings.teams_openid_url or None)
    counts = []
    for url in auth.metadata_urls():
        metadata = await http.get(url)
        if metadata.status_code != 200:
            return Check("teams signing keys", FAILED, f"{url} answered HTTP {metadata.status_code}")
        jwks_uri = (metadata.json() or {}).get("jwks_uri")
        if not isinstance(jwks_uri, str):
            return Check("teams signing keys", FAILED, f"{url} names no jwks_uri")
        keys = await http.get(jwks_uri)
        found = (keys.json() or {}).get("keys") if keys.status_code == 200 else None
        if not isinstance(found, list) or not found:
            return Check("teams signing keys", FAILED, f"{jwks_uri} gave no signing keys (HTTP {keys.status_code})")
        counts.append(f"{len(found)} from {urlsplit(url).netloc}")
    return Check("teams signing keys", OK, f"inbound tokens can be checked: signing keys {', '.join(counts)}")


# ---- Anthropic -------------------------------------------------------------------------------------

async def check_anthropic(settings: Settings, http: httpx.AsyncClient) -> Check:
    key = _secret(settings.anthropic_api_key)
    if not key:
        return Check("anthropic", SKIPPED, "ANTHROPIC_API_KEY is not set: the assistant is off (everything else works)")
    base = (settings.anthropic_base_url or ANTHROPIC_API).rstrip("/")
    host = urlsplit(base).netloc or base
    headers = {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}
    models = {settings.main_model: "RF_MAIN_MODEL", settings.fast_model: "RF_FAST_MODEL"}
    listed = True
    for model, setting in models.items():
        response = await http.get(f"{base}/v1/models/{quote(model, safe='')}", headers=headers)
        if response.status_code in (404, 405) and _error_type(response) is None:  # no models list (a gateway, a stand-in)
            listed = False
            response = await http.post(f"{base}/v1/messages", headers=headers, json={
                "model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "ping"}]})
        problem = _anthropic_problem(response, model, setting)
        if problem:
            return Check("anthropic", FAILED, problem)
    how = "" if listed else " (no models list there: a 1-token message was sent)"
    return Check("anthropic", OK, f"ANTHROPIC_API_KEY works at {host}: {' and '.join(models)} answer{how}")


def _error_type(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("type")) if isinstance(error, dict) and error.get("type") else None


def _error_message(response: httpx.Response) -> str:
    try:
        return _quoted(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return _quoted(response.text[:200])


def _anthropic_problem(response: httpx.Response, model: str, setting: str) -> str | None:
    status = response.status_code
    if status == 200:
        return None
    kind = _error_type(response) or f"HTTP {status}"
    if status == 401:
        return f"Anthropic does not accept ANTHROPIC_API_KEY ({kind}): make a key at console.anthropic.com → API Keys"
    if status == 403:
        return f"ANTHROPIC_API_KEY may not do this ({kind}: {_error_message(response)})"
    if status == 404:
        return f"the model {model!r} ({setting}) is not available to this key: check the model name"
    if status == 429:
        return f"Anthropic is rate-limiting this key ({kind}): wait, or raise the organisation's limits"
    if status >= 500:
        return f"Anthropic answered {status} ({kind}): the service is busy or down, try again later"
    return f"Anthropic refused the check with {model!r} ({kind}: {_error_message(response)})"

