"""Issue 10 §5 with real processes: two `rflow serve --no-workers` and two `rflow worker` on one
PostgreSQL and the Redis bus, the Slack Web API and the Messages API faked at the network edge.

40 Slack threads get three engineer messages each through the serve processes' /slack/events
(signed as Slack signs). While turns stream, one worker is SIGKILLed; with RF_TURN_LEASE_SECONDS=2
the other takes its turns over. Then: every message answered, in order per session, no reply
posted twice. Replies may coalesce (one call answering several messages of a session), so
"answered" means covered by the history of a request whose reply was stored and posted after it.

Each Messages API reply names its request ("Answer 17 (S07 through 2)"), so the reply stored in
the database, the text in the Slack thread and the request it came from can be matched up.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import signal
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine, upgrade
from tests.databases import throwaway_database
from tests.fakes.anthropic_api import FakeAnthropic, Reply, StreamTiming, ToolUseReply, default_reply, update_session_input
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackClient, app_home_opened, app_mention, event_callback, message_event
from tests.services import postgres_url_or_skip, redis_url_or_skip

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REPO = Path(__file__).resolve().parents[2]
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM, CHANNEL = "T1", "C1"
USERS = ("U0DANA", "U0SAM", "U0RIA", "U0VIC")
SESSIONS, MESSAGES = 40, 3
CONCURRENCY = 8  # per worker: more than this many calls in flight means both workers hold some
TIMING = StreamTiming(first_token=0.3, total=2.0, chunks=8)
TOKEN = re.compile(r"S(\d\d)M(\d)")
ANSWER = re.compile(r"Answer (\d+) \(S(\d\d) through (\d)\)")
STARTUP_SECONDS = 120.0  # four processes importing Bolt and the Agents SDK at once on a busy CI box
_ts = itertools.count(1)


def next_ts() -> str:
    return f"{int(time.time())}.{next(_ts):06d}"


# ---- the processes ------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    process: asyncio.subprocess.Process
    log: Path

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines() if self.log.exists() else []

    async def wait_for(self, pattern: str, timeout: float = STARTUP_SECONDS) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines():
                if found := re.search(pattern, line):
                    return found
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        tail = "\n".join(self.lines()[-30:])
        raise AssertionError(f"{self.name} never logged {pattern!r} (exit {self.process.returncode}):\n{tail}")


async def spawn(name: str, tmp: Path, env: dict[str, str], *args: str) -> Proc:
    log = tmp / f"{name}.log"
    with log.open("wb") as out:  # the child keeps its own descriptor
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", *args, cwd=tmp, env=env,
                                                       stdout=out, stderr=asyncio.subprocess.STDOUT)
    return Proc(name, process, log)


async def stop_all(procs: list[Proc]) -> None:
    """SIGTERM each one still running (a clean stop), SIGKILL what has not ended in 10 s."""
    for proc in procs:
        if proc.process.returncode is None:
            proc.process.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            await asyncio.wait_for(proc.process.wait(), timeout=10)
        except TimeoutError:
            proc.process.kill()
            await proc.process.wait()


# ---- the database ---------------------------------------------------------------------------------


@pytest.fixture
async def database() -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A fresh PostgreSQL database, migrated once here so the four processes never race on it."""
    async with throwaway_database(postgres_url_or_skip(), "rflow_multi") as url:
        db = make_engine(url)
        try:
            await upgrade(db)
            yield url, db
        finally:
            await db.dispose()


async def scalar(db: AsyncEngine, sql: str) -> int:
    async with db.connect() as connection:
        return int((await connection.execute(text(sql))).scalar_one())


async def open_work(db: AsyncEngine) -> int:
    return await scalar(db, "SELECT (SELECT count(*) FROM inbound_deliveries WHERE status IN ('pending', 'running'))"
                            " + (SELECT count(*) FROM pending_turns WHERE status IN ('pending', 'running'))")


async def inbox_open(db: AsyncEngine) -> int:
    return await scalar(db, "SELECT count(*) FROM inbound_deliveries WHERE status IN ('pending', 'running')")


# ---- the fake assistant ------------------------------------------------------------------------------


