"""`rflow serve`'s HTTP surface: /healthz reports the database and the migrations honestly."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.bootstrap import build_app
from bot.settings import Settings
from bot.web import make_web_app


async def test_healthz_ok_then_behind(tmp_path: Path) -> None:
    settings = Settings(RF_SQLITE_PATH=tmp_path / "serve.db", ANTHROPIC_API_KEY="")
    app = await build_app(settings)
    try:
        async with TestClient(TestServer(make_web_app(app))) as client:
            response = await client.get("/healthz")
            assert response.status == 200
            assert await response.json() == {"status": "ok", "database": "ok", "migrations": "current"}
            async with app.db.begin() as connection:  # an older schema version: not current any more
                await connection.execute(text("UPDATE alembic_version SET version_num = 'old'"))
            response = await client.get("/healthz")
            assert response.status == 503
            assert (await response.json())["migrations"] == "behind"
    finally:
        await app.close()


def test_rflow_serves_only_with_platform_credentials() -> None:
    assert not Settings(SLACK_BOT_TOKEN=None, MICROSOFT_APP_ID=None).has_platform_credentials
    assert Settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s").has_platform_credentials
    assert Settings(MICROSOFT_APP_ID="00000000-0000-0000-0000-000000000000").has_platform_credentials


async def test_the_server_worker_answers_turns_without_polling_delay(tmp_path: Path) -> None:
    import asyncio
    import time

    from tests.fakes.anthropic_api import FakeAnthropic

    async with FakeAnthropic() as fake:
        fake.push_update("Is the printer powered on?", questions=["Is the printer powered on?"])
        settings = Settings(RF_SQLITE_PATH=tmp_path / "serve.db", ANTHROPIC_API_KEY="sk-ant-test",
                            ANTHROPIC_BASE_URL=fake.base_url, RF_LLM_MAX_RETRIES=0)
        app = await build_app(settings)
        try:
            async with TestClient(TestServer(make_web_app(app))):
                actor, _, _ = await app.engine.accounts.sign_in(account_name="Acme", platform="test",
                                                                external_id="dana", name="Dana")
                started = time.perf_counter()
                posted = await app.engine.sessions.start(actor=actor, problem="Printer offline")
                for _ in range(100):
                    view = await app.engine.sessions.view(actor=actor, session_id=posted.session.id or 0)
                    if view.items:
                        break
                    await asyncio.sleep(0.02)
                assert [i.text for i in view.items] == ["Is the printer powered on?"]
                assert time.perf_counter() - started < 1.5
        finally:
            await app.close()
