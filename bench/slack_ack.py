"""Budget (issue 3 §6): ack latency of /slack/events at 200 concurrent requests, events and button
clicks, p50 and p99, against a bare Bolt app that only acks, measured in the same run — ratio ≤ 1.5.

Each app runs in its own process (`python -m bench.slack_ack --serve ours|bare`, aiohttp on
127.0.0.1 port 0, each with its own fake Slack Web API for auth.test and, for ours, the inbox's
calls), so the load generator here never shares an event loop with a server. Ours is the real
bot: `build_app(settings, platforms=True)` + `make_web_app`, with the inbox and turn workers running
as in production. Set-up gives it sessions whose lanes carry Confirm buttons (the assistant answers
instantly once per session), then the assistant is switched off, as with no ANTHROPIC_API_KEY: the
ack path is the signature check plus one inbox INSERT, and the inbox work after it (chat.update,
chat.postEphemeral to the fake) competes for the same process, as it would in production.
Rounds alternate between the apps, each starting with our inbox drained; the first `--warmup`
rounds open connections and are not counted. Exit code 0 whatever the numbers.

Run: python -m bench.slack_ack [--backend postgres] [--concurrency 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import platform
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bench.slack_calls import (CHANNEL, SECRET, TEAM, USERS, bot_settings, buttons, fake_workspace, fresh_database,
                               next_ts, serve_locally, settle)
from core.assistant.types import (AssistantContext, AssistantTurn, AssistantUnavailable, ComposedText, ComposeRequest,
                                  FactSynthesisRequest, ReplyListener)
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import (SlackClient, app_mention, block_action, event_callback, message_event,
                                        new_trigger_id, sign)

PATH = "/slack/events"
BUDGET_RATIO = 1.5
REPO = Path(__file__).resolve().parents[1]


# ---- the servers, each in its own process ----------------------------------------------------------


class SetupOnlyAssistant:
    """Answers set-up turns at once with a question (so lanes have Confirm buttons); then
    `enabled = False` makes it behave exactly like the assistant with no API key."""

    def __init__(self) -> None:
        self.enabled = True

    def _check(self) -> None:
        if not self.enabled:
            raise AssistantUnavailable("the assistant is off (no API key configured)")

    async def respond(self, context: AssistantContext, on_text: ReplyListener | None = None) -> AssistantTurn:
        self._check()
        return AssistantTurn(reply="Noted.", questions=("Is the printer powered on?",))

    async def synthesize_fact(self, request: FactSynthesisRequest) -> str:
        self._check()
        return "A fact."

    async def compose(self, request: ComposeRequest) -> ComposedText:
        self._check()
        return ComposedText(markdown="## Problem\np", composed_by="assistant")


async def _listen(answer: Callable[[str], Awaitable[dict[str, Any]]]) -> None:
    """The control channel: one command per stdin line, one JSON line back; `stop` or EOF ends it."""
    loop = asyncio.get_running_loop()
    while (line := (await loop.run_in_executor(None, sys.stdin.readline)).strip()) not in ("", "stop"):
        print(json.dumps(await answer(line)), flush=True)


async def serve_ours(database_url: str, sessions: int) -> None:
    from sqlalchemy import text

    from bot.bootstrap import build_app
    from bot.web import make_web_app
    from storage.tables import inbound_deliveries

    async with FakeSlack() as slack:
        fake_workspace(slack)
        assistant = SetupOnlyAssistant()
        app = await build_app(bot_settings(database_url, slack.base_url), platforms=True, assistant=assistant)
        runner, url = await serve_locally(make_web_app(app))
        try:
            roots = []
            async with SlackClient(url, SECRET) as client:
                for i in range(sessions):
                    roots.append(ts := f"{int(time.time())}.{i + 1:06d}")
                    await client.post_event(event_callback(TEAM, app_mention("UDANA", CHANNEL, f"<@UBOT> Printer {i} offline", ts)))
                await settle(app)
            assistant.enabled = False
            lanes = [m for root in roots for m in slack.thread(CHANNEL, root) if buttons(m.get("blocks"), "rf_confirm_item")]
            found = [{"value": b["value"], "message_ts": m["ts"]} for m in lanes for b in buttons(m["blocks"], "rf_confirm_item")]

            async def answer(command: str) -> dict[str, Any]:
                if command == "settle":
                    return {"settled_s": await settle(app)}
                async with app.db.connect() as connection:
                    rows = await connection.execute(text(f"SELECT status, COUNT(*) FROM {inbound_deliveries.name} GROUP BY status"))
                    stored = {str(status): int(count) for status, count in rows}
                return {"stored": stored, "setup": sessions, "calls": dict(Counter(c.method for c in slack.all_calls))}

            print(json.dumps({"url": url, "threads": roots, "buttons": found, "hooks": slack.response_url("act")}), flush=True)
            await _listen(answer)
        finally:
            await runner.cleanup()
            await app.close()


async def serve_bare() -> None:
    """Bolt as its docs show it: same signing secret and Web API client, listeners that only ack."""
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    async with FakeSlack() as slack:
        bolt = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token="xoxb-test", base_url=slack.base_url),
                        process_before_response=True, raise_error_for_unhandled_request=False)

        async def just_ack(ack: AsyncAck) -> None:
            await ack()

        bolt.event("message")(just_ack)
        bolt.event("app_mention")(just_ack)
        bolt.action("rf_confirm_item")(just_ack)
        runner, url = await serve_locally(bolt.web_app(path=PATH))

        async def answer(command: str) -> dict[str, Any]:
            return {"settled_s": 0.0} if command == "settle" else {"calls": dict(Counter(c.method for c in slack.all_calls))}

        try:
            print(json.dumps({"url": url}), flush=True)
            await _listen(answer)
        finally:
            await runner.cleanup()


# ---- the load ----------------------------------------------------------------------------------------


@dataclass
class Server:
    process: asyncio.subprocess.Process
    info: dict[str, Any]

    async def ask(self, command: str, timeout: float = 180.0) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"the {command!r} answer never came: the server exited")
        return dict(json.loads(line))


async def _launch(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.slack_ack", "--serve", *args, cwd=REPO,
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)


async def _ready(process: asyncio.subprocess.Process, name: str) -> Server:
    """A server's first stdout line says where it listens (its stderr is ours)."""
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 300)
    if not line:
        raise RuntimeError(f"the {name} server did not start (see its stderr above)")
    return Server(process, json.loads(line))


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        assert process.stdin is not None
        process.stdin.write(b"stop\n")
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def both_servers(database_url: str, sessions: int) -> AsyncIterator[tuple[Server, Server]]:
    """Ours and the bare app, started side by side (imports and migrations take seconds)."""
    processes = [await _launch("ours", "--database-url", database_url, "--sessions", str(sessions)),
                 await _launch("bare")]
    try:
        ours, bare = await asyncio.gather(_ready(processes[0], "ours"), _ready(processes[1], "bare"))
        yield ours, bare
    finally:
        for process in processes:
            await _stop(process)


