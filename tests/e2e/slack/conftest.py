"""The bot as Slack sees it: `rflow serve`'s aiohttp app on a real port, Slack's Web API and the
Anthropic API faked at the network edge, requests to /slack/events signed exactly as Slack signs."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import App, build_app
from bot.settings import Settings
from bot.web import make_web_app
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import (
    SlackClient,
    Wire,
    app_mention,
    block_action,
    event_callback,
    message_event,
    slash_command,
    view_submission,
    wire,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T1"
CHANNEL = "C1"
ESCALATIONS = "CESC"
_ts = itertools.count(1)


def next_ts() -> str:
    return f"{int(time.time())}.{next(_ts):06d}"


@dataclass
class SlackBot:
    app: App
    slack: FakeSlack
    anthropic: FakeAnthropic
    client: SlackClient
    base_url: str
    settings: Settings
    threads: dict[int, str] = field(default_factory=dict)

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the inbox, the assistant turns and the modals being opened are all done."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            assert self.app.slack is not None
            await self.app.slack.modals.drain()
            async with self.app.engine.deps.uow_factory() as uow:
                busy = await uow.inbound.count_open() + await uow.turns.count_open()
            busy += self.app.engine.turns.running  # a finished turn's reply may still be on its way
            quiet = quiet + 1 if busy == 0 else 0
            if quiet >= 3:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the bot did not settle")

    async def mention(self, user: str, text: str, *, channel: str = CHANNEL, thread_ts: str | None = None) -> str:
        """`@ResolutionFlow <text>`: `text` is what the person typed (or a `wire(...)` with references),
        sent encoded as Slack sends it."""
        ts = next_ts()
        event = app_mention(user, channel, wire(Wire("<@UBOT> "), text), ts, thread_ts)
        reply = await self.client.post_event(event_callback(TEAM, event))
        assert reply.status == 200, reply.body
        return ts

    async def reply(self, user: str, text: str, thread_ts: str, *, channel: str = CHANNEL) -> str:
        """A reply in the thread: typed text (or `wire(...)`), encoded as Slack sends it."""
        ts = next_ts()
        reply = await self.client.post_event(event_callback(TEAM, message_event(user, channel, wire(text), ts,
                                                                                thread_ts=thread_ts)))
        assert reply.status == 200, reply.body
        return ts

    def lane_blocks(self, session_id: int) -> list[dict[str, Any]]:
        """The lane as Slack shows it now: the last chat.update (or the first post) of the lane message."""
        ref = self.lane_ref(session_id)
        message = self.slack.message(ref["channel"], ref["ts"])
        assert message is not None
        return list(message.get("blocks") or [])

    async def click(self, user: str, action_id: str, session_id: int, *, index: int = 0) -> str:
        """Press a button on the session's lane as `user`; returns the trigger_id used."""
        ref = await self.load_lane_ref(session_id)
        buttons = find_buttons(self.lane_blocks(session_id), action_id)
        assert buttons, f"no {action_id} on the lane: {self.lane_blocks(session_id)}"
        return await self.press(user, buttons[index], channel=ref["channel"], message_ts=ref["ts"])

    async def press(self, user: str, button: dict[str, Any], *, channel: str, message_ts: str) -> str:
        trigger = self.slack.trigger_id()
        reply = await self.client.post_interaction(block_action(
            TEAM, user, button["action_id"], button.get("value", ""), channel=channel, message_ts=message_ts,
            trigger_id=trigger))
        assert reply.status == 200, reply.body
        return trigger

    def last_view(self) -> dict[str, Any]:
        return list(self.slack.views.values())[-1]

    async def submit(self, user: str, view: dict[str, Any], edits: dict[str, str | None] | None = None) -> Any:
        reply = await self.client.post_interaction(view_submission(
            TEAM, user, view["callback_id"], view.get("private_metadata", ""), state_of(view, edits), view["id"],
            view_hash=view.get("hash", "h")))
        return reply

    async def command(self, user: str, text: str, *, channel: str = CHANNEL) -> Any:
        """`/rf <text>`: typed text (or `wire(...)` with references), encoded as Slack sends it."""
        reply = await self.client.post_command(slash_command(
            TEAM, user, text=wire(text), channel_id=channel, trigger_id=self.slack.trigger_id(),
            response_url=self.slack.response_url()))
        assert reply.status == 200, reply.body
        return reply

    def lane_ref(self, session_id: int) -> dict[str, Any]:
        return self._refs[session_id]

    _refs: dict[int, dict[str, Any]] = field(default_factory=dict)

    async def load_lane_ref(self, session_id: int) -> dict[str, Any]:
        from core.platform import SLACK
        from core.surfaces import lane_key

        async with self.app.engine.deps.uow_factory() as uow:
            accounts = [a for a in [await uow.tenants.find(platform=SLACK, external_id=TEAM)] if a]
            row = await uow.surface_refs.get(account_id=accounts[0].account_id, surface=SLACK, key=lane_key(session_id))
        assert row is not None, f"no lane for session {session_id}"
        self._refs[session_id] = dict(row.ref)
        return self._refs[session_id]


