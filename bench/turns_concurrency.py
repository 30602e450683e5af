"""Budgets (issue 10): concurrent turns and the engine's own cost of a turn.

(a) 50 sessions send a message at once; the fake Messages API (its own process, `python -m
    tests.fakes.anthropic_api`) streams every reply over 4 s, the first token after 0.5 s. One bot
    process runs the real engine, the real Anthropic adapter and the turn scheduler with
    RF_TURN_CONCURRENCY=64 (so all 50 fit at once). Reported per session, from the moment its
    message was sent: first visible feedback (the TurnQueued a surface turns into "is thinking…",
    seen by a recording notifier), the first streamed text (first ReplyProgress), and the reply
    complete (TurnAnswered). Budgets: feedback p95 ≤ 1 s, reply complete p95 ≤ 6.5 s; the floor
    is the model's own 4.0 s, and the ratio p95 / floor is printed. `--workers 2` (PostgreSQL)
    runs the same with two `rflow worker` processes doing the turns instead: reply complete is
    then when the reply was stored (its step's created_at), first text when the fake sent it.
(b) Engine overhead per whole turn without the model (an instant assistant): the message is
    committed with its pending turn, the scheduler (run_forever, woken by kick) claims it, builds
    the context, stores the reply and dispatches TurnAnswered; timed until the notifier hears it,
    one turn at a time. Budget: median ≤ 5 ms on SQLite, ≤ 10 ms on PostgreSQL.

PostgreSQL is skipped (said so) when it cannot be reached. Exit code 1 when a budget is missed.
Run: python -m bench.turns_concurrency [--backend sqlite|postgres|both] [--sessions 50] [--turns 200]
     python -m bench.turns_concurrency --backend postgres --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

from bench.common import POSTGRES_URL, engine_on, fresh_database, member
from core.events import ReplyProgress, TurnAnswered, TurnQueued
from core.notify import QuietNotifier
from tests.databases import admin

REPO = Path(__file__).resolve().parents[1]
CONCURRENCY = 64
FIRST_TOKEN, TOTAL = 0.5, 4.0
FEEDBACK_BUDGET_S, REPLY_BUDGET_S = 1.0, 6.5
OVERHEAD_BUDGET_MS = {"sqlite": 5.0, "postgres": 10.0}


def percentile(samples: list[float], pct: float) -> float:
    """Nearest rank, as bench/slack_ack.py does."""
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(len(ordered) * pct / 100)) - 1]


# ---- what the surfaces would see ------------------------------------------------------------------


@dataclass
class Recorder(QuietNotifier):
    """A notifier that notes when each session's events arrive (perf_counter), nothing else."""

    queued: dict[int, float] = field(default_factory=dict)
    progress: dict[int, float] = field(default_factory=dict)
    answered: dict[int, float] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)
    on_answer: Callable[[int], None] = lambda session_id: None

    def reset(self) -> None:
        for seen in (self.queued, self.progress, self.answered, self.failures):
            seen.clear()

    async def turn_queued(self, event: TurnQueued) -> None:
        self.queued.setdefault(event.session_id, time.perf_counter())

    async def reply_progress(self, event: ReplyProgress) -> None:
        self.progress.setdefault(event.session_id, time.perf_counter())

    async def turn_answered(self, event: TurnAnswered) -> None:
        self.answered.setdefault(event.session_id, time.perf_counter())
        if event.failure:
            self.failures[event.session_id] = event.failure
        self.on_answer(event.session_id)


# ---- the fake Messages API in its own process ------------------------------------------------------


