"""The Teams bot as `rflow serve` runs it (aiohttp app on a real port, its queues' workers, SQLite),
with the Bot Connector and login.botframework.com faked at the network edge and the assistant
scripted (tests/fakes/scripted_assistant.py: it streams each reply in growing prefixes, so the
engine dispatches ReplyProgress). Activities are POSTed to /api/messages with valid tokens."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import App, build_app
from bot.settings import Settings
from bot.web import make_web_app
from core.access import Actor
from core.assistant.types import AssistantTurn
from tests.fakes.bot_connector import FakeBotConnector, Posted
from tests.fakes.scripted_assistant import ScriptedAssistant
from tests.fakes.teams_tokens import FakeTeamsIssuer

APP_ID = "00000000-1111-2222-3333-444444444444"
BOT = f"28:{APP_ID}"
TENANT = "11111111-2222-3333-4444-555555555555"
DESK = "19:desk@thread.tacv2"
CHAT = "a:1eve-personal-chat"
EVE = {"id": "29:eve", "name": "Eve", "aadObjectId": "aad-eve"}
STEP_DELAY = 0.35  # between the assistant's growing prefixes: more than the engine's 0.3 s progress pace
_ids = itertools.count(1_900_000_000_001)


@dataclass
class LiveBot:
    app: App
    connector: FakeBotConnector
    issuer: FakeTeamsIssuer
    assistant: ScriptedAssistant
    base_url: str
    http: aiohttp.ClientSession

    async def post(self, activity: dict[str, Any]) -> None:
        token = self.issuer.make_token(APP_ID, serviceurl=self.connector.base_url)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        async with self.http.post(self.base_url + "/api/messages", data=json.dumps(activity), headers=headers) as resp:
            assert resp.status == 202, await resp.text()

    def activity(self, conversation: dict[str, Any], text: str, **fields: Any) -> dict[str, Any]:
        data = {"type": "message", "id": str(next(_ids)), "timestamp": datetime.now(UTC).isoformat(),
                "serviceUrl": self.connector.base_url, "channelId": "msteams", "from": EVE,
                "recipient": {"id": BOT, "name": "ResolutionFlow"}, "conversation": conversation,
                "channelData": {"tenant": {"id": TENANT}}, "text": text}
        if conversation.get("conversationType") == "channel":
            data["channelData"]["channel"] = {"id": conversation["id"].split(";")[0]}
        return data | fields

    @staticmethod
    def personal(conversation_id: str = CHAT) -> dict[str, Any]:
        return {"id": conversation_id, "conversationType": "personal", "tenantId": TENANT}

    async def say(self, conversation: dict[str, Any], text: str) -> float:
        """The engineer writes; returns when (monotonic) the bot had the message."""
        await self.post(self.activity(conversation, text))
        return time.monotonic()

    async def mention(self, text: str, *, channel: str = DESK) -> str:
        """`@ResolutionFlow <text>` as a new channel post; returns the reply chain's conversation id."""
        root = str(next(_ids))
        conversation = {"id": f"{channel};messageid={root}", "isGroup": True, "conversationType": "channel",
                        "tenantId": TENANT}
        await self.post(self.activity(conversation, f"<at>ResolutionFlow</at> {text}", id=root,
                                      entities=[{"type": "mention", "text": "<at>ResolutionFlow</at>",
                                                 "mentioned": {"id": BOT, "name": "ResolutionFlow"}}]))
        return conversation["id"]

    def reply(self, text: str) -> None:
        self.assistant.turns.append(AssistantTurn(reply=text))

    def since(self, conversation_id: str, at: float) -> list[Posted]:
        return [p for p in self.connector.posted(conversation_id) if p.at >= at]

    async def until(self, check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; connector saw: "
                                     + "\n".join(f"{p.type} {p.status} {p.stream_info} {p.text!r}"
                                                 for p in self.connector.activities))
            await asyncio.sleep(0.02)

    async def settle(self, timeout: float = 15.0) -> None:
        """Until no inbound activity or turn is open and no answer is being posted."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3:
            if time.monotonic() > deadline:
                raise AssertionError("the bot did not settle")
            assert self.app.teams is not None
            await asyncio.wait_for(asyncio.shield(self.app.teams.drain()), timeout)
            async with self.app.engine.deps.uow_factory() as uow:
                busy = await uow.inbound.count_open() + await uow.turns.count_open()
            quiet = quiet + 1 if busy == 0 else 0
            await asyncio.sleep(0.05)

    async def actor(self) -> Actor:
        account = await self.app.engine.tenants.account_id_for(platform="teams", tenant_id=TENANT)
        assert account is not None
        return Actor(account_id=account, member_id=1)


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveBot]:
    connector, issuer = FakeBotConnector(), FakeTeamsIssuer()
    await connector.start()
    await issuer.start()
    for conversation in (DESK, CHAT):
        connector.add_member(conversation, id=EVE["id"], name="Eve", email="eve@contoso.example",
                             aad_object_id=EVE["aadObjectId"], user_principal_name="eve@contoso.example",
                             tenant_id=TENANT)
    assistant = ScriptedAssistant(progress_steps=4, step_delay=STEP_DELAY)
    settings = Settings(RF_SQLITE_PATH=tmp_path / "teams.db", MICROSOFT_APP_ID=APP_ID,
                        RF_TEAMS_OPENID_URL=issuer.metadata_url)
    app = await build_app(settings, platforms=True, assistant=assistant)
    assert app.teams is not None
    app.teams.notifier.streams.interval = 0.1  # Teams' one update a second, shortened for the test
    server = TestServer(make_web_app(app), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield LiveBot(app=app, connector=connector, issuer=issuer, assistant=assistant,
                          base_url=str(server.make_url("")).rstrip("/"), http=http)
    finally:
        await server.close()
        await app.close()
        await issuer.close()
        await connector.close()