def find_buttons(blocks: list[dict[str, Any]], action_id: str) -> list[dict[str, Any]]:
    """Every button with this action_id in a message or view, wherever Block Kit nests it."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "button" and node.get("action_id") == action_id:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def state_of(view: dict[str, Any], edits: dict[str, str | None] | None = None) -> dict[str, Any]:
    """What Slack sends as view.state.values for a view submitted as shown, with `edits` typed in
    (by block_id; a select or radio buttons take the option value, checkboxes comma-separated values or None)."""
    edits = edits or {}
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        block_id, kind = block["block_id"], element["type"]
        value = edits.get(block_id, element.get("initial_value"))
        if kind == "plain_text_input":
            state: dict[str, Any] = {"type": kind, "value": value}
        elif kind == "static_select":
            chosen = edits.get(block_id) or (element.get("initial_option") or {}).get("value")
            state = {"type": kind, "selected_option": {"value": chosen} if chosen else None}
        elif kind == "conversations_select":
            state = {"type": kind, "selected_conversation": edits.get(block_id, element.get("initial_conversation"))}
        elif kind == "checkboxes":  # as shown (initial_options) unless edited
            shown = ",".join(o["value"] for o in element.get("initial_options") or [])
            chosen = edits[block_id] if block_id in edits else shown
            state = {"type": kind, "selected_options": [{"value": v} for v in (chosen or "").split(",") if v]}
        elif kind in ("radio_buttons", "external_select"):
            chosen = edits[block_id] if block_id in edits else (element.get("initial_option") or {}).get("value")
            state = {"type": kind, "selected_option": {"value": chosen} if chosen else None}
        else:
            raise AssertionError(f"no test support for {kind}")
        values[block_id] = {element["action_id"]: state}
    return values


def slack_settings(tmp_path: Path, slack: FakeSlack, anthropic: FakeAnthropic, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "RF_SQLITE_PATH": tmp_path / "slack.db", "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
        "RF_SLACK_API_URL": slack.base_url, "RF_SLACK_POST_INTERVAL": 0.0, "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": anthropic.base_url, "RF_LLM_MAX_RETRIES": 0, "RF_LLM_TIMEOUT": 10,
    }
    values.update(extra)
    return Settings(**values)


@pytest.fixture
async def slack_bot(tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with FakeSlack() as slack, FakeAnthropic() as anthropic:
        slack.add_user("UDANA", "Dana", email="dana@acme.example", is_admin=True)
        slack.add_user("USAM", "Sam", email="sam@acme.example")
        slack.add_user("URIA", "Ria", email="ria@acme.example")
        slack.add_user("UVIC", "Vic", email="vic@acme.example")
        slack.add_channel(CHANNEL, "helpdesk")
        slack.add_channel(ESCALATIONS, "escalations")
        settings = slack_settings(tmp_path, slack, anthropic)
        app = await build_app(settings, platforms=True)
        server = TestServer(make_web_app(app))
        await server.start_server()
        base_url = str(server.make_url(""))
        try:
            async with SlackClient(base_url, SECRET) as client:
                yield SlackBot(app=app, slack=slack, anthropic=anthropic, client=client, base_url=base_url, settings=settings)
        finally:
            await server.close()
            await app.close()
