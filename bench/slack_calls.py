"""Budget (issue 3 §6, R37): Slack Web API calls per chat turn — the thinking status, one reply (chat.postMessage) and one
task-lane update (chat.update), nothing else (users.info is cached).

The real bot (`build_app(settings, platforms=True)` + `make_web_app`, workers running) against the
fake Slack Web API and the fake Anthropic API, both on 127.0.0.1 in this process. A mention starts
the session; once settled the fake's call record is reset; then each of `--turns` thread replies is
one chat turn (the fake assistant answers with a reply and a new question), settled before the
next, and the calls that turn made are counted per method. Also printed: the time from the event
POST to the reply's chat.postMessage reaching the fake (channel pacing off, as in the end-to-end
tests, so it is the bot's own time: ack, inbox, turn, assistant, post). Exit code 0 whatever the numbers.

Run: python -m bench.slack_calls [--backend postgres] [--turns 10]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bench.common import fresh_database
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackClient, app_mention, event_callback, message_event

EXPECTED = {"assistant.threads.setStatus": 1, "chat.postMessage": 1, "chat.update": 1}  # R37: the thinking status first


# ---- our bot against the fakes (shared with bench.slack_ack) ---------------------------------------

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM, CHANNEL = "T1", "C1"
USERS = {"UDANA": "Dana", "USAM": "Sam", "URIA": "Ria", "UVIC": "Vic"}
_ts = itertools.count(100_000)  # set-up messages count from 1, the load from here: no ts is reused


def next_ts() -> str:
    return f"{int(time.time())}.{next(_ts):06d}"


def bot_settings(database_url: str, slack_api_url: str, **extra: Any) -> Any:
    """The bot's settings for one workspace (SLACK_BOT_TOKEN) on the fake Web API, pacing off."""
    from bot.settings import Settings

    values: dict[str, Any] = {"RF_DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-test",
                              "SLACK_SIGNING_SECRET": SECRET, "RF_SLACK_API_URL": slack_api_url,
                              "RF_SLACK_POST_INTERVAL": 0.0, "ANTHROPIC_API_KEY": "", **extra}
    return Settings(**values)


def fake_workspace(slack: FakeSlack) -> None:
    for user_id, name in USERS.items():
        slack.add_user(user_id, name, email=f"{name.lower()}@acme.example", is_admin=user_id == "UDANA")
    slack.add_channel(CHANNEL, "helpdesk")


async def settle(app: Any, timeout: float = 120.0) -> float:
    """Wait until the bot's inbox and turn queues are empty (three quiet polls); seconds waited."""
    started = deadline = time.monotonic()
    deadline += timeout
    quiet = 0
    while quiet < 3:
        if time.monotonic() > deadline:
            raise RuntimeError("the bot did not settle")
        await app.slack.modals.drain()
        async with app.engine.deps.uow_factory() as uow:
            busy = await uow.inbound.count_open() + await uow.turns.count_open()
        quiet = quiet + 1 if busy == 0 else 0
        await asyncio.sleep(0.02)
    return time.monotonic() - started


def buttons(node: Any, action_id: str) -> list[dict[str, Any]]:
    """Every button with this action_id, wherever Block Kit nests it."""
    if isinstance(node, dict):
        own = [node] if node.get("type") == "button" and node.get("action_id") == action_id else []
        return own + [b for value in node.values() for b in buttons(value, action_id)]
    if isinstance(node, list):
        return [b for value in node for b in buttons(value, action_id)]
    return []


async def serve_locally(web_app: web.Application) -> tuple[web.AppRunner, str]:
    """aiohttp on 127.0.0.1, a free port, the way `rflow serve` runs the app; (runner, base URL)."""
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


# ---- the bench ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    calls: dict[str, int]
    ack_ms: float
    reply_ms: float | None  # event POST sent → the reply's chat.postMessage at the fake; None if none came


