"""The newest render of a task lane always wins (issue 10 §2).

Requests to refresh one lane message coalesce: one loop per lane renders from the database and
sends, and a request made while a render is under way gets the next render, which starts after it.
After a 429 the loop waits out Retry-After and renders again from the database instead of resending
what it had, so an older render can never land after a newer one. After a send it reads the lane
once more and sends again if it changed meanwhile, which also settles a race with another process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.slack.delivery import backoff
from adapters.slack.gateway import SlackGateway

log = logging.getLogger("rflow.slack")
MAX_SENDS = 4  # sends per request: the lane changed under us more often than this, the next change heals it
MAX_FAILURES = 3  # 5xx or network errors in a row
MAX_RATE_LIMITS = 10


@dataclass(frozen=True, kw_only=True)
class LaneRender:
    team: str
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]


Render = Callable[[int, int], Awaitable[LaneRender | None]]


@dataclass(eq=False)
class _Lane:
    requested: int = 0
    covered: int = 0
    done: int = 0
    ok: bool = False
    task: asyncio.Task[None] | None = None
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)


class LaneRenderer:
    def __init__(self, gateway: SlackGateway, render: Render) -> None:
        self.gateway = gateway
        self.render = render
        self._lanes: dict[tuple[int, int], _Lane] = {}

    async def refresh(self, account_id: int, session_id: int) -> bool:
        """Returns once a render that began after this call reached Slack (True) or failed (False)."""
        key = (account_id, session_id)
        lane = self._lanes.setdefault(key, _Lane())
        lane.requested += 1
        mine = lane.requested
        if lane.task is None:
            lane.task = asyncio.create_task(self._run(key, lane))
        async with lane.changed:
            await lane.changed.wait_for(lambda: lane.done >= mine)
        return lane.ok

    async def _run(self, key: tuple[int, int], lane: _Lane) -> None:
        try:
            while lane.done < lane.requested:
                try:
                    ok = await self._deliver(key, lane)
                except Exception:  # the database or a bug: logged; the next change renders again
                    log.exception("rendering the lane of session %s failed", key[1])
                    ok, lane.covered = False, lane.requested
                async with lane.changed:
                    lane.ok, lane.done = ok, lane.covered  # every request made before the last render
                    lane.changed.notify_all()
        finally:
            lane.task = None
            if self._lanes.get(key) is lane and lane.done >= lane.requested:
                del self._lanes[key]

    async def _deliver(self, key: tuple[int, int], lane: _Lane) -> bool:
        """Render and send until Slack shows what the database says; `lane.covered` is then the
        count of requests made before the last render began (they are all answered by it)."""
        sent: tuple[str, list[dict[str, Any]]] | None = None
        sends = failures = limited = 0
        while True:
            lane.covered = lane.requested
            render = await self.render(*key)  # fresh every time: never an old payload
            if render is None:
                return False
            payload = (render.text, render.blocks)
            if payload == sent:
                return True  # what Slack shows is what the database says
            if sends >= MAX_SENDS:
                return sent is not None
            gate = (render.team, "chat.update", render.channel)
            if (left := self.gateway.gates.remaining(gate)) > 0:
                await asyncio.sleep(left)
                continue  # and render again: the lane may have changed while we waited
            outcome = await self.gateway.attempt(render.team, "chat.update", render.channel, lambda c: c.chat_update(  # noqa: B023
                channel=render.channel, ts=render.ts, text=render.text, blocks=render.blocks), wait=False)  # noqa: B023 awaited here
            if outcome.ok:
                sent, sends, failures = payload, sends + 1, 0
                continue
            if outcome.retry_after is not None and limited < MAX_RATE_LIMITS:
                limited += 1
                continue
            if outcome.transient and failures < MAX_FAILURES:
                failures += 1
                await asyncio.sleep(backoff(failures))
                continue
            log.warning("chat.update of the lane %s/%s failed: %s", render.channel, render.ts, outcome.error)
            return False
