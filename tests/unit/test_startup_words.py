"""Configuration and start-up errors are one line of words on stderr and exit code 2, never a
traceback (issue 14); `rflow --version`; the console logs to a file; `.env.example` lists every setting."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from bot.settings import Settings
from bot.startup_errors import explain, problems, slack_problems, teams_problems

ROOT = Path(__file__).resolve().parents[2]
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's documented example signing secret
APP_ID = "00000000-1111-2222-3333-444444444444"
OURS = ("RF_", "ANTHROPIC_", "SLACK_", "MICROSOFT_")


def rflow(tmp_path: Path, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot.cli ARGS` in tmp_path, with none of our settings but `env` (and SQLite in tmp_path)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    clean.update({"PYTHONPATH": str(ROOT), "RF_SQLITE_PATH": str(tmp_path / "rflow.db"), "ANTHROPIC_API_KEY": ""})
    clean.update(env)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=tmp_path, env=clean, capture_output=True,
                          text=True, timeout=timeout)


def assert_one_line(run: subprocess.CompletedProcess[str], *words: str, never: tuple[str, ...] = ()) -> str:
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 2, (run.returncode, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    line = lines[0]
    assert line.startswith("rflow: "), line
    for word in words:
        assert word in line, line
    for word in never:
        assert word not in line + run.stdout, line
    return line


@pytest.fixture(autouse=True)
def none_of_our_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process checks see only what a test gives (not the developer's own environment)."""
    for name in list(os.environ):
        if name.startswith(OURS):
            monkeypatch.delenv(name)


@pytest.fixture
def free_port() -> Iterator[int]:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    yield port


# ---- no connection needed: the shapes are checked first (fast) ------------------------------------

CASES = [
    (["console"], {"RF_DATABASE_URL": "nonsense"}, ["RF_DATABASE_URL is not a database URL", "postgresql://"], ()),
    (["console"], {"RF_DATABASE_URL": "mysql://rf:hunter2@db.example/rf"}, ["'mysql'", "not support"], ("hunter2",)),
    (["db", "upgrade"], {"RF_DATABASE_URL": "sqlite:///:memory:"}, ["in-memory SQLite", "give a file"], ()),
    (["console"], {"RF_PORT": "abc"}, ["RF_PORT", "valid integer", "'abc'", ".env"], ()),
    (["console"], {"RF_TURN_CONCURRENCY": "0", "RF_LOG_JSON": "maybe"},
     ["RF_TURN_CONCURRENCY", "greater than or equal to 1", "RF_LOG_JSON", "Fix them"], ()),
    (["console"], {"RF_LOG_LEVEL": "LOUD"}, ["RF_LOG_LEVEL must be one of", "DEBUG", "'LOUD'"], ()),
    (["console"], {"RF_SECRET_KEY": "not-a-key-hunter2"}, ["RF_SECRET_KEY", "rflow secret-key"], ("hunter2",)),
    (["worker"], {"RF_REDIS_URL": "http://redis.example:6379"}, ["RF_REDIS_URL must start with redis://"], ()),
    (["serve"], {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "not the secret"},
     ["SLACK_SIGNING_SECRET is not a Slack signing secret", "Basic Information"], ("not the secret",)),
    (["serve"], {"SLACK_BOT_TOKEN": "xoxp-user-hunter2", "SLACK_SIGNING_SECRET": SECRET},
     ["SLACK_BOT_TOKEN must be the Bot User OAuth Token", "user token"], ("hunter2",)),
    (["serve"], {"SLACK_BOT_TOKEN": "xoxb-1"}, ["SLACK_SIGNING_SECRET is not", "Signing Secret"], ()),
    ([], {"SLACK_SIGNING_SECRET": SECRET}, ["there is no token", "SLACK_BOT_TOKEN"], ()),  # bare `rflow` serves
    (["serve"], {"MICROSOFT_APP_ID": APP_ID}, ["MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not"], ()),
    (["worker"], {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "11111111-2222-3333-4444-555555555555"},
     ["MICROSOFT_APP_PASSWORD looks like a GUID", "Value"], ("11111111-2222",)),
    (["serve"], {"MICROSOFT_APP_ID": "my-bot", "MICROSOFT_APP_PASSWORD": "s3cret~value"},
     ["MICROSOFT_APP_ID must be the Azure Bot's Microsoft App ID"], ("s3cret~value",)),
]