@asynccontextmanager
async def fake_messages_api() -> AsyncIterator[str]:
    """`python -m tests.fakes.anthropic_api` on a free port; yields its base URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.anthropic_api", "--port", "0", cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        found = re.search(r"listening on (http://\S+)", line)
        assert found, f"the fake Messages API did not start: {line!r}"
        yield found.group(1)
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def fake_call(base_url: str, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http:
        if path.startswith("/_fake/requests"):
            async with http.get(base_url + path) as response:
                return await response.json()
        async with http.post(base_url + path, json=body) as response:
            return await response.json()


# ---- databases ---------------------------------------------------------------------------------------


async def postgres_reachable() -> bool:
    try:
        await asyncio.wait_for(admin(POSTGRES_URL, "SELECT 1"), timeout=5)
        return True
    except Exception:
        return False


def bot_env(url: str, api_url: str) -> dict[str, str]:
    return {"RF_DATABASE_URL": url, "ANTHROPIC_API_KEY": "sk-ant-bench", "ANTHROPIC_BASE_URL": api_url,
            "RF_LLM_MAX_RETRIES": "0", "RF_LLM_TIMEOUT": "30", "RF_TURN_CONCURRENCY": str(CONCURRENCY),
            "RF_LOG_LEVEL": "WARNING"}


# ---- (a) many sessions at once -------------------------------------------------------------------------


@dataclass
class Concurrency:
    backend: str
    sessions: int
    workers: int
    first_token: float
    total: float
    feedback_s: list[float]
    first_text_s: list[float]
    reply_s: list[float]
    failures: int
    wall_s: float
    call_starts_s: list[float] = field(default_factory=list)  # each model call's arrival, from the first message sent

    @property
    def ok(self) -> bool:
        return (self.failures == 0 and len(self.reply_s) == self.sessions
                and percentile(self.feedback_s, 95) <= FEEDBACK_BUDGET_S
                and percentile(self.reply_s, 95) <= REPLY_BUDGET_S)


async def measure_concurrency(backend: str, *, sessions: int = 50, workers: int = 0, first_token: float = FIRST_TOKEN,
                              total: float = TOTAL, timeout: float = 60.0) -> Concurrency:
    """`sessions` members each with a session send one message at the same moment; see the module
    docstring. workers=0: the scheduler runs in this process; N: N `rflow worker` processes."""
    from bot.bootstrap import build_app
    from bot.settings import Settings

    async with fake_messages_api() as api_url, fresh_database(backend) as url:
        recorder = Recorder()
        app = await build_app(Settings(**bot_env(url, api_url)), notifiers=[recorder])  # type: ignore[arg-type]
        stop = asyncio.Event()
        scheduler = asyncio.create_task(app.engine.turns.run_forever(stop))
        procs: list[asyncio.subprocess.Process] = []
        logs = Path(tempfile.mkdtemp(prefix="rflow-bench-workers-"))
        try:
            actors = [await member(app.engine, f"engineer{i}") for i in range(sessions)]
            started = [await app.engine.sessions.start(actor=a, problem=f"BENCH-S{i}- printer offline")
                       for i, a in enumerate(actors)]
            ids = [p.session.id or 0 for p in started]
            await until(lambda: len(recorder.answered) >= sessions, timeout, "the set-up turns were not answered")
            if workers:  # from here on the turns are theirs
                stop.set()
                await scheduler
                procs = await start_workers(workers, bot_env(url, api_url), logs)
            await fake_call(api_url, "/_fake/timing", {"first_token": first_token, "total": total})
            await fake_call(api_url, "/_fake/reset")
            recorder.reset()
            sent: dict[int, float] = {}
            sent_at: dict[int, tuple[float, float]] = {}  # (time.time(), time.monotonic()): other processes' clocks
            begin = time.perf_counter()

            async def send(i: int) -> None:
                sent[ids[i]], sent_at[ids[i]] = time.perf_counter(), (time.time(), time.monotonic())
                await app.engine.sessions.post_message(actor=actors[i], session_id=ids[i], text=f"BENCH-S{i}- update")

            await asyncio.gather(*(send(i) for i in range(sessions)))
            if workers:
                reply_s, first_text_s = await worker_results(app.db, api_url, ids, sent_at, timeout)
                failures = 0
            else:
                await until(lambda: len(recorder.answered) >= sessions, timeout, "not every reply completed")
                reply_s = [recorder.answered[s] - sent[s] for s in ids]
                first_text_s = [recorder.progress[s] - sent[s] for s in ids if s in recorder.progress]
                failures = len(recorder.failures)
            wall_s = time.perf_counter() - begin
            first_sent = min(mono for _, mono in sent_at.values())
            calls = [r["received_at"] - first_sent for r in await fake_call(api_url, "/_fake/requests")
                     if r["tool"] == "update_session"]
            return Concurrency(backend=backend, sessions=sessions, workers=workers, first_token=first_token,
                               total=total, feedback_s=[recorder.queued[s] - sent[s] for s in ids],
                               first_text_s=first_text_s, reply_s=reply_s, failures=failures, wall_s=wall_s,
                               call_starts_s=sorted(calls))
        finally:
            stop.set()
            await scheduler
            for proc in procs:
                if proc.returncode is None:
                    proc.terminate()
            for proc in procs:
                await proc.wait()
            shutil.rmtree(logs, ignore_errors=True)
            await app.close()


async def start_workers(n: int, env: dict[str, str], logs: Path) -> list[asyncio.subprocess.Process]:
    """N `rflow worker` processes, returned once each says its queues run (their logs in `logs`)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RF_", "ANTHROPIC_", "SLACK_", "MICROSOFT_"))}
    procs, files = [], []
    for i in range(n):
        files.append(logs / f"worker{i}.log")
        with files[-1].open("wb") as out:
            procs.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "worker", cwd=REPO, stdout=out, stderr=asyncio.subprocess.STDOUT,
                env={**base, **env, "PYTHONPATH": str(REPO), "RF_LOG_LEVEL": "INFO", "RF_LOG_JSON": "true"}))
    deadline = time.monotonic() + 120
    while not all("queue workers running" in f.read_text(errors="replace") for f in files):
        if time.monotonic() > deadline or any(p.returncode is not None for p in procs):
            raise AssertionError("the workers did not start: " + " | ".join(f.read_text()[-500:] for f in files))
        await asyncio.sleep(0.1)
    return procs


