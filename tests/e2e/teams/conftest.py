"""The bot as Teams (and Slack) see it: `rflow serve`'s aiohttp app on a real port with both surfaces
configured, the Bot Connector, Slack's Web API, Slack's response URLs and the Anthropic API faked at
the network edge. Activities are POSTed to /api/messages shaped as Teams sends them, with a bearer
token signed by a local issuer whose OpenID document RF_TEAMS_OPENID_URL points at."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.bootstrap import App, build_app
from bot.settings import Settings
from bot.web import make_web_app
from core.platform import SLACK, TEAMS
from core.surfaces import escalation_key, lane_key
from tests.adapters.teams.card_schema import validate_card
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackClient, Wire, app_mention, event_callback, slash_command, wire
from tests.fakes.teams_messages import plain_message
from tests.fakes.teams_tokens import FakeTeamsIssuer

APP_ID = "00000000-1111-2222-3333-444444444444"
BOT = f"28:{APP_ID}"
TENANT = "11111111-2222-3333-4444-555555555555"
DESK = "19:desk@thread.tacv2"
ESCALATIONS = "19:escalations@thread.tacv2"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_TEAM, SLACK_CHANNEL, SLACK_ESCALATIONS = "T1", "C1", "CESC"
_ids = itertools.count(1_800_000_000_001)
_slack_ts = itertools.count(1)


@dataclass(frozen=True)
class TeamsUser:
    id: str
    name: str
    email: str | None
    aad: str
    tenant: str = TENANT


EVE = TeamsUser("29:eve", "Eve", "eve@contoso.example", "aad-eve")
DANA_T = TeamsUser("29:dana", "Dana", "dana@acme.example", "aad-dana")
SAM_T = TeamsUser("29:sam", "Sam", "sam@acme.example", "aad-sam")


class ShiftedClock:
    """The system clock plus an offset a test moves forward (connect codes expire after 15 minutes)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class ResponseUrls:
    """Slack's response_url endpoints on 127.0.0.1: what the bot answered a command or a click with."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/{n}", self._post)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def _post(self, request: web.Request) -> web.Response:
        self.posts.append({"n": request.match_info["n"], **(await request.json())})
        return web.Response(text="ok")

    def url(self, n: str) -> str:
        return f"{self.base_url}/hooks/{n}"

    def texts(self, n: str) -> list[str]:
        return [str(p.get("text", "")) for p in self.posts if p["n"] == n]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def shown_text(card: dict[str, Any]) -> str:
    """What a reader sees: every TextBlock and every FactSet line."""
    lines = []
    for node in walk(card):
        if node.get("type") == "TextBlock":
            lines.append(str(node.get("text", "")))
        elif node.get("type") == "FactSet":
            lines += [f"{fact.get('title')}: {fact.get('value')}" for fact in node.get("facts", [])]
    return "\n".join(lines)


def button(card: dict[str, Any], verb: str, **data: Any) -> dict[str, Any]:
    found = [n for n in walk(card) if n.get("type") == "Action.Execute" and n.get("verb") == verb
             and all(n["data"].get(k) == v for k, v in data.items())]
    assert found, f"no {verb} button in the card: {shown_text(card)}"
    return found[0]


def card_of(activity: dict[str, Any]) -> dict[str, Any] | None:
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == CARD_TYPE:
            return dict(attachment["content"])
    return None


@dataclass
class TeamsBot:
    app: App
    connector: FakeBotConnector
    issuer: FakeTeamsIssuer
    anthropic: FakeAnthropic
    slack: FakeSlack
    hooks: ResponseUrls
    slack_client: SlackClient
    base_url: str
    clock: ShiftedClock
    http: aiohttp.ClientSession

    # Sending as Teams ----------------------------------------------------------------------------

    def token(self) -> str:
        return self.issuer.make_token(APP_ID, serviceurl=self.connector.base_url)

    async def post(self, activity: dict[str, Any], *, token: str | None = "default") -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {self.token() if token == 'default' else token}"
        async with self.http.post(self.base_url + "/api/messages", data=json.dumps(activity), headers=headers) as resp:
            text = await resp.text()
            return resp.status, (json.loads(text) if text and "json" in resp.content_type else text)

    def activity(self, user: TeamsUser, conversation: dict[str, Any], **fields: Any) -> dict[str, Any]:
        data = {"type": "message", "id": str(next(_ids)), "timestamp": datetime.now(UTC).isoformat(),
                "serviceUrl": self.connector.base_url, "channelId": "msteams",
                "from": {"id": user.id, "name": user.name, "aadObjectId": user.aad},
                "recipient": {"id": BOT, "name": "ResolutionFlow"}, "conversation": conversation,
                "channelData": {"tenant": {"id": user.tenant}}}
        if conversation.get("conversationType") == "channel":
            data["channelData"]["channel"] = {"id": conversation["id"].split(";")[0]}
        return data | fields

    def channel(self, channel: str, root: str, tenant: str = TENANT) -> dict[str, Any]:
        return {"id": f"{channel};messageid={root}", "isGroup": True, "conversationType": "channel", "tenantId": tenant}

    @staticmethod
    def personal(conversation_id: str, tenant: str = TENANT) -> dict[str, Any]:
        return {"id": conversation_id, "conversationType": "personal", "tenantId": tenant}

    async def mention(self, user: TeamsUser, text: str, *, channel: str = DESK, root: str | None = None) -> str:
        """`@ResolutionFlow <text>`: a new post in the channel (root None) or a reply in its chain."""
        message_id = str(next(_ids))
        conversation = self.channel(channel, root or message_id, user.tenant)
        activity = self.activity(user, conversation, id=message_id, **plain_message(f"<at>ResolutionFlow</at> {text}"),
                                 entities=[{"type": "mention", "text": "<at>ResolutionFlow</at>",
                                            "mentioned": {"id": BOT, "name": "ResolutionFlow"}}])
        status, body = await self.post(activity)
        assert status == 202, body
        return conversation["id"]

    async def say(self, user: TeamsUser, conversation: dict[str, Any], text: str) -> None:
        """A message as Teams delivers it: plain `text`, its HTML twin as an attachment."""
        status, body = await self.post(self.activity(user, conversation, **plain_message(text)))
        assert status == 202, body

    async def click(self, user: TeamsUser, conversation: dict[str, Any], action: dict[str, Any], *,
                    reply_to: str, inputs: dict[str, str] | None = None) -> tuple[int, Any]:
        """An Action.Execute as Teams sends it: an invoke whose data carries the card's inputs."""
        value = {"action": {"type": "Action.Execute", "verb": action["verb"], "data": {**action["data"], **(inputs or {})}},
                 "trigger": "manual"}
        return await self.post(self.activity(user, conversation, type="invoke", name="adaptiveCard/action",
                                             replyToId=reply_to, value=value))

    async def search(self, user: TeamsUser, conversation: dict[str, Any], dataset: str, text: str, *,
                     skip: int = 0, top: int = 15, token: str | None = "default") -> tuple[int, Any]:
        """A typeahead menu asking as Teams does (learn.microsoft.com/microsoftteams/platform/
        task-modules-and-cards/cards/dynamic-search, "Invoke request")."""
        value = {"queryText": text, "queryOptions": {"skip": skip, "top": top}, "dataset": dataset}
        return await self.post(self.activity(user, conversation, type="invoke", name="application/search", value=value,
                                             locale="en-US"), token=token)

    # Reading what the bot did --------------------------------------------------------------------

    def current(self, conversation_id: str, activity_id: str) -> dict[str, Any]:
        """The message as people see it now: the last update of it, else as sent."""
        for updated in reversed(self.connector.updated):
            if (updated.conversation_id, updated.activity_id) == (conversation_id, activity_id):
                return updated.activity
        for sent in self.connector.sent:
            if (sent.conversation_id, sent.activity_id) == (conversation_id, activity_id):
                return sent.activity
        raise AssertionError(f"no message {activity_id} in {conversation_id}")

    def texts(self, conversation_id: str) -> list[str]:
        return [str(s.activity.get("text")) for s in self.connector.sent
                if s.conversation_id == conversation_id and s.activity.get("text")]

    def cards(self, conversation_id: str) -> list[tuple[str, dict[str, Any]]]:
        """(activity id, current card) of every card message in the conversation, oldest first."""
        found = []
        for sent in self.connector.sent:
            if sent.conversation_id == conversation_id:
                card = card_of(self.current(conversation_id, sent.activity_id))
                if card is not None:
                    found.append((sent.activity_id, card))
        return found

    def assert_cards_valid(self) -> int:
        """Every card sent or edited through the fake connector validates against the 1.5 schema."""
        activities = [s.activity for s in self.connector.sent] + [u.activity for u in self.connector.updated]
        cards = [card for card in map(card_of, activities) if card is not None]
        for card in cards:
            validate_card(card)
        return len(cards)

    async def account_of(self, platform: str = TEAMS, tenant: str = TENANT) -> int | None:
        return await self.app.engine.tenants.account_id_for(platform=platform, tenant_id=tenant)

    async def ref(self, key: str, *, surface: str = TEAMS, tenant: str = TENANT) -> dict[str, Any] | None:
        account = await self.account_of(TEAMS, tenant) or await self.account_of(SLACK, SLACK_TEAM)
        assert account is not None
        row = await self.app.engine.surfaces.get(account_id=account, surface=surface, key=key)
        return dict(row.ref) if row else None

    async def lane(self, session_id: int) -> dict[str, Any]:
        ref = await self.ref(lane_key(session_id))
        assert ref is not None, f"session {session_id} has no Teams lane"
        return ref

    async def escalation_post(self, handoff_id: int, surface: str = TEAMS) -> dict[str, Any] | None:
        return await self.ref(escalation_key(handoff_id), surface=surface)

    async def settle(self, timeout: float = 15.0) -> None:
        """Wait until the inbox, the assistant turns, late clicks and Slack's modals are all done."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            await self.app.teams.drain()
            if self.app.slack is not None:
                await self.app.slack.modals.drain()
            async with self.app.engine.deps.uow_factory() as uow:
                busy = await uow.inbound.count_open() + await uow.turns.count_open()
            busy += self.app.engine.turns.running  # a finished turn's reply may still be on its way
            quiet = quiet + 1 if busy == 0 else 0
            if quiet >= 3:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the bot did not settle")

    # Slack -----------------------------------------------------------------------------------------

    async def connect_code(self, hook: str) -> str:
        """`/rf connect teams` by Dana (a Slack admin); the code comes back on the command's response URL."""
        reply = await self.slack_client.post_command(slash_command(
            SLACK_TEAM, "UDANA", text="connect teams", channel_id=SLACK_CHANNEL, response_url=self.hooks.url(hook)))
        assert reply.status == 200, reply.body
        await self.settle()
        [text] = self.hooks.texts(hook)
        match = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", text)
        assert match, text
        return match.group(1)

    async def slack_mention(self, user: str, text: str) -> str:
        ts = f"{int(time.time())}.{next(_slack_ts):06d}"
        reply = await self.slack_client.post_event(
            event_callback(SLACK_TEAM, app_mention(user, SLACK_CHANNEL, wire(Wire("<@UBOT> "), text), ts)))
        assert reply.status == 200, reply.body
        return ts


