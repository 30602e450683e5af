"""Configuration and start-up errors in words: what is wrong, and which setting fixes it.

`rflow` prints one such line on stderr and exits 2 instead of showing a traceback. `problems()`
finds what can be seen without connecting anywhere (a database URL rflow cannot use, the shape of a
Slack token, half of a Teams credential, an unwritable data directory); `explain()` turns what
starting raised (PostgreSQL down or refusing, a port in use) into words, or returns None for an
exception that is no known start-up problem, which then stays a traceback: that is a bug.
No message ever contains a secret: URLs are shown without their password, tokens by name only.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import ValidationError
from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from bot.settings import Settings

EXIT_CONFIG = 2
Phase = Literal["start", "listen"]
GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
SLACK_SIGNING_SECRET = re.compile(r"^[0-9A-Za-z]{32}$")  # 32 characters, from Basic Information → App Credentials
SLACK_CLIENT_ID = re.compile(r"^\d+\.\d+$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "_URL")  # a setting's value never shown back
DATABASE_URL_SHAPE = "postgresql://USER:PASSWORD@HOST:5432/DATABASE"
SLACK_APPS = "api.slack.com/apps"


class StartupError(Exception):
    """A problem the person running rflow can fix: one line of words, exit code 2."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))

    @property
    def message(self) -> str:
        return str(self.args[0])


def one_line(text: str) -> str:
    return " ".join(text.split())


# ---- the settings themselves -----------------------------------------------------------------------

def load_settings() -> Settings:
    """Settings from the environment and .env; a value of the wrong type is a StartupError."""
    try:
        return Settings()
    except ValidationError as exc:
        raise StartupError(invalid_settings(exc)) from None