@dataclass
class Answers:
    """The Messages API's replies, each naming its request number, session and newest message."""

    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    covered: dict[int, set[tuple[int, int]]] = field(default_factory=dict)  # request n → (session, message)
    bodies: dict[int, Any] = field(default_factory=dict)

    def __call__(self, body: dict[str, Any]) -> Reply:
        if (body.get("tool_choice") or {}).get("name") != "update_session":
            return default_reply(body)
        seen = {(int(s), int(m)) for s, m in TOKEN.findall(json.dumps(body.get("messages")))}
        n = next(self.counter)
        self.covered[n] = seen
        self.bodies[n] = body
        session = max(s for s, _ in seen)  # one session's history: all its tokens share the number
        through = max(m for s, m in seen if s == session)
        return ToolUseReply("update_session", update_session_input(f"Answer {n} (S{session:02d} through {through})."))


def text_of(session: int, message: int) -> str:
    return f"S{session:02d}M{message} " + ("printer offline on floor 3" if message == 1 else f"detail number {message}")


# ---- the test --------------------------------------------------------------------------------------


async def test_two_serves_two_workers_one_killed_every_message_answered_once_in_order(
    tmp_path: Path, database: tuple[str, AsyncEngine]
) -> None:
    url, db = database
    redis_url = redis_url_or_skip()
    answers = Answers()
    async with FakeSlack() as slack, FakeAnthropic(timing=TIMING) as anthropic:
        anthropic.default_responder = answers
        for user in USERS:
            slack.add_user(user, user[2:].title(), email=f"{user[2:].lower()}@acme.example")
        slack.add_channel(CHANNEL, "helpdesk")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RF_", "ANTHROPIC_", "SLACK_", "MICROSOFT_"))}
        env.update({
            "PYTHONPATH": str(REPO), "RF_DATABASE_URL": url, "RF_REDIS_URL": redis_url, "RF_HOST": "127.0.0.1",
            "RF_PORT": "0", "RF_LOG_LEVEL": "INFO", "RF_LOG_JSON": "true", "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET, "RF_SLACK_API_URL": slack.base_url, "RF_SLACK_POST_INTERVAL": "0",
            "ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": anthropic.base_url, "RF_LLM_MAX_RETRIES": "0",
            "RF_LLM_TIMEOUT": "10", "RF_TURN_LEASE_SECONDS": "2", "RF_TURN_CONCURRENCY": str(CONCURRENCY),
        })
        serves = [await spawn(f"serve{i}", tmp_path, env, "serve", "--no-workers") for i in (1, 2)]
        workers = [await spawn(f"worker{i}", tmp_path, env, "worker") for i in (1, 2)]
        procs = serves + workers
        try:
            ports = [int((await s.wait_for(r"serving on http://127\.0\.0\.1:(\d+)")).group(1)) for s in serves]
            for worker in workers:
                await worker.wait_for("queue workers running")
            async with AsyncExitStack() as stack:
                clients = [await stack.enter_async_context(SlackClient(f"http://127.0.0.1:{port}", SECRET))
                           for port in ports]
                await run_scenario(slack, anthropic, answers, db, clients, workers)
        except BaseException:
            for proc in procs:
                notable = [line for line in proc.lines() if '"level": "INFO"' not in line or "worker" in line]
                print(f"---- {proc.name} (exit {proc.process.returncode})\n" + "\n".join(notable[-40:]))
            raise
        finally:
            await stop_all(procs)
        assert all(s.process.returncode == 0 for s in serves + workers[1:]), [p.process.returncode for p in procs]


