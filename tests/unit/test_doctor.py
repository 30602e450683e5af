"""`rflow doctor` against the repository's fakes: every configured connection checked, in words,
ok / failed / skipped, each within its time limit; exit 0 when nothing failed, 2 otherwise (issue 14)."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.bootstrap import build_app
from bot.doctor import FAILED, OK, SKIPPED, Check, render, run_checks
from bot.secretbox import new_key
from bot.settings import Settings
from storage.db import upgrade
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import seed_demo
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_tokens import FakeTeamsIssuer

ROOT = Path(__file__).resolve().parents[2]
OURS = ("RF_", "ANTHROPIC_", "SLACK_", "MICROSOFT_")
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
APP_ID = "00000000-1111-2222-3333-444444444444"
APP_PASSWORD = "Zx8Q~right.client-secret-value"
CONNECT = {"site": "acme.myconnectwise.example", "company": "acme", "public_key": "pub-4f1c",
           "private_key": "PRIV-9d2e-s3cr3t", "client_id": "5b1d6a0e-client-guid"}
EVERY_SETTING_OFF: dict[str, Any] = {
    "RF_DATABASE_URL": None, "RF_REDIS_URL": None, "RF_SECRET_KEY": None, "RF_CW_API_URL": None,
    "ANTHROPIC_API_KEY": None, "ANTHROPIC_BASE_URL": None, "SLACK_BOT_TOKEN": None, "SLACK_SIGNING_SECRET": None,
    "SLACK_APP_TOKEN": None, "SLACK_CLIENT_ID": None, "SLACK_CLIENT_SECRET": None, "RF_SLACK_API_URL": None,
    "MICROSOFT_APP_ID": None, "MICROSOFT_APP_PASSWORD": None, "MICROSOFT_APP_TENANT_ID": None,
    "RF_TEAMS_OPENID_URL": None, "RF_TEAMS_LOGIN_URL": None, "RF_TEAMS_ANONYMOUS": False,
}


def settings(tmp_path: Path, **values: Any) -> Settings:
    """Only what the test gives: no .env, none of the developer's own settings."""
    return Settings(_env_file=None, **{"RF_SQLITE_PATH": tmp_path / "rflow.db", **EVERY_SETTING_OFF, **values})  # type: ignore[call-arg]


def row(rows: list[Check], name: str) -> Check:
    (found,) = [r for r in rows if r.name == name]
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MicrosoftLogin:
    """login.microsoftonline.com's token endpoint for client credentials, on 127.0.0.1."""

    secret: str
    base_url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)