def invalid_settings(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        name = ".".join(str(item) for item in error["loc"]) or "the settings"
        shown = "" if any(word in name.upper() for word in SECRET_WORDS) else f" (got {error.get('input')!r})"
        parts.append(f"{name}: {error['msg'].rstrip('.')}{shown}")
    them = "them" if len(parts) > 1 else "it"
    return f"invalid setting {'; '.join(parts)}. Fix {them} in the environment or in .env (see .env.example)."


# ---- what can be seen without connecting ----------------------------------------------------------

def problems(settings: Settings, *, platforms: bool, create: bool = True) -> list[str]:
    """Every configuration problem, first the ones that stop anything from starting. `platforms`:
    Slack and Teams too (serve, worker, doctor); the console ignores their settings. `create`: make
    the SQLite file's folder (start-up does; the doctor only looks)."""
    found = [*database_problems(settings, create=create), *log_problems(settings), *secret_key_problems(settings),
             *redis_problems(settings)]
    if platforms:
        found += slack_problems(settings) + teams_problems(settings)
    return found


def raise_first(found: list[str]) -> None:
    if found:
        more = f" ({len(found) - 1} more problem{'s' if len(found) > 2 else ''}: `rflow doctor` lists them all)" \
            if len(found) > 1 else ""
        raise StartupError(found[0] + more)


def database_url(settings: Settings) -> URL | None:
    try:
        return make_url(settings.resolved_database_url)
    except ArgumentError:
        return None


def database_problems(settings: Settings, *, create: bool = True) -> list[str]:
    url = database_url(settings)
    if url is None:
        return [f"RF_DATABASE_URL is not a database URL rflow can read: write it as {DATABASE_URL_SHAPE}, "
                "or leave it unset to use the SQLite file in RF_SQLITE_PATH."]
    backend = url.get_backend_name()
    setting = "RF_DATABASE_URL" if settings.database_url else "RF_SQLITE_PATH"
    if backend in ("postgresql", "postgres"):
        return []
    if backend != "sqlite":
        return [f"RF_DATABASE_URL names a {backend!r} database, which rflow does not support: use PostgreSQL "
                f"({DATABASE_URL_SHAPE}), or leave it unset for SQLite (RF_SQLITE_PATH)."]
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return [f"{setting} is an in-memory SQLite database, which every connection would see empty: give a file, "
                "e.g. sqlite:///data/resolutionflow.db (or leave RF_DATABASE_URL unset)."]
    path = Path(database).expanduser()
    if path.is_dir():
        return [f"{setting} points at the folder {path}: give the path of a database file inside it, "
                f"e.g. {path / 'resolutionflow.db'}."]
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return [f"the SQLite database {path} is not readable and writable by this user: fix its permissions "
                f"or set {setting} to another file."]
    found = directory_problem(path.parent, setting, create=create)
    return [found] if found else []


def directory_problem(directory: Path, setting: str, *, create: bool) -> str | None:
    """None when rflow can write in `directory`; `create` makes it (start-up does, the doctor does not)."""
    if create:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return (f"cannot create the data directory {directory} ({exc.strerror or exc}): "
                    f"set {setting} to a path in a folder this user can write.")
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return (f"cannot create the data directory {directory}: {existing} is a file, not a folder. "
                f"Set {setting} to a path in a folder this user can write.")
    if not os.access(existing, os.W_OK | os.X_OK):
        return (f"the data directory {existing} is not writable by this user: fix its permissions, "
                f"or set {setting} to a path in a folder this user can write.")
    return None


def log_problems(settings: Settings) -> list[str]:
    if settings.log_level.strip().upper() in LOG_LEVELS:
        return []
    return [f"RF_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)} (got {settings.log_level!r})."]


def secret_key_problems(settings: Settings) -> list[str]:
    key = settings.secret_key.get_secret_value() if settings.secret_key else ""
    if not key:
        return []
    from cryptography.fernet import Fernet

    try:
        Fernet(key.encode())
    except ValueError:  # binascii.Error is one
        return ["RF_SECRET_KEY is not a key rflow can use (32 url-safe base64 bytes): make one with "
                "`rflow secret-key`. Keys already stored with an earlier key must then be entered again."]
    return []


def redis_problems(settings: Settings) -> list[str]:
    if not settings.redis_url:
        return []
    scheme = settings.redis_url.partition("://")[0].lower() if "://" in settings.redis_url else ""
    if scheme in ("redis", "rediss", "unix"):
        return []
    return ["RF_REDIS_URL must start with redis://, rediss:// (TLS) or unix://, e.g. redis://localhost:6379/0; "
            "leave it unset to run a single process without Redis."]


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    raw = getter() if getter is not None else value
    return raw.strip() if isinstance(raw, str) else ""


def slack_problems(settings: Settings) -> list[str]:
    token, secret = _secret(settings.slack_bot_token), _secret(settings.slack_signing_secret)
    app_token, client_secret = _secret(settings.slack_app_token), _secret(settings.slack_client_secret)
    client_id = (settings.slack_client_id or "").strip()
    if not any((token, secret, app_token, client_id, client_secret)):
        return []
    found: list[str] = []
    if client_id and not client_secret:
        found.append("SLACK_CLIENT_ID is set but SLACK_CLIENT_SECRET is not: copy the Client Secret from your "
                     f"app's Basic Information page ({SLACK_APPS}), or unset SLACK_CLIENT_ID to use SLACK_BOT_TOKEN.")
    if client_secret and not client_id:
        found.append("SLACK_CLIENT_SECRET is set but SLACK_CLIENT_ID is not: copy the Client ID from your app's "
                     f"Basic Information page ({SLACK_APPS}).")
    if not secret:
        found.append("Slack settings are given but SLACK_SIGNING_SECRET is not: copy the Signing Secret from your "
                     f"app's Basic Information page ({SLACK_APPS}); Slack signs every request with it.")
    elif not (token or (client_id and client_secret)):
        found.append("SLACK_SIGNING_SECRET is set but there is no token: set SLACK_BOT_TOKEN (OAuth & Permissions → "
                     "Bot User OAuth Token, xoxb-…), or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install through OAuth.")
    if secret and not SLACK_SIGNING_SECRET.match(secret):
        kind = " it looks like a token;" if secret.startswith(("xox", "xapp-")) else ""
        found.append(f"SLACK_SIGNING_SECRET is not a Slack signing secret ({len(secret)} characters;{kind} one is 32 "
                     f"letters and digits): copy it again from Basic Information → App Credentials ({SLACK_APPS}).")
    if token and not token.startswith("xoxb-"):
        found.append(f"SLACK_BOT_TOKEN must be the Bot User OAuth Token, starting xoxb- ({_token_kind(token)}): "
                     f"copy it from OAuth & Permissions ({SLACK_APPS}).")
    elif token and any(ch.isspace() or ch in "'\"" for ch in token):
        found.append("SLACK_BOT_TOKEN contains spaces or quotes: copy the token again, nothing around it.")
    if app_token and not app_token.startswith("xapp-"):
        found.append(f"SLACK_APP_TOKEN must be an app-level token for Socket Mode, starting xapp- ({_token_kind(app_token)}): "
                     f"make one under Basic Information → App-Level Tokens with connections:write ({SLACK_APPS}).")
    if client_id and not SLACK_CLIENT_ID.match(client_id):
        found.append(f"SLACK_CLIENT_ID is not a Slack client ID (digits, a dot, digits, like 1234567890.1234567890; "
                     f"got {client_id!r}): copy it from Basic Information ({SLACK_APPS}).")
    return found


def _token_kind(token: str) -> str:
    for prefix, kind in (("xoxp-", "this is a user token"), ("xapp-", "this is an app-level token: it goes in "
                         "SLACK_APP_TOKEN"), ("xoxb-", "a bot token"), ("xoxe", "this is a refresh or config token")):
        if token.startswith(prefix):
            return kind
    return "this is not a Slack token"


def teams_problems(settings: Settings) -> list[str]:
    app_id, password = (settings.microsoft_app_id or "").strip(), _secret(settings.microsoft_app_password)
    tenant = (settings.microsoft_app_tenant_id or "").strip()
    found: list[str] = []
    if not app_id:
        if password:
            found.append("MICROSOFT_APP_PASSWORD is set but MICROSOFT_APP_ID is not: copy the Microsoft App ID from "
                         "your Azure Bot's Configuration page.")
        elif tenant:
            found.append("MICROSOFT_APP_TENANT_ID is set but MICROSOFT_APP_ID is not: copy the Microsoft App ID from "
                         "your Azure Bot's Configuration page.")
        return found
    if not GUID.match(app_id):
        found.append(f"MICROSOFT_APP_ID must be the Azure Bot's Microsoft App ID, a GUID like "
                     f"00000000-0000-0000-0000-000000000000 (got {app_id!r}).")
    if not password:
        found.append("MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not: Teams replies need the app's client "
                     "secret (Azure Bot → Configuration → Manage Password → New client secret; copy its Value).")
    elif GUID.match(password):
        found.append("MICROSOFT_APP_PASSWORD looks like a GUID, which is the client secret's ID: copy the secret's "
                     "Value instead (shown once, when the secret is made).")
    if tenant and any(ch.isspace() for ch in tenant):
        found.append("MICROSOFT_APP_TENANT_ID contains spaces: give the directory (tenant) ID, a GUID.")
    return found


# ---- what starting raised --------------------------------------------------------------------------

@contextmanager
def translated(settings: Settings, phase: Phase = "start") -> Iterator[None]:
    """Known start-up failures inside the block become a StartupError with their words."""
    try:
        yield
    except StartupError:
        raise
    except Exception as exc:
        message = explain(exc, settings, phase)
        if message is None:
            raise
        logging.getLogger("rflow.startup").debug("start-up failed: %s", message, exc_info=exc)
        raise StartupError(message) from exc


def explain(exc: BaseException, settings: Settings, phase: Phase = "start") -> str | None:
    if isinstance(exc, StartupError):
        return exc.message
    if phase == "listen" and isinstance(exc, OSError):
        return _listen_error(exc, settings)
    if isinstance(exc, DBAPIError):
        return _database_refused(exc, settings)
    if isinstance(exc, (OSError, TimeoutError)):
        return _database_unreachable(exc, settings)
    if type(exc).__name__ == "SlackApiError":  # slack_sdk.errors: Socket Mode's apps.connections.open at start
        error = getattr(getattr(exc, "response", None), "get", lambda _key: None)("error") or "refused"
        return (f"Slack refused to open Socket Mode ({error}): check SLACK_APP_TOKEN (an app-level token, xapp-…, "
                "with connections:write), or unset it to receive Slack's requests over HTTP.")
    if type(exc).__name__ == "CommandError" and "revision" in str(exc):  # alembic.util.exc.CommandError
        return (f"the database has a migration this rflow does not know ({one_line(str(exc))}): it was upgraded "
                "by a newer rflow. Install that version, or point RF_DATABASE_URL at another database.")
    return None


def _where(settings: Settings) -> tuple[str, str, str, str]:
    """(host:port, database, user, setting) of the configured PostgreSQL."""
    url = database_url(settings)
    if url is None:
        return "?", "?", "?", "RF_DATABASE_URL"
    host = f"{url.host or 'localhost'}:{url.port or 5432}"
    return host, url.database or (url.username or ""), url.username or "", "RF_DATABASE_URL"


def _is_sqlite(settings: Settings) -> bool:
    url = database_url(settings)
    return url is not None and url.get_backend_name() == "sqlite"


def _sqlite_path(settings: Settings) -> str:
    url = database_url(settings)
    return str(url.database) if url is not None else str(settings.sqlite_path)


def _database_unreachable(exc: OSError | TimeoutError, settings: Settings) -> str | None:
    if _is_sqlite(settings):
        setting = "RF_DATABASE_URL" if settings.database_url else "RF_SQLITE_PATH"
        if isinstance(exc, OSError) and exc.filename is not None:
            return (f"cannot open the SQLite database at {exc.filename} ({exc.strerror or exc}): set {setting} "
                    "to a file in a folder this user can write.")
        return None
    host, _, _, setting = _where(settings)
    text = str(exc)
    if isinstance(exc, socket.gaierror):
        return f"cannot find the PostgreSQL host {host.rpartition(':')[0]!r} ({exc.strerror or exc}): check the host in {setting}."
    if isinstance(exc, TimeoutError):
        return (f"PostgreSQL at {host} did not answer in time: check that it runs and that this machine may reach "
                f"it (firewall), and the host and port in {setting}.")
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED or "Connect call failed" in text:
        return (f"cannot connect to PostgreSQL at {host}: the connection was refused. Is PostgreSQL running there? "
                f"Check the host and port in {setting}.")
    if isinstance(exc, ConnectionError) or exc.errno is not None:
        return f"cannot connect to PostgreSQL at {host} ({exc.strerror or one_line(text)}): check {setting}."
    return None


def _database_refused(exc: DBAPIError, settings: Settings) -> str:
    original = exc.orig
    text = one_line(str(getattr(original, "__cause__", None) or original or exc))
    text = re.sub(r"^<class '[\w.]+'>:\s*", "", text)
    if _is_sqlite(settings):
        path = _sqlite_path(settings)
        setting = "RF_DATABASE_URL" if settings.database_url else "RF_SQLITE_PATH"
        if "unable to open database file" in text:
            return f"cannot open the SQLite database {path}: check that this user can write its folder, or set {setting}."
        if "file is not a database" in text:
            return f"{path} is not a SQLite database: set {setting} to another file (or move that one away)."
        if "readonly database" in text:
            return f"the SQLite database {path} is read-only for this user: fix its permissions or set {setting}."
        if "database is locked" in text:
            return f"the SQLite database {path} is locked by another program: stop it, or set {setting} to another file."
        return f"the SQLite database {path} failed: {text}."
    host, database, user, setting = _where(settings)
    code = str(getattr(original, "sqlstate", "") or getattr(original, "pgcode", "") or "")
    if code == "3D000" or ("database" in text and "does not exist" in text):
        return (f"PostgreSQL at {host} has no database {database!r}: create it (createdb {database}) "
                f"or fix the database name in {setting}.")
    if code == "28P01" or "password authentication failed" in text:
        return f"PostgreSQL at {host} refused the password for user {user!r}: fix the user or password in {setting}."
    if "pg_hba.conf" in text:
        return (f"PostgreSQL at {host} does not accept connections from this machine as {user!r} (pg_hba.conf): "
                "allow it there, or connect as another user.")
    if code == "28000" or ("role" in text and "does not exist" in text):
        return f"PostgreSQL at {host} has no user {user!r}: create it (createuser {user}) or fix the user in {setting}."
    if code == "42501" or "permission denied" in text:
        return (f"PostgreSQL user {user!r} at {host} may not create rflow's tables in {database!r} ({text}): use the database's "
                f"owner in {setting}, or grant the rights (GRANT CREATE ON SCHEMA public TO {user}).")
    if code == "53300" or "too many" in text:
        return f"PostgreSQL at {host} has too many connections open: close some, or raise its max_connections."
    if code == "57P03":
        return f"PostgreSQL at {host} is starting up or shutting down: try again in a moment."
    return f"PostgreSQL at {host} refused the connection: {text} (check {setting})."


def _listen_error(exc: OSError, settings: Settings) -> str:
    where = f"{settings.host}:{settings.port}"
    if exc.errno == errno.EADDRINUSE:
        return (f"cannot listen on {where}: the port is in use by another program. Stop it, or choose another "
                "RF_PORT (or `rflow serve --port N`).")
    if exc.errno == errno.EACCES:
        return f"cannot listen on {where}: ports below 1024 need privileges. Choose RF_PORT 1024 or above."
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return (f"cannot listen on {where}: {settings.host!r} is not an address of this machine. "
                "Set RF_HOST to 0.0.0.0 (every address) or 127.0.0.1 (this machine only).")
    return f"cannot listen on {where} ({exc.strerror or one_line(str(exc))}): check RF_HOST and RF_PORT."