async def run_scenario(slack: FakeSlack, anthropic: FakeAnthropic, answers: Answers, db: AsyncEngine,
                       clients: list[SlackClient], workers: list[Proc]) -> None:
    started = time.monotonic()
    sent_at: dict[tuple[int, int], float] = {}

    async def post(session: int, message: int, root: str | None) -> str:
        """Message 1 mentions the bot (a new thread), later ones reply in it; serves take turns."""
        ts, user = next_ts(), USERS[session % len(USERS)]
        event = (app_mention(user, CHANNEL, f"<@UBOT> {text_of(session, message)}", ts) if root is None else
                 message_event(user, CHANNEL, text_of(session, message), ts, thread_ts=root))
        sent_at[(session, message)] = time.monotonic()
        reply = await clients[(session + message) % 2].post_event(event_callback(TEAM, event))
        assert reply.status == 200, reply.body
        return ts

    # Everyone signs in once (App Home), so 40 first contacts do not race to create the account.
    for user in USERS:
        assert (await clients[0].post_event(event_callback(TEAM, app_home_opened(user)))).status == 200
        await wait_until(lambda: inbox_open(db), 0, "the App Home deliveries were not worked off")

    sessions = range(1, SESSIONS + 1)
    roots = dict(zip(sessions, await asyncio.gather(*(post(s, 1, None) for s in sessions)), strict=True))
    await asyncio.gather(*(post(s, 2, roots[s]) for s in sessions))

    # Kill a worker mid-turn: no inbox delivery open (that lease is long), more calls in flight
    # than one worker may run, so the victim holds some of them.
    deadline = time.monotonic() + 30
    while True:
        in_flight = [r for r in anthropic.requests if r.finished_at is None]
        if len(in_flight) > CONCURRENCY and await inbox_open(db) == 0:
            break
        assert time.monotonic() < deadline, f"never {CONCURRENCY + 1} turns in flight with the inbox empty"
        await asyncio.sleep(0.05)
    victim = workers[0]
    victim.process.send_signal(signal.SIGKILL)
    await victim.process.wait()
    killed_at, killed_wall = time.monotonic(), time.time()

    await asyncio.gather(*(post(s, 3, roots[s]) for s in sessions))
    await wait_until(lambda: open_work(db), 0, "the queues were not worked off", timeout=45)
    await wait_until(lambda: delivered_count(slack, db), SESSIONS, "not every session's last reply reached Slack")
    await check(slack, anthropic, answers, db, roots, sent_at, killed_at, killed_wall)
    print(f"multi-process run: {time.monotonic() - started:.1f} s, {len(anthropic.requests)} Messages API requests")


