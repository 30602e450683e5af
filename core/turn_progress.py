"""The reply as it streams (R37): the assistant hands over its text so far without waiting; this
pump shows the newest of it to the surfaces at a steady pace, one delivery at a time, and never
after the turn's answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("rflow.turns")
PROGRESS_INTERVAL = 0.3  # seconds between updates: Slack and Teams both ask for about one a second per stream


class ProgressPump:
    """`listen` is the assistant's ReplyListener; `close` stops it and waits for a send in flight."""

    def __init__(self, send: Callable[[str], Awaitable[None]], interval: float = PROGRESS_INTERVAL) -> None:
        self._send = send
        self._interval = interval
        self._latest = ""
        self._sent = ""
        self._changed = asyncio.Event()
        self._stop = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] = asyncio.create_task(self._run())

    def listen(self, text: str) -> None:
        if not self._closed and text != self._latest:
            self._latest = text
            self._changed.set()

    async def close(self) -> None:
        """No update after this returns: the answer may go out."""
        self._closed = True
        self._stop.set()
        self._changed.set()
        await self._task

    async def _run(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            if self._closed:
                return
            if self._latest and self._latest != self._sent:
                self._sent = self._latest
                try:
                    await self._send(self._sent)
                except Exception:  # a surface's trouble showing progress never stops the turn
                    log.exception("reply progress could not be shown")
            try:  # pace: wait out the interval unless the turn ends first
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval)
                return
            except TimeoutError:
                pass
