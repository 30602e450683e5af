"""Shared set-up for the benchmarks: the real engine on a real database, the LLM replaced by an
instant in-process answer (the budgets measure the engine, not the model)."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from core.access import Actor
from core.assistant.types import (
    AssistantContext,
    AssistantTurn,
    ComposedText,
    ComposeRequest,
    FactSynthesisRequest,
    ReplyListener,
)
from core.bus import InMemoryBus
from core.deps import Deps
from core.engine import Engine
from storage.db import make_engine, upgrade
from storage.uow import SqlUnitOfWorkFactory
from tests.databases import throwaway_database

POSTGRES_URL = os.environ.get("RF_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


class InstantAssistant:
    """Answers at once, so a timing is the engine's own overhead."""

    enabled = True

    def __init__(self) -> None:
        self.calls = 0

    async def respond(self, context: AssistantContext, on_text: ReplyListener | None = None) -> AssistantTurn:
        self.calls += 1
        return AssistantTurn(reply="Noted.", questions=(f"Question {len(context.history)}?",))

    async def synthesize_fact(self, request: FactSynthesisRequest) -> str:
        self.calls += 1
        return "A fact."

    async def compose(self, request: ComposeRequest) -> ComposedText:
        self.calls += 1
        return ComposedText(markdown="## Problem\np", composed_by="assistant")


def args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--n", type=int, default=200)
    return p.parse_args()


@asynccontextmanager
async def fresh_database(backend: str) -> AsyncIterator[str]:
    """An empty database for one run (the caller or the bot migrates it): a SQLite file in a temporary
    directory, or `rflow_bench_<random>` beside RF_TEST_POSTGRES_URL's database, dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return
    async with throwaway_database(POSTGRES_URL, "rflow_bench") as url:
        yield url


@asynccontextmanager
async def engine_on(backend: str) -> AsyncIterator[tuple[Engine, InstantAssistant]]:
    """A migrated throwaway database of the given backend, dropped afterwards."""
    async with fresh_database(backend) as url:
        db = make_engine(url)
        try:
            await upgrade(db)
            assistant = InstantAssistant()
            engine = Engine(Deps(uow_factory=SqlUnitOfWorkFactory(db), bus=InMemoryBus(), assistant=assistant))
            await warm_pool(engine)
            yield engine, assistant
        finally:
            await db.dispose()


async def warm_pool(engine: Engine, connections: int = 20) -> None:
    """A running server's pool is warm; open its connections before anything is timed."""

    async def touch() -> None:
        async with engine.deps.uow_factory() as uow:
            await uow.accounts.get(account_id=0)
            await asyncio.sleep(0.05)

    await asyncio.gather(*(touch() for _ in range(connections)))


async def member(engine: Engine, name: str, role: str | None = None) -> Actor:
    from core.models import Role

    actor, _, _ = await engine.accounts.sign_in(account_name="Bench MSP", platform="bench", external_id=name,
                                                name=name, role=Role(role) if role else None)
    return actor


def report(label: str, samples_ms: list[float], budget_ms: float) -> bool:
    ordered = sorted(samples_ms)
    p50 = statistics.median(ordered)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    ok = p50 <= budget_ms
    print(f"{label}: n={len(ordered)} median={p50:.3f} ms p95={p95:.3f} ms max={ordered[-1]:.3f} ms "
          f"budget(median)={budget_ms} ms → {'OK' if ok else 'OVER BUDGET'}")
    return ok


def run(coro) -> None:  # type: ignore[no-untyped-def]
    raise SystemExit(0 if asyncio.run(coro) else 1)