async def wait_until(probe: Any, want: int, why: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if await probe() == want else 0
        if quiet >= 3:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{why} (still {await probe()}, want {want})")


async def stored_replies(db: AsyncEngine) -> dict[int, list[tuple[int, str, str]]]:
    """Per session number (S..): its steps in order as (step id, kind, text)."""
    async with db.connect() as connection:
        rows = (await connection.execute(text("SELECT id, kind, text FROM steps ORDER BY id"))).all()
    steps: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for step_id, kind, body in rows:
        found = TOKEN.search(body) or ANSWER.search(body)
        if found:
            steps[int(found.group(1) if kind == "engineer_message" else found.group(2))].append((step_id, kind, body))
    return steps


def finished_messages(slack: FakeSlack, root: str) -> list[dict[str, Any]]:
    """The thread's bot messages as people see them, a stream still in progress left out."""
    return [m for m in slack.thread(CHANNEL, root) if m.get("bot_id") and m.get("streaming_state") != "in_progress"]


async def delivered_count(slack: FakeSlack, db: AsyncEngine) -> int:
    """Sessions whose newest stored reply is in their Slack thread, finished."""
    steps = await stored_replies(db)
    done = 0
    for session in range(1, SESSIONS + 1):
        replies = [t for _, kind, t in steps.get(session, []) if kind == "assistant_reply"]
        roots = {m.get("thread_ts") for m in slack.history(CHANNEL) if replies and replies[-1] in m.get("text", "")
                 and m.get("streaming_state") != "in_progress"}
        done += bool(roots)
    return done


CRASH_WINDOW = 1.5  # seconds before the kill in which a delivered reply may be delivered again


async def check(slack: FakeSlack, anthropic: FakeAnthropic, answers: Answers, db: AsyncEngine, roots: dict[int, str],
                sent_at: dict[tuple[int, int], float], killed_at: float, killed_wall: float) -> None:
    steps = await stored_replies(db)
    assert await scalar(db, "SELECT count(*) FROM pending_turns WHERE status <> 'done'") == 0
    finals = final_posts(slack)
    for session in range(1, SESSIONS + 1):
        mine = steps[session]
        engineer = [(i, t) for i, kind, t in mine if kind == "engineer_message"]
        assert [TOKEN.search(t).group(2) for _, t in engineer] == ["1", "2", "3"], mine  # type: ignore[union-attr]
        replies = [(i, t) for i, kind, t in mine if kind == "assistant_reply"]
        assert replies and max(i for i, _ in replies) > max(i for i, _ in engineer), f"S{session:02d}: last unanswered"
        covered: set[int] = set()
        last_through = 0
        for reply_id, reply in replies:
            found = ANSWER.search(reply)
            assert found is not None and int(found.group(2)) == session, reply
            n, through = int(found.group(1)), int(found.group(3))
            request = {m for s, m in answers.covered[n] if s == session}
            assert through > last_through, f"S{session:02d}: replies out of order: {replies}"
            last_through = through
            # The reply comes after every message it answers, in the session and in Slack.
            assert all(i < reply_id for i, t in engineer if int(TOKEN.search(t).group(2)) in request)  # type: ignore[union-attr]
            covered |= request
            shown = [m for m in finished_messages(slack, roots[session]) if reply in m.get("text", "")]
            stored = await scalar(db, f"SELECT extract(epoch FROM created_at) * 1000 FROM steps WHERE id = {reply_id}")
            # A delivered reply is recorded (surface_refs `reply:<id>`) and a taker skips it; a worker
            # killed between Slack's answer and that record leaves the taker to deliver it again. Allowed
            # only for a reply stored within a moment of the kill; anywhere else a second showing fails.
            at_the_kill = -CRASH_WINDOW <= stored / 1000 - killed_wall <= 0
            if len(shown) != 1 and not (len(shown) == 2 and at_the_kill):
                raise AssertionError(
                    f"S{session:02d}: {reply!r} shown {len(shown)} times; stored {stored / 1000 - killed_wall:+.2f} s "
                    f"from the kill; its request {describe(anthropic, answers, n, killed_at)}; the thread: "
                    f"{[(m.get('text'), m.get('streaming_state')) for m in slack.thread(CHANNEL, roots[session])]}")
            assert not [m for r, rs in roots.items() if r != session for m in slack.thread(CHANNEL, rs)
                        if reply in m.get("text", "")], f"{reply!r} in another thread"
            posts = [(thread, at) for thread, shown_text, at in finals if reply in shown_text]
            assert len(posts) == 1 or (len(posts) == 2 and at_the_kill), f"S{session:02d}: {reply!r} posted {len(posts)} times"
            assert posts[0][0] == roots[session] and posts[0][1] > max(sent_at[(session, m)] for m in request)
        assert covered == {1, 2, 3}, f"S{session:02d}: messages {sorted({1, 2, 3} - covered)} never answered"
    # The kill really was mid-turn: some calls lost their worker, and were redone by the other.
    lost = [r for r in anthropic.requests if r.received_at < killed_at and r.disconnected]
    assert lost, "no Messages API call was cut off by the SIGKILL"


def final_posts(slack: FakeSlack) -> list[tuple[str, str, float]]:
    """(thread, text, when) of every call that put a finished reply in a thread: a post, the stop
    of a stream (its whole text is in Slack's answer), or the rewrite of a streamed message."""
    found: list[tuple[str, str, float]] = []
    for call in slack.all_calls:
        if not (call.response or {}).get("ok"):
            continue
        if call.method == "chat.postMessage":
            found.append((str(call.args.get("thread_ts")), str(call.args.get("text", "")), call.at))
        elif call.method == "chat.stopStream":
            message = call.response.get("message") or {}
            found.append((str(message.get("thread_ts")), str(message.get("text", "")), call.at))
        elif call.method == "chat.update":
            message = slack.message(CHANNEL, str(call.args.get("ts"))) or {}
            found.append((str(message.get("thread_ts")), str(call.args.get("text", "")), call.at))
    return found


def describe(anthropic: FakeAnthropic, answers: Answers, n: int, killed_at: float) -> str:
    """Where request n stood against the kill, for a failure message."""
    for r in anthropic.requests:
        if r.body is answers.bodies.get(n):
            return (f"received {r.received_at - killed_at:+.2f} s from the kill, finished "
                    f"{(r.finished_at or 0) - killed_at:+.2f} s, disconnected={r.disconnected}")
    return "not found"