@asynccontextmanager
async def running_bot(tmp_path: Path, **extra: Any) -> AsyncIterator[TeamsBot]:
    """The bot with its fakes; `extra` settings add to the defaults (the PSA's, say)."""
    connector, issuer, hooks = FakeBotConnector(), FakeTeamsIssuer(), ResponseUrls()
    await connector.start()
    await issuer.start()
    await hooks.start()
    for user in (EVE, DANA_T, SAM_T):
        for channel in (DESK, ESCALATIONS):
            connector.add_member(channel, id=user.id, name=user.name, email=user.email, aad_object_id=user.aad,
                                 user_principal_name=user.email, tenant_id=TENANT)
    try:
        async with FakeSlack() as slack, FakeAnthropic() as anthropic:
            slack.add_user("UDANA", "Dana", email="dana@acme.example", is_admin=True)
            slack.add_user("USAM", "Sam", email="sam@acme.example")
            slack.add_user("URIA", "Ria", email="ria@acme.example")
            slack.add_channel(SLACK_CHANNEL, "helpdesk")
            slack.add_channel(SLACK_ESCALATIONS, "escalations")
            settings = Settings(
                RF_SQLITE_PATH=tmp_path / "teams.db", ANTHROPIC_API_KEY="sk-ant-test",
                ANTHROPIC_BASE_URL=anthropic.base_url, RF_LLM_MAX_RETRIES=0, RF_LLM_TIMEOUT=10,
                SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SLACK_SECRET, RF_SLACK_API_URL=slack.base_url,
                RF_SLACK_POST_INTERVAL=0.0, MICROSOFT_APP_ID=APP_ID, RF_TEAMS_OPENID_URL=issuer.metadata_url, **extra)
            app = await build_app(settings, platforms=True)
            assert app.teams is not None and app.slack is not None
            clock = ShiftedClock()
            app.engine.deps.clock = clock
            server = TestServer(make_web_app(app), host="127.0.0.1")
            await server.start_server()
            base_url = str(server.make_url("")).rstrip("/")
            try:
                async with aiohttp.ClientSession() as http, SlackClient(base_url, SLACK_SECRET) as slack_client:
                    yield TeamsBot(app=app, connector=connector, issuer=issuer, anthropic=anthropic, slack=slack,
                                   hooks=hooks, slack_client=slack_client, base_url=base_url, clock=clock, http=http)
            finally:
                await server.close()
                await app.close()
    finally:
        await hooks.close()
        await issuer.close()
        await connector.close()


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[TeamsBot]:
    async with running_bot(tmp_path) as running:
        yield running
