"""The "is thinking…" status in a session's thread while the assistant works on it (R37).

Slack clears a thread's status whenever the app posts there, and after two minutes on its own
(docs.slack.dev assistant.threads.setStatus). So we remember which threads wait for a reply: a
post that is not the reply (the lane, a note, a message from Teams) puts the status back, and the
reply takes it away. One lock per thread keeps "put it back" from landing after the reply.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from adapters.slack import labels as w
from adapters.slack.gateway import SlackGateway
from adapters.slack.thread import Thread
from core.ordering import KeyedLocks

log = logging.getLogger("rflow.slack")
STATUS_SECONDS = 120.0  # Slack drops a status after two minutes without a message


class ThreadStatus:
    def __init__(self, gateway: SlackGateway, clock: Callable[[], float] = time.monotonic) -> None:
        self.gateway = gateway
        self._clock = clock
        self._shown: dict[Thread, float] = {}  # thread → when an engineer's message started the wait
        self._locks = KeyedLocks()

    def now(self) -> float:
        return self._clock()

    async def show(self, thread: Thread) -> None:
        """An engineer's message waits for the assistant: say so in the thread at once."""
        now = self._clock()
        for old in [t for t, shown in self._shown.items() if now - shown > STATUS_SECONDS]:
            del self._shown[old]  # answered elsewhere (another worker) or long gone: Slack dropped it too
        async with self._locks.hold(thread.ref):
            self._shown[thread] = now
            await self._send(thread, w.THINKING)

    async def after_post(self, thread: Thread) -> None:
        """We posted something other than the reply; Slack cleared the status, so it goes back up."""
        async with self._locks.hold(thread.ref):
            shown = self._shown.get(thread)
            if shown is None:
                return
            if self._clock() - shown > STATUS_SECONDS:
                del self._shown[thread]  # Slack has dropped it by now too
                return
            await self._send(thread, w.THINKING)

    async def begin_reply(self, thread: Thread, *, since: float | None = None) -> None:
        """The reply is about to appear (and clear the status). A wait that began after `since`,
        when the reply began to stream, is for the next turn and stays."""
        async with self._locks.hold(thread.ref):
            shown = self._shown.get(thread)
            if shown is not None and (since is None or shown <= since):
                del self._shown[thread]

    async def clear(self, thread: Thread) -> None:
        """Nothing will be posted that would clear it (the turn was stopped, or the reply failed)."""
        async with self._locks.hold(thread.ref):
            self._shown.pop(thread, None)
            await self._send(thread, "")

    def waiting(self, thread: Thread) -> bool:
        return thread in self._shown

    async def _send(self, thread: Thread, status: str) -> None:
        outcome = await self.gateway.set_status(thread.team, thread.channel, thread.ts, status)
        if not outcome.ok:
            log.info("thread status %r in %s not shown: %s", status, thread.ref, outcome.error)
