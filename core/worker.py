"""The loop every durable queue runs in the server (assistant turns, PSA writebacks)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("rflow.worker")


async def run_forever(run_once: Callable[[], Awaitable[object | None]], stop: asyncio.Event,
                      wake: asyncio.Event | None = None, poll_seconds: float = 0.5) -> None:
    """Drain, then sleep until woken or the poll interval passes; an error is logged, never fatal."""
    wake = wake or asyncio.Event()
    while not stop.is_set():
        try:
            if await run_once() is not None:
                continue
        except Exception:
            log.exception("queue worker error; continuing")
        wake.clear()
        try:
            await asyncio.wait_for(wake.wait(), timeout=poll_seconds)
        except TimeoutError:
            pass
