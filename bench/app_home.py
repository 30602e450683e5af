"""Issue 11's read models on a busy account (500 sessions, 200 escalations, half still awaiting pickup):
App Home's data read (its sessions, the queue, the metric for 7/30/90 days), the same plus the Block Kit
render, the queue and the metric alone. Prints the statements each sends and its median / p95; the
budget is on the App Home read and render.

Run: python -m bench.app_home --backend postgres [--n 200]
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from adapters.slack import views
from adapters.slack.surface import OPEN_STATUSES
from bench.common import args, engine_on, report, run
from storage.uow import SqlUnitOfWorkFactory
from tests.storage.crowd import StatementCounter, seed_crowd

SESSIONS = 500
HANDOFFS = 200
BUDGET_MS = 50.0  # App Home, read and render (median)
WARMUP = 5


async def main() -> bool:
    opts = args()
    async with engine_on(opts.backend) as (engine, _):
        factory = engine.deps.uow_factory
        assert isinstance(factory, SqlUnitOfWorkFactory)
        started = time.perf_counter()
        crowd = await seed_crowd(factory, now=datetime.now(UTC), sessions=SESSIONS, handoffs=HANDOFFS)
        print(f"set-up ({opts.backend}): {SESSIONS} sessions, {HANDOFFS} escalations "
              f"({len(crowd.awaiting)} awaiting pickup) in {time.perf_counter() - started:.1f} s")
        counter = StatementCounter(factory.engine)

        async def home_data() -> Any:
            return await engine.home.read(actor=crowd.engineer, statuses=OPEN_STATUSES)

        async def home_rendered() -> Any:
            home = await home_data()
            return views.home_view(sessions=home.sessions, queue=home.queue, metrics=home.metrics)

        async def queue() -> Any:
            return await engine.handoffs.queue(actor=crowd.engineer)

        async def metric() -> Any:
            return await engine.metric.pickups(actor=crowd.engineer)

        reads: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("App Home read + render", home_rendered), ("App Home read", home_data),
            ("queue", queue), ("metric 7/30/90d", metric),
        ]
        ok = True
        for label, read in reads:
            for _ in range(WARMUP):
                await read()
            with counter.counting() as statements:
                await read()
            samples = []
            for _ in range(opts.n):
                began = time.perf_counter()
                await read()
                samples.append((time.perf_counter() - began) * 1000)
            print(f"{label}: {len(statements)} statements")
            passed = report(f"{label} ({opts.backend})", samples, BUDGET_MS)
            ok = ok and (passed or label != reads[0][0])
        return ok


if __name__ == "__main__":
    run(main())