@pytest.mark.parametrize(("args", "env", "words", "never"), CASES)
def test_a_wrong_setting_is_one_line_naming_it_and_exit_2(tmp_path: Path, args: list[str], env: dict[str, str],
                                                          words: list[str], never: tuple[str, ...]) -> None:
    assert_one_line(rflow(tmp_path, *args, **env), *words, never=never)
    assert not (tmp_path / "rflow.db").exists()  # nothing was started


def test_an_unwritable_data_directory_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = rflow(tmp_path, "console", RF_SQLITE_PATH=str(blocker / "data" / "rflow.db"))
    assert_one_line(run, "cannot create the data directory", str(blocker / "data"), "RF_SQLITE_PATH")


def test_a_missing_replay_file_is_named(tmp_path: Path) -> None:
    assert_one_line(rflow(tmp_path, "console", "--replay", "nowhere.txt"), "cannot read the --replay file nowhere.txt")


# ---- failures met while starting (the engine is imported: slower) ---------------------------------

def test_postgresql_down_is_named_with_its_address_and_never_the_password(tmp_path: Path, free_port: int) -> None:
    run = rflow(tmp_path, "console", RF_DATABASE_URL=f"postgresql://rf:hunter2@127.0.0.1:{free_port}/rf")
    assert_one_line(run, f"PostgreSQL at 127.0.0.1:{free_port}", "refused", "Is PostgreSQL running",
                    "RF_DATABASE_URL", never=("hunter2",))


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("shopping list\n" * 100)
    run = rflow(tmp_path, "console", RF_SQLITE_PATH=str(tmp_path / "notes.db"))
    assert_one_line(run, "notes.db is not a SQLite database", "RF_SQLITE_PATH")


def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = rflow(tmp_path, "serve", RF_HOST="127.0.0.1", RF_PORT=str(port), RF_LOG_LEVEL="ERROR",
                    SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET=SECRET, RF_SLACK_API_URL="http://127.0.0.1:9/api/")
    assert_one_line(run, f"cannot listen on 127.0.0.1:{port}", "in use", "RF_PORT")


@pytest.mark.postgres
def test_postgresql_refusing_names_the_database_or_the_user(tmp_path: Path) -> None:
    from sqlalchemy import make_url

    from tests.services import postgres_url_or_skip

    url = make_url(postgres_url_or_skip())
    no_database = url.set(database="rf_no_such_database_xyz").render_as_string(hide_password=False)
    assert_one_line(rflow(tmp_path, "console", RF_DATABASE_URL=no_database),
                    "has no database 'rf_no_such_database_xyz'", "createdb", "RF_DATABASE_URL")
    no_user = url.set(username="rf_no_such_user_xyz", password="hunter2").render_as_string(hide_password=False)
    line = assert_one_line(rflow(tmp_path, "console", RF_DATABASE_URL=no_user), "RF_DATABASE_URL", never=("hunter2",))
    assert "rf_no_such_user_xyz" in line or "pg_hba.conf" in line or "password" in line


# ---- the words for what a fake cannot easily produce -----------------------------------------------

class _PgError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("sqlstate", "message", "words"), [
    ("28P01", 'password authentication failed for user "rf"', "refused the password for user 'rf'"),
    ("42501", "permission denied for schema public", "may not create rflow's tables"),
    ("53300", "sorry, too many clients already", "too many connections"),
    ("57P03", "the database system is starting up", "starting up or shutting down"),
])
def test_postgresql_refusals_in_words(sqlstate: str, message: str, words: str) -> None:
    settings = Settings(_env_file=None, RF_DATABASE_URL="postgresql://rf:hunter2@db.example:5433/desk")  # type: ignore[call-arg]
    text = explain(DBAPIError("SELECT 1", {}, _PgError(message, sqlstate)), settings)
    assert text is not None and words in text and "db.example:5433" in text and "hunter2" not in text


