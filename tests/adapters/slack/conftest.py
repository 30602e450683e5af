"""The bot over HTTP as in tests/e2e/slack, but answering with a scripted assistant whose timing we
choose: `feedback_bot` streams each reply in growing prefixes (ScriptedAssistant with on_text),
`plain_bot` answers in one piece (no ReplyProgress), so a reply goes out with chat.postMessage."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import build_app
from bot.web import make_web_app
from core.assistant.types import AssistantContext, AssistantTurn, ReplyListener
from tests.e2e.slack.conftest import CHANNEL, ESCALATIONS, SECRET, SlackBot, slack_settings
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.scripted_assistant import ScriptedAssistant
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackClient

OTHER_CHANNEL = "C2"
PROGRESS_STEPS = 4
STEP_DELAY = 0.35  # a little over core's 0.3 s progress interval: every prefix reaches the surface


class UnstreamedAssistant(ScriptedAssistant):
    """The scripted assistant of a model that does not stream: the reply arrives whole, after
    `delay` seconds."""

    delay = 0.0

    async def respond(self, context: AssistantContext, on_text: ReplyListener | None = None) -> AssistantTurn:
        await asyncio.sleep(self.delay)
        return await super().respond(context)


@dataclass
class Bot(SlackBot):
    assistant: ScriptedAssistant | None = None

    async def settle(self, timeout: float = 10.0) -> None:
        """SlackBot.settle, and also until no turn task runs here: a turn's row is finished before
        its answer is delivered, and delivery (retries, waits for Retry-After) is what we test."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3:
            if time.monotonic() > deadline:
                raise AssertionError("the bot did not settle")
            await super().settle(max(0.1, deadline - time.monotonic()))
            quiet = quiet + 1 if self.app.engine.turns.running == 0 else 0
            await asyncio.sleep(0.05)

    def say(self, reply: str, **lane: tuple[str, ...]) -> None:
        assert self.assistant is not None
        self.assistant.turns.append(AssistantTurn(reply=reply, **lane))  # type: ignore[arg-type]


async def _bot(tmp_path: Path, assistant: ScriptedAssistant) -> AsyncIterator[Bot]:
    async with FakeSlack() as slack, FakeAnthropic() as anthropic:
        slack.add_user("UDANA", "Dana", email="dana@acme.example", is_admin=True)
        slack.add_user("USAM", "Sam", email="sam@acme.example")
        slack.add_channel(CHANNEL, "helpdesk")
        slack.add_channel(OTHER_CHANNEL, "helpdesk-emea")
        slack.add_channel(ESCALATIONS, "escalations")
        settings = slack_settings(tmp_path, slack, anthropic)
        app = await build_app(settings, platforms=True, assistant=assistant)
        server = TestServer(make_web_app(app))
        await server.start_server()
        base_url = str(server.make_url(""))
        try:
            async with SlackClient(base_url, SECRET) as client:
                yield Bot(app=app, slack=slack, anthropic=anthropic, client=client, base_url=base_url,
                          settings=settings, assistant=assistant)
        finally:
            await server.close()
            await app.close()


@pytest.fixture
async def feedback_bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async for bot in _bot(tmp_path, ScriptedAssistant(progress_steps=PROGRESS_STEPS, step_delay=STEP_DELAY)):
        yield bot


@pytest.fixture
async def plain_bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async for bot in _bot(tmp_path, UnstreamedAssistant()):
        yield bot
