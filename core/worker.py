"""The loop every durable queue runs in the server (assistant turns, PSA writebacks)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger("rflow.worker")
T = TypeVar("T")


async def drain(run_once: Callable[[], Awaitable[T | None]], max_items: int) -> list[T]:
    """Run a queue until it is empty (or `max_items`): tests, the console and replays use it."""
    results: list[T] = []
    for _ in range(max_items):
        result = await run_once()
        if result is None:
            break
        results.append(result)
    return results


async def run_forever(run_once: Callable[[], Awaitable[object | None]], stop: asyncio.Event,
                      wake: asyncio.Event | None = None, poll_seconds: float = 0.5) -> None:
    """Drain, then sleep until woken or the poll interval passes; an error is logged, never fatal."""
    wake = wake or asyncio.Event()
    while not stop.is_set():
        wake.clear()  # before looking: a wake during run_once() is then not lost
        try:
            if await run_once() is not None:
                continue
        except Exception:
            log.exception("queue worker error; continuing")
        try:
            await asyncio.wait_for(wake.wait(), timeout=poll_seconds)
        except TimeoutError:
            pass