def test_an_unknown_exception_is_not_dressed_up() -> None:
    assert explain(RuntimeError("a bug"), Settings(_env_file=None)) is None  # type: ignore[call-arg]


def test_slack_and_teams_shapes() -> None:
    def slack(**values: str | None) -> list[str]:
        return slack_problems(Settings(_env_file=None, **values))  # type: ignore[call-arg, arg-type]

    assert slack(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET=SECRET) == []
    assert slack(SLACK_CLIENT_ID="111.222", SLACK_CLIENT_SECRET="c", SLACK_SIGNING_SECRET=SECRET) == []
    assert "SLACK_APP_TOKEN" in slack(SLACK_BOT_TOKEN="xapp-1-A", SLACK_SIGNING_SECRET=SECRET)[0]
    assert "looks like a token" in slack(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="xoxb-" + "1" * 27)[0]
    assert "SLACK_CLIENT_SECRET is not" in slack(SLACK_CLIENT_ID="111.222", SLACK_SIGNING_SECRET=SECRET)[0]
    assert "starting xapp-" in slack(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET=SECRET, SLACK_APP_TOKEN="xoxb-2")[0]

    def teams(**values: str | None) -> list[str]:
        return teams_problems(Settings(_env_file=None, **values))  # type: ignore[call-arg, arg-type]

    assert teams() == [] and teams(MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD="a~secret.value") == []
    assert "MICROSOFT_APP_ID is not" in teams(MICROSOFT_APP_PASSWORD="a~secret.value")[0]
    assert "MICROSOFT_APP_ID is not" in teams(MICROSOFT_APP_TENANT_ID="contoso.onmicrosoft.com")[0]


def test_the_console_ignores_platform_settings_and_the_server_checks_them() -> None:
    settings = Settings(_env_file=None, SLACK_BOT_TOKEN="xoxb-1")  # type: ignore[call-arg]
    assert problems(settings, platforms=False, create=False) == []
    assert problems(settings, platforms=True, create=False)


# ---- --version, the log file, .env.example ---------------------------------------------------------

def test_version_prints_the_projects_version(tmp_path: Path) -> None:
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    run = rflow(tmp_path, "--version")
    assert run.returncode == 0 and run.stdout.strip() == f"rflow {expected}", run.stdout + run.stderr


def test_the_console_logs_to_a_file_in_the_data_directory_not_to_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "lines.txt").write_text("/new Printer offline\n/sessions\n", encoding="utf-8")
    data = tmp_path / "state"
    run = rflow(tmp_path, "console", "--replay", "lines.txt", RF_SQLITE_PATH=str(data / "rflow.db"), RF_LOG_LEVEL="INFO")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # nothing between the lines of the conversation
    assert "Session #1 started" in run.stdout and "alembic" not in run.stdout
    log = (data / "rflow.log").read_text(encoding="utf-8")
    assert "Running upgrade" in log  # the first start's migrations, at INFO


def test_env_example_lists_every_setting_with_its_default() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^# ([A-Z][A-Z0-9_]+)=(.*)$", text, flags=re.MULTILINE))
    for name, field in Settings.model_fields.items():
        assert field.alias in listed, f"{field.alias} ({name}) is missing from .env.example"
        default = field.default
        shown = "" if default is None else str(default).lower() if isinstance(default, bool) else str(default)
        assert listed[field.alias] == shown, f"{field.alias}: .env.example says {listed[field.alias]!r}, the default is {shown!r}"
    assert set(listed) == {field.alias for field in Settings.model_fields.values()}  # nothing that is not a setting
    lines = text.splitlines()
    for index, line in enumerate(lines):  # each setting has its one-line comment just above
        if re.match(r"^# [A-Z][A-Z0-9_]+=", line):
            assert lines[index - 1].startswith("# ") and "=" not in lines[index - 1].split()[1], line
    defaults = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert defaults.port == 3000  # copied as it is to .env, it changes nothing