@dataclass
class CallsResult:
    backend: str
    turns: list[Turn] = field(default_factory=list)
    setup_calls: dict[str, int] = field(default_factory=dict)

    @property
    def methods(self) -> list[str]:
        return sorted(set(EXPECTED) | {m for t in self.turns for m in t.calls})

    @property
    def ok(self) -> bool:
        return bool(self.turns) and all(t.calls == EXPECTED for t in self.turns)

    @property
    def reply_ms(self) -> list[float]:
        return [t.reply_ms for t in self.turns if t.reply_ms is not None]


async def measure(*, backend: str = "sqlite", turns: int = 10) -> CallsResult:
    from bot.bootstrap import build_app
    from bot.web import make_web_app

    result = CallsResult(backend=backend)
    async with fresh_database(backend) as url, FakeSlack() as slack, FakeAnthropic() as anthropic:
        fake_workspace(slack)
        settings = bot_settings(url, slack.base_url, ANTHROPIC_API_KEY="sk-ant-test", ANTHROPIC_BASE_URL=anthropic.base_url,
                                RF_LLM_MAX_RETRIES=0, RF_LLM_TIMEOUT=10)
        app = await build_app(settings, platforms=True)
        runner: web.AppRunner | None = None
        try:
            runner, base_url = await serve_locally(make_web_app(app))
            async with SlackClient(base_url, SECRET) as client:
                anthropic.push_update("Is the printer powered on?", questions=["Is the printer powered on?"])
                root = next_ts()
                started = await client.post_event(event_callback(TEAM, app_mention("UDANA", CHANNEL, "<@UBOT> Printer offline", root)))
                assert started.status == 200, started.body
                await settle(app)
                result.setup_calls = dict(Counter(c.method for c in slack.all_calls))
                slack.reset()
                for i in range(turns):
                    result.turns.append(await one_turn(app, slack, anthropic, client, root, i))
        finally:
            if runner is not None:
                await runner.cleanup()
            await app.close()
    return result


async def one_turn(app: object, slack: FakeSlack, anthropic: FakeAnthropic, client: SlackClient, root: str, i: int) -> Turn:
    reply_text = f"Turn {i}: try printing a test page."
    anthropic.push_update(reply_text, questions=[f"Did test page {i} print?"])
    first = len(slack.all_calls)
    sent = time.monotonic()
    posted = await client.post_event(event_callback(TEAM, message_event("UDANA", CHANNEL, f"Detail {i}", next_ts(), thread_ts=root)))
    assert posted.status == 200, posted.body
    await settle(app)
    calls = slack.all_calls[first:]
    replies = [c.at for c in calls if c.method == "chat.postMessage" and reply_text in str(c.args.get("text", ""))]
    return Turn(calls=dict(Counter(c.method for c in calls)), ack_ms=posted.elapsed * 1000,
                reply_ms=(replies[0] - sent) * 1000 if replies else None)


def report(r: CallsResult) -> None:
    n = len(r.turns)
    print(f"Slack Web API calls per chat turn ({r.backend}, {n} turns, fake Anthropic and fake Slack; "
          f"set-up made {r.setup_calls})")
    print(f"{'method':24}{'total':>7}   per turn: {'min':>4}{'median':>8}{'max':>5}")
    for method in r.methods:
        counts = [t.calls.get(method, 0) for t in r.turns]
        print(f"{method:24}{sum(counts):7}{'':13}{min(counts):4}{statistics.median(counts):8g}{max(counts):5}")
    good = sum(t.calls == EXPECTED for t in r.turns)
    print(f"budget: one reply + one task-lane update per turn {EXPECTED} → "
          f"{'OK' if r.ok else 'OVER BUDGET'} ({good} of {n} turns)")
    replies, acks = r.reply_ms, [t.ack_ms for t in r.turns]
    if replies:
        print(f"event POST → reply's chat.postMessage at the fake: median {statistics.median(replies):.1f} ms, "
              f"max {max(replies):.1f} ms ({len(replies)} of {n} turns replied); ack median {statistics.median(acks):.1f} ms")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Slack Web API calls per chat turn")
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--turns", type=int, default=10)
    opts = p.parse_args(argv)
    report(asyncio.run(measure(backend=opts.backend, turns=opts.turns)))
    return 0  # a bench reports; it does not fail the build


if __name__ == "__main__":
    raise SystemExit(main())