@asynccontextmanager
async def microsoft_login(secret: str) -> AsyncIterator[MicrosoftLogin]:
    login = MicrosoftLogin(secret)

    async def token(request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        login.requests.append({"tenant": request.match_info["tenant"], **form})
        if form.get("client_secret") != login.secret:
            return web.json_response({"error": "invalid_client", "error_description": (
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the "
                "client secret value, not the client secret ID.\r\nTrace ID: 0000\r\nCorrelation ID: 1111")},
                status=401)
        return web.json_response({"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ.fake.token"})

    app = web.Application()
    app.router.add_post("/{tenant}/oauth2/v2.0/token", token)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    login.base_url = f"http://{host}:{port}"
    try:
        yield login
    finally:
        await runner.cleanup()


@dataclass
class Fakes:
    slack: FakeSlack
    anthropic: FakeAnthropic
    issuer: FakeTeamsIssuer
    login: MicrosoftLogin
    cw: FakeConnectWise


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    issuer = FakeTeamsIssuer()
    await issuer.start()
    try:
        async with FakeSlack() as slack, FakeAnthropic() as anthropic, FakeConnectWise() as cw, \
                microsoft_login(APP_PASSWORD) as login:
            seed_demo(cw)
            yield Fakes(slack, anthropic, issuer, login, cw)
    finally:
        await issuer.close()


def configured(tmp_path: Path, fakes: Fakes, key: str, **values: Any) -> Settings:
    return settings(tmp_path, **{
        "RF_SECRET_KEY": key, "RF_CW_API_URL": fakes.cw.base_url, "RF_PSA_TIMEOUT": 3,
        "ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": fakes.anthropic.base_url,
        "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET, "RF_SLACK_API_URL": fakes.slack.base_url,
        "MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": APP_PASSWORD, "RF_TEAMS_LOGIN_URL": fakes.login.base_url,
        "RF_TEAMS_OPENID_URL": fakes.issuer.metadata_url, **values})


async def connect_connectwise(current: Settings, account: str = "Acme") -> None:
    """An account whose owner connected ConnectWise (through core, as /psa connect does)."""
    app = await build_app(current)
    try:
        actor, _, _ = await app.engine.accounts.sign_in(account_name=account, platform="console", external_id="dana",
                                                        name="Dana")
        result = await app.engine.psa.configure(actor=actor, values=CONNECT)
        assert result.report.ok, result.report
    finally:
        await app.close()


# ---- everything answering ----------------------------------------------------------------------------

async def test_every_configured_connection_answering_is_ok(tmp_path: Path, fakes: Fakes) -> None:
    current = configured(tmp_path, fakes, new_key())
    await connect_connectwise(current)
    rows = await run_checks(current, timeout=5)
    assert {r.name: r.status for r in rows} == {
        "configuration": OK, "data directory": OK, "database": OK, "redis": SKIPPED, "slack": OK, "teams token": OK,
        "teams signing keys": OK, "anthropic": OK, "connectwise (Acme)": OK}, render(rows)
    assert "migrations at the latest" in row(rows, "database").detail
    assert str(tmp_path / "rflow.log") in row(rows, "data directory").detail
    assert "workspace" in row(rows, "slack").detail and "(T1)" in row(rows, "slack").detail
    assert fakes.slack.calls("auth.test")
    assert "claude-sonnet-4-6 and claude-haiku-4-5" in row(rows, "anthropic").detail
    assert [r.body["max_tokens"] for r in fakes.anthropic.requests] == [1, 1]  # the stand-in has no models list
    assert fakes.login.requests[0]["tenant"] == "botframework.com"  # multi-tenant: the Bot Framework's tenant
    assert fakes.login.requests[0]["scope"] == "https://api.botframework.com/.default"
    assert "signing keys 1 from" in row(rows, "teams signing keys").detail
    assert "ConnectWise answered" in row(rows, "connectwise (Acme)").detail
    table = render(rows)
    assert table.splitlines()[0].split() == ["CHECK", "STATUS", "DETAIL"] and "nothing failed" in table
    for secret in (APP_PASSWORD, "sk-ant-test", CONNECT["private_key"], SIGNING_SECRET):
        assert secret not in table


# ---- failures, each in words --------------------------------------------------------------------------

async def test_each_refusal_is_named_with_what_to_fix(tmp_path: Path, fakes: Fakes) -> None:
    key = new_key()
    await connect_connectwise(configured(tmp_path, fakes, key))
    fakes.cw.api_keys.clear()  # the API member was deleted in ConnectWise since
    fakes.anthropic.push_error(401, message="invalid x-api-key")
    current = configured(tmp_path, fakes, key, SLACK_BOT_TOKEN="xoxb-revoked", MICROSOFT_APP_PASSWORD="Zx8Q~wrong",
                         RF_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    rows = await run_checks(current, timeout=5)
    statuses = {r.name: r.status for r in rows}
    assert statuses["configuration"] == OK and statuses["database"] == OK, render(rows)
    assert "SLACK_BOT_TOKEN" in row(rows, "slack").detail and "invalid_auth" in row(rows, "slack").detail
    assert "cannot connect to Redis at 127.0.0.1" in row(rows, "redis").detail
    assert "MICROSOFT_APP_PASSWORD is not a valid client secret" in row(rows, "teams token").detail
    assert "AADSTS7000215" in row(rows, "teams token").detail and "Trace ID" not in row(rows, "teams token").detail
    assert "does not accept ANTHROPIC_API_KEY" in row(rows, "anthropic").detail
    assert row(rows, "connectwise (Acme)").status == FAILED and row(rows, "connectwise (Acme)").detail
    assert all(statuses[name] == FAILED for name in ("slack", "redis", "teams token", "anthropic")), render(rows)
    assert "4 failed" in render(rows) or "5 failed" in render(rows)


async def test_configuration_problems_are_rows_of_their_own(tmp_path: Path) -> None:
    current = settings(tmp_path, SLACK_BOT_TOKEN="xoxp-user", SLACK_SIGNING_SECRET="short", MICROSOFT_APP_ID=APP_ID,
                       RF_TEAMS_LOGIN_URL=f"http://127.0.0.1:{free_port()}", RF_SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",
                       RF_TEAMS_OPENID_URL=f"http://127.0.0.1:{free_port()}/openid")
    rows = await run_checks(current, timeout=3)
    problems = [r.detail for r in rows if r.name == "configuration"]
    assert len(problems) == 3 and all(r.status == FAILED for r in rows if r.name == "configuration")
    assert any("SLACK_SIGNING_SECRET" in p for p in problems) and any("SLACK_BOT_TOKEN" in p for p in problems)
    assert any("MICROSOFT_APP_PASSWORD is not" in p for p in problems)
    assert "cannot connect to Slack at http://127.0.0.1" in row(rows, "slack").detail
    assert "MICROSOFT_APP_PASSWORD is not set" in row(rows, "teams token").detail
    assert "cannot connect" in row(rows, "teams signing keys").detail


async def test_a_service_that_hangs_fails_within_the_time_limit(tmp_path: Path, fakes: Fakes) -> None:
    fakes.slack.delay("auth.test", 5)
    started = time.monotonic()
    rows = await run_checks(settings(tmp_path, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SIGNING_SECRET,
                                     RF_SLACK_API_URL=fakes.slack.base_url), timeout=0.5)
    assert time.monotonic() - started < 3
    assert row(rows, "slack").status == FAILED
    assert "did not answer" in row(rows, "slack").detail, render(rows)


async def test_a_model_the_key_cannot_use_is_named(tmp_path: Path, fakes: Fakes) -> None:
    fakes.anthropic.push_error(404, message="model: claude-nonexistent")
    rows = await run_checks(settings(tmp_path, ANTHROPIC_API_KEY="sk-ant-test", ANTHROPIC_BASE_URL=fakes.anthropic.base_url,
                                     RF_MAIN_MODEL="claude-nonexistent"), timeout=5)
    assert row(rows, "anthropic").status == FAILED
    assert "'claude-nonexistent' (RF_MAIN_MODEL) is not available" in row(rows, "anthropic").detail


# ---- the database's state -------------------------------------------------------------------------------

async def test_the_database_states(tmp_path: Path) -> None:
    current = settings(tmp_path)
    rows = await run_checks(current, timeout=5)
    assert "does not exist yet" in row(rows, "database").detail and row(rows, "database").status == OK
    assert not (tmp_path / "rflow.db").exists()  # the doctor makes nothing

    sqlite3.connect(tmp_path / "rflow.db").close()
    assert "is empty" in row(await run_checks(current, timeout=5), "database").detail

    await upgrade(current.resolved_database_url)
    with sqlite3.connect(tmp_path / "rflow.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0007'")
    database = row(await run_checks(current, timeout=5), "database")
    assert database.status == OK and "at migration 0007, 1 behind" in database.detail and "rflow db upgrade" in database.detail

    with sqlite3.connect(tmp_path / "rflow.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    database = row(await run_checks(current, timeout=5), "database")
    assert database.status == FAILED and "9999" in database.detail and "newer rflow" in database.detail


async def test_stored_psa_connections_need_the_database_and_the_secret_key(tmp_path: Path) -> None:
    rows = await run_checks(settings(tmp_path), timeout=5)
    assert row(rows, "connectwise").status == SKIPPED and "RF_SECRET_KEY" in row(rows, "connectwise").detail
    rows = await run_checks(settings(tmp_path, RF_SECRET_KEY=new_key()), timeout=5)
    assert row(rows, "connectwise").status == SKIPPED and "database" in row(rows, "connectwise").detail
    await upgrade(f"sqlite:///{tmp_path / 'rflow.db'}")
    rows = await run_checks(settings(tmp_path, RF_SECRET_KEY=new_key()), timeout=5)
    assert row(rows, "connectwise").status == SKIPPED and "no account has connected" in row(rows, "connectwise").detail


@pytest.mark.redis
async def test_redis_answering_is_ok(tmp_path: Path) -> None:
    from tests.services import redis_url_or_skip

    redis = row(await run_checks(settings(tmp_path, RF_REDIS_URL=redis_url_or_skip()), timeout=5), "redis")
    assert redis.status == OK and "answers (Redis" in redis.detail


# ---- the command ----------------------------------------------------------------------------------------

async def doctor(tmp_path: Path, **env: str) -> tuple[int, str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    clean.update({"PYTHONPATH": str(ROOT), **env})
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "doctor", "--timeout", "5", cwd=tmp_path,
                                                env=clean, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_rflow_doctor_exits_0_when_nothing_failed_and_makes_nothing(tmp_path: Path, fakes: Fakes) -> None:
    code, out, err = await doctor(tmp_path, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SIGNING_SECRET,
                                  RF_SLACK_API_URL=fakes.slack.base_url)
    assert code == 0 and err == "" and "Traceback" not in out, out + err
    lines = out.splitlines()
    assert lines[0].split() == ["CHECK", "STATUS", "DETAIL"]
    assert any(line.split()[:2] == ["slack", "ok"] for line in lines[1:] if line.strip()), out
    assert any(line.split()[:2] == ["anthropic", "skipped"] for line in lines[1:] if line.strip()), out
    assert "nothing failed" in out
    assert not (tmp_path / "data").exists()  # neither the data directory nor the database is made


async def test_rflow_doctor_exits_2_when_a_check_failed(tmp_path: Path) -> None:
    port = free_port()
    code, out, err = await doctor(tmp_path, RF_DATABASE_URL=f"postgresql://rf:hunter2@127.0.0.1:{port}/rf")
    assert code == 2 and "Traceback" not in out + err, out + err
    (database,) = [line for line in out.splitlines() if line.startswith("database ")]
    assert database.split()[1] == "failed" and f"127.0.0.1:{port}" in database and "refused" in database
    assert "hunter2" not in out + err and "1 failed" in out


async def test_rflow_doctor_with_settings_that_do_not_load(tmp_path: Path) -> None:
    code, out, err = await doctor(tmp_path, RF_PORT="three thousand")
    assert code == 2 and "Traceback" not in out + err, out + err
    assert "configuration" in out and "RF_PORT" in out and "failed" in out
