"""The typing indicator while the assistant works on a turn (R37), in any Teams conversation.

A typing activity shows for about three seconds, and senders should not send one more often (Bot
Framework activity spec, A6000/A6001), so while a turn is pending we send one at once and then one
every `TYPING_EVERY` seconds, until the answer is posted (`stop`) or the turn could no longer be
running (`limit_s`, the turn deadline: its answer may have gone out from another worker). `stop`
lets a send in flight finish, so no typing arrives after the reply it announced.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from adapters.teams import streaming
from adapters.teams.proactive import TeamsSender
from adapters.teams.surface import SEND_ERRORS

log = logging.getLogger("rflow.teams")


@dataclass(eq=False)
class _Keeper:
    reference: dict[str, Any]
    until: float
    busy: bool = False  # a send is in flight: let it finish rather than cut the request
    stopping: bool = False
    task: asyncio.Task[None] | None = None
    sent: int = 0


@dataclass
class TypingIndicators:
    sender: TeamsSender
    every_s: float = streaming.TYPING_EVERY
    limit_s: float = 150.0
    _keepers: dict[str, _Keeper] = field(default_factory=dict)

    def keep(self, key: str, reference: dict[str, Any]) -> None:
        """Show typing in the conversation `key` now and keep it up; a second call extends it."""
        keeper = self._keepers.get(key)
        until = time.monotonic() + self.limit_s
        if keeper is not None and not keeper.stopping:
            keeper.until = until
            return
        keeper = _Keeper(reference=reference, until=until)
        self._keepers[key] = keeper
        keeper.task = asyncio.create_task(self._run(key, keeper))

    def showing(self, key: str) -> bool:
        return key in self._keepers

    async def stop(self, key: str) -> None:
        """No typing in `key` after this returns."""
        keeper = self._keepers.pop(key, None)
        if keeper is None or keeper.task is None:
            return
        keeper.stopping = True
        if not keeper.busy:
            keeper.task.cancel()
        await asyncio.gather(keeper.task, return_exceptions=True)

    async def close(self) -> None:
        for key in list(self._keepers):
            await self.stop(key)

    async def _run(self, key: str, keeper: _Keeper) -> None:
        try:
            while not keeper.stopping and time.monotonic() < keeper.until:
                keeper.busy = True
                try:
                    await self.sender.send_activity(keeper.reference, streaming.typing(), retry=streaming.STREAM_RETRY)
                    keeper.sent += 1
                except SEND_ERRORS as exc:
                    log.info("typing indicator in %s not sent: %s", key, streaming.reason(exc))
                finally:
                    keeper.busy = False
                if keeper.stopping:
                    return
                await asyncio.sleep(self.every_s)
        finally:
            if self._keepers.get(key) is keeper:
                del self._keepers[key]