async def worker_results(db: Any, api_url: str, ids: list[int], sent_at: dict[int, tuple[float, float]],
                         timeout: float) -> tuple[list[float], list[float]]:
    """Reply complete from the stored replies' created_at (wall clock); first text from the fake's
    records (time.monotonic(), one clock for every process on a Linux host)."""
    deadline = time.monotonic() + timeout
    query = text("SELECT session_id, extract(epoch FROM max(created_at)) FROM steps "
                 "WHERE kind = 'assistant_reply' GROUP BY session_id")
    while True:
        async with db.connect() as connection:
            stored = {int(s): float(at) for s, at in (await connection.execute(query)).all()}
        if all(stored.get(s, 0) > sent_at[s][0] for s in ids):
            break
        if time.monotonic() > deadline:
            raise AssertionError("the workers did not answer every session in time")
        await asyncio.sleep(0.05)
    records = await fake_call(api_url, "/_fake/requests?bodies=1")
    first_text = []
    for i, s in enumerate(ids):
        tag = f"BENCH-S{i}- update"
        mine = [r["first_token_at"] for r in records if r["first_token_at"] and tag in str(r.get("body"))]
        if mine:
            first_text.append(min(mine) - sent_at[s][1])
    return [stored[s] - sent_at[s][0] for s in ids], first_text