def one_round(info: dict[str, Any], size: int) -> list[tuple[str, bytes, str]]:
    """`size` requests, events and clicks alternating: thread replies and in-thread mentions into the
    sessions (unique event ids and ts), and Confirm clicks on their lanes (unique trigger ids)."""
    users, threads, clicks = list(USERS), info["threads"], info["buttons"]
    out: list[tuple[str, bytes, str]] = []
    for i in range(size):
        user = users[i % len(users)]
        if i % 2 == 0:
            root = threads[(i // 2) % len(threads)]
            event = (message_event(user, CHANNEL, f"still broken {i}", next_ts(), thread_ts=root) if i % 4 == 0 else
                     app_mention(user, CHANNEL, f"<@UBOT> any news {i}?", next_ts(), thread_ts=root))
            envelope = event_callback(TEAM, event, event_id=f"Ev{uuid.uuid4().hex[:16].upper()}")
            out.append(("events", json.dumps(envelope, separators=(",", ":")).encode(), "application/json"))
        else:
            button = clicks[(i // 2) % len(clicks)]
            payload = block_action(TEAM, user, "rf_confirm_item", button["value"], channel=CHANNEL,
                                   message_ts=button["message_ts"], trigger_id=new_trigger_id(), response_url=info["hooks"])
            body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
            out.append(("interactions", body, "application/x-www-form-urlencoded"))
    return out


async def fire(http: aiohttp.ClientSession, url: str, requests: list[tuple[str, bytes, str]]) -> list[tuple[str, int, float]]:
    """All at once, each signed as Slack signs; (kind, status, ms from send to the whole answer read)."""
    now = int(time.time())
    signed = [(kind, body, {"Content-Type": ctype, **sign(body, SECRET, now)}) for kind, body, ctype in requests]

    async def send(kind: str, body: bytes, headers: dict[str, str]) -> tuple[str, int, float]:
        started = time.perf_counter()
        async with http.post(url + PATH, data=body, headers=headers) as response:
            await response.read()
        return kind, response.status, (time.perf_counter() - started) * 1000

    return list(await asyncio.gather(*(send(*request) for request in signed)))


# ---- results -------------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    """Nearest rank: the value at or below which q% of the samples lie."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class AckResult:
    backend: str
    concurrency: int
    rounds: int
    samples: dict[str, list[tuple[str, int, float]]] = field(default_factory=lambda: {"ours": [], "bare": []})
    drained_s: list[float] = field(default_factory=list)
    sent_to_ours: int = 0
    ours_end: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)

    def ms(self, app: str, kind: str) -> list[float]:
        return [ms for k, _, ms in self.samples[app] if k == kind]

    def statuses(self, app: str) -> Counter[int]:
        return Counter(status for _, status, _ in self.samples[app])

    def ratio(self, kind: str, q: float) -> float:
        return percentile(self.ms("ours", kind), q) / percentile(self.ms("bare", kind), q)

    @property
    def ok(self) -> bool:
        return all(self.ratio(kind, q) <= BUDGET_RATIO for kind in ("events", "interactions") for q in (50, 99))


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "load": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version()}


async def measure(*, backend: str = "sqlite", concurrency: int = 200, rounds: int = 5, warmup: int = 1,
                  sessions: int = 10) -> AckResult:
    result = AckResult(backend=backend, concurrency=concurrency, rounds=rounds, machine={"before": machine()})
    async with fresh_database(backend) as url, both_servers(url, sessions) as (ours, bare):
        servers = {"ours": ours, "bare": bare}
        connectors = {name: aiohttp.TCPConnector(limit=0) for name in servers}
        sessions_ = {name: aiohttp.ClientSession(connector=c, timeout=aiohttp.ClientTimeout(total=60)) for name, c in connectors.items()}
        try:
            previous = ""
            for n in range(warmup + rounds):
                for name in (("ours", "bare") if n % 2 == 0 else ("bare", "ours")):
                    drained = (await ours.ask("settle"))["settled_s"]  # each round starts with our inbox empty
                    if previous == "ours":
                        result.drained_s.append(drained)
                    previous = name
                    samples = await fire(sessions_[name], servers[name].info["url"], one_round(ours.info, concurrency))
                    result.sent_to_ours += concurrency if name == "ours" else 0
                    if n >= warmup:
                        result.samples[name].extend(samples)
            result.drained_s.append((await ours.ask("settle"))["settled_s"])
            result.ours_end = await ours.ask("count")
        finally:
            for http in sessions_.values():
                await http.close()
    result.machine["after"] = machine()
    return result


def report(r: AckResult) -> None:
    print(f"Slack ack latency ({r.backend}): {r.concurrency} concurrent signed requests × {r.rounds} rounds per app, "
          f"half events, half block_actions; client-side ms, send → whole answer read")
    print(f"machine: {r.machine['before']['cpus']} CPUs, python {r.machine['before']['python']}, load average "
          f"{r.machine['before']['load']} before, {r.machine['after']['load']} after")
    print(f"{'':22}{'events p50':>12}{'p99':>10}{'clicks p50':>12}{'p99':>10}   answers")
    for app, label in (("ours", "ours (bot, inbox)"), ("bare", "bare Bolt (ack only)")):
        cells = "".join(f"{percentile(r.ms(app, k), q):{w}.1f}" for k in ("events", "interactions") for q, w in ((50, 12), (99, 10)))
        print(f"{label:22}{cells}   {dict(r.statuses(app))}")
    ratios = "".join(f"{r.ratio(k, q):{w}.2f}" for k in ("events", "interactions") for q, w in ((50, 12), (99, 10)))
    print(f"{'ratio ours/bare':22}{ratios}   budget ≤ {BUDGET_RATIO} → {'OK' if r.ok else 'OVER BUDGET'}")
    stored = r.ours_end.get("stored", {})
    print(f"our inbox: {sum(stored.values()) - r.ours_end.get('setup', 0)} deliveries stored for {r.sent_to_ours} "
          f"acked requests (by status {stored}); a round's inbox work drained in "
          f"{max(r.drained_s, default=0):.2f} s at most; Web API calls served: {r.ours_end.get('calls')}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--sessions", type=int, default=10, help="sessions the load is spread over")
    p.add_argument("--serve", choices=["ours", "bare"], help=argparse.SUPPRESS)
    p.add_argument("--database-url", help=argparse.SUPPRESS)
    opts = p.parse_args(argv)
    if opts.serve:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        asyncio.run(serve_ours(opts.database_url, opts.sessions) if opts.serve == "ours" else serve_bare())
        return 0
    report(asyncio.run(measure(backend=opts.backend, concurrency=opts.concurrency, rounds=opts.rounds,
                               warmup=opts.warmup, sessions=opts.sessions)))
    return 0  # a bench reports; it does not fail the build


if __name__ == "__main__":
    raise SystemExit(main())
