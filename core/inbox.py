"""The durable inbox: every platform request is stored before it is acknowledged, then processed
once by a worker (R36's retries, ack in well under 3 s, nothing lost to a crash after the ack).

A surface calls `accept` on its request path (one small INSERT, nothing slow) and registers a
handler per platform; `run_once` claims the oldest delivery with a lease, runs the handler outside
any transaction, and finishes it. A failing handler hands the delivery back for a few more tries.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.deps import Deps
from core.platform import InboundDelivery, InboundStatus
from core.worker import drain, run_forever

log = logging.getLogger("rflow.inbox")

Handler = Callable[[InboundDelivery], Awaitable[None]]
MAX_ATTEMPTS = 3
CONCURRENCY = 8  # handlers at once per inbox loop; a slow Web API call holds only its own thread
MAX_BATCH = 500
INGRESS_QUIET_SECONDS = 0.05
DEFER_STEP_SECONDS = 0.005
MAX_DEFER_SECONDS = 1.0
# Renewed every third of it while a handler runs (a few Web API calls, 429 retries), so a worker
# that dies mid-delivery holds its thread only this long.
LEASE_SECONDS = 30.0
# Slack retries for up to about 5 minutes, Teams does not retry: an hour of dedupe records is ample.
KEEP_FINISHED = timedelta(hours=1)


@dataclass(frozen=True, kw_only=True)
class Processed:
    delivery_id: int
    platform: str
    status: str
    error: str | None = None


class InboxService:
    def __init__(self, deps: Deps, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self.deps = deps
        self.lease_seconds = lease_seconds
        self.worker_id = f"in-{uuid.uuid4().hex[:12]}"
        self._handlers: dict[str, Handler] = {}
        self._wake = asyncio.Event()
        self._waiting: list[tuple[InboundDelivery, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Future[None] | None = None
        self._last_accept = 0.0

    def register(self, platform: str, handler: Handler) -> None:
        self._handlers[platform] = handler

    async def accept(self, *, platform: str, key: str, payload: dict[str, Any], thread_key: str | None = None) -> bool:
        """Store a delivery; False when this (platform, key) was already stored (a retry). Returns
        once the row is committed, so the caller may acknowledge the request. Deliveries with the
        same `thread_key` (one Slack thread) are handled one at a time, in arrival order."""
        delivery = InboundDelivery(platform=platform, key=key[:255], payload=payload, created_at=self.deps.clock.now(),
                                   thread_key=thread_key[:255] if thread_key else None)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._last_accept = time.monotonic()
        self._waiting.append((delivery, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())
        fresh = await future
        if not fresh:
            log.info("retried delivery ignored", extra={"platform": platform, "key": key})
        return fresh

    async def _flush(self) -> None:
        """Group commit: the deliveries that arrived while one batch was being written go together
        in the next transaction, so a burst of requests costs a few commits, not one each. When
        idle, a delivery is written at once (no batching delay)."""
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                async with self.deps.uow_factory() as uow:
                    results = await uow.inbound.accept_many([delivery for delivery, _ in batch])
                    await uow.commit()
            except Exception as exc:  # each caller answers its request with an error; Slack retries
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), fresh in zip(batch, results, strict=True):
                if not future.done():  # a caller that gave up (client gone) is simply skipped
                    future.set_result(fresh)
            if any(results):
                self._wake.set()

    async def _defer_to_ingress(self) -> None:
        """Acks first: while requests are arriving (accepts waiting, or one in the last few ms),
        a worker waits a little before taking work, so processing does not slow the acks down.
        Bounded, so a steady stream of requests never starves the work."""
        waited = 0.0
        while waited < MAX_DEFER_SECONDS and (
                self._waiting or time.monotonic() - self._last_accept < INGRESS_QUIET_SECONDS):
            await asyncio.sleep(DEFER_STEP_SECONDS)
            waited += DEFER_STEP_SECONDS

    async def run_once(self) -> Processed | None:
        await self._defer_to_ingress()
        now = self.deps.clock.now()
        async with self.deps.uow_factory() as uow:
            delivery = await uow.inbound.claim_next(
                worker_id=self.worker_id, now=now, lease_until=now + timedelta(seconds=self.lease_seconds))
            await uow.commit()
        if delivery is None:
            return None
        handler = self._handlers.get(delivery.platform)
        if handler is None:
            return await self._finish(delivery, InboundStatus.FAILED, f"no handler for {delivery.platform}")
        renewal = asyncio.create_task(self._renew(delivery))
        try:
            await handler(delivery)
        except Exception as exc:  # the handler tells users about domain errors itself; this is a bug or an outage
            log.exception("inbound delivery %s failed (attempt %s)", delivery.id, delivery.attempts)
            status = InboundStatus.FAILED if delivery.attempts >= MAX_ATTEMPTS else InboundStatus.PENDING
            return await self._finish(delivery, status, f"{type(exc).__name__}: {exc}"[:500])
        finally:
            renewal.cancel()
        return await self._finish(delivery, InboundStatus.DONE, None)

    async def _renew(self, delivery: InboundDelivery) -> None:
        """Keep the lease while the handler runs, so only a dead worker's delivery is taken over."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            until = self.deps.clock.now() + timedelta(seconds=self.lease_seconds)
            try:
                async with self.deps.uow_factory() as uow:
                    kept = await uow.inbound.renew_lease(entity_id=delivery.id or 0, worker_id=self.worker_id,
                                                         lease_until=until)
                    await uow.commit()
            except Exception:
                log.exception("renewing the lease of inbound delivery %s failed; trying again", delivery.id)
                continue
            if not kept:
                return

    async def _finish(self, delivery: InboundDelivery, status: InboundStatus, error: str | None) -> Processed:
        async with self.deps.uow_factory() as uow:
            await uow.inbound.finish(delivery_id=delivery.id or 0, worker_id=self.worker_id, status=status,
                                     now=self.deps.clock.now(), error=error)
            await uow.commit()
        return Processed(delivery_id=delivery.id or 0, platform=delivery.platform, status=status, error=error)

    async def drain(self, max_items: int = 100) -> list[Processed]:
        return await drain(self.run_once, max_items)

    async def prune(self) -> int:
        async with self.deps.uow_factory() as uow:
            removed = await uow.inbound.prune(finished_before=self.deps.clock.now() - KEEP_FINISHED)
            await uow.commit()
        return removed

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 0.5) -> None:
        """CONCURRENCY loops: different threads are handled at once, one thread's in order."""
        await asyncio.gather(*(run_forever(self.run_once, stop, self._wake, poll_seconds) for _ in range(CONCURRENCY)))