async def until(done: Callable[[], bool], timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(why)
        await asyncio.sleep(0.01)


def report_concurrency(r: Concurrency) -> None:
    where = f"{r.workers} worker processes" if r.workers else "one process"
    print(f"{r.sessions} sessions at once ({r.backend}, {where}, RF_TURN_CONCURRENCY={CONCURRENCY}, "
          f"model streams {r.total:.1f} s, first token {r.first_token:.1f} s): every reply in {r.wall_s:.1f} s")
    if r.call_starts_s:
        print(f"  model calls: {len(r.call_starts_s)}, the first {r.call_starts_s[0] * 1000:.0f} ms and the last "
              f"{r.call_starts_s[-1] * 1000:.0f} ms after the first message was sent")
    floor = r.total
    first_text = "first token sent by the fake" if r.workers else "first streamed text (ReplyProgress)"
    for label, samples, budget in (("first visible feedback (TurnQueued)", r.feedback_s, FEEDBACK_BUDGET_S),
                                   (first_text, r.first_text_s, None),
                                   ("reply complete", r.reply_s, REPLY_BUDGET_S)):
        if not samples:
            print(f"  {label}: no samples")
            continue
        p50, p95 = statistics.median(samples), percentile(samples, 95)
        verdict = "" if budget is None else f" budget(p95) ≤ {budget} s → {'OK' if p95 <= budget else 'OVER BUDGET'}"
        print(f"  {label}: n={len(samples)} p50={p50 * 1000:.0f} ms p95={p95 * 1000:.0f} ms "
              f"max={max(samples) * 1000:.0f} ms{verdict}")
    if r.reply_s:
        print(f"  theoretical floor {floor:.1f} s (the model's own time); reply complete p95 / floor = "
              f"{percentile(r.reply_s, 95) / floor:.2f}")
    if r.failures:
        print(f"  {r.failures} turns FAILED")


# ---- (b) the engine's overhead per turn --------------------------------------------------------------


async def measure_overhead(backend: str, *, turns: int = 200) -> list[float]:
    """Milliseconds per whole turn with an instant assistant, one turn at a time, via run_forever."""
    async with engine_on(backend) as (engine, _):
        answered = asyncio.Event()
        recorder = Recorder(on_answer=lambda session_id: answered.set())
        engine.deps.notifiers.add(recorder)
        stop = asyncio.Event()
        scheduler = asyncio.create_task(engine.turns.run_forever(stop))
        try:
            actor = await member(engine, "dana")
            answered.clear()
            posted = await engine.sessions.start(actor=actor, problem="Benchmark session")
            await asyncio.wait_for(answered.wait(), 10)
            samples = []
            for i in range(turns + 5):  # the first few warm the statement caches; not counted
                answered.clear()
                began = time.perf_counter()
                await engine.sessions.post_message(actor=actor, session_id=posted.session.id or 0, text=f"message {i}")
                await asyncio.wait_for(answered.wait(), 10)
                if i >= 5:
                    samples.append((time.perf_counter() - began) * 1000)
            return samples
        finally:
            stop.set()
            await scheduler


def report_overhead(backend: str, samples: list[float]) -> bool:
    budget = OVERHEAD_BUDGET_MS[backend]
    p50, p95 = statistics.median(samples), percentile(samples, 95)
    ok = p50 <= budget
    print(f"engine overhead per whole turn, instant assistant, through the scheduler ({backend}): n={len(samples)} "
          f"median={p50:.2f} ms p95={p95:.2f} ms max={max(samples):.2f} ms budget(median) ≤ {budget} ms → "
          f"{'OK' if ok else 'OVER BUDGET'}")
    return ok


# ---- main -------------------------------------------------------------------------------------------------


def options(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.turns_concurrency")
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--turns", type=int, default=200, help="turns timed for the overhead (b)")
    p.add_argument("--workers", type=int, default=0, help="(a) with N `rflow worker` processes (PostgreSQL only)")
    p.add_argument("--only", choices=["concurrency", "overhead"], help="run one of the two parts")
    return p.parse_args(argv)


async def main(argv: list[str] | None = None) -> bool:
    opts = options(argv)
    backends = ["sqlite", "postgres"] if opts.backend == "both" else [opts.backend]
    if opts.workers:
        backends = ["postgres"]
    print(f"{os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    ok = True
    for backend in backends:
        if backend == "postgres" and not await postgres_reachable():
            print(f"PostgreSQL not reachable at {POSTGRES_URL}: its runs are skipped (set RF_TEST_POSTGRES_URL)")
            continue
        if opts.only != "overhead":
            result = await measure_concurrency(backend, sessions=opts.sessions, workers=opts.workers)
            report_concurrency(result)
            ok = result.ok and ok
        if opts.only != "concurrency" and not opts.workers:
            ok = report_overhead(backend, await measure_overhead(backend, turns=opts.turns)) and ok
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if asyncio.run(main()) else 1)
