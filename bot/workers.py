"""The durable queues' workers (assistant turns, platform inbox, PSA writebacks, inbox pruning), run
by `rflow serve` alongside HTTP and by `rflow worker` without it (issue 10 §5). Every queue is
claimed with leases in the database, so any number of these may run against one PostgreSQL."""

from __future__ import annotations

import asyncio
import logging

from bot.bootstrap import App
from core.worker import run_forever

log = logging.getLogger("rflow.workers")
INBOX_LOOPS = 2  # each runs the inbox's own concurrent handlers: a slow Web API call holds only its thread
WRITEBACK_POLL_SECONDS = 2.0
PRUNE_SECONDS = 600.0


async def run_queues(app: App, stop: asyncio.Event) -> None:
    """Run every queue until `stop` is set; then the running turns are handed back (another worker
    takes them at once) and the loops end. Returns when all of them have."""
    engine = app.engine
    tasks = [asyncio.create_task(engine.turns.run_forever(stop), name="turns"),
             asyncio.create_task(run_forever(engine.writebacks.run_once, stop, poll_seconds=WRITEBACK_POLL_SECONDS),
                                 name="writebacks"),
             asyncio.create_task(prune_inbox(app, stop), name="inbox-prune")]
    tasks += [asyncio.create_task(engine.inbox.run_forever(stop), name=f"inbox-{i}") for i in range(INBOX_LOOPS)]
    log.info("queue workers running", extra={"turn_worker": engine.turns.worker_id,
                                             "turn_concurrency": engine.deps.settings.turn_concurrency})
    try:
        await stop.wait()
    finally:
        stop.set()  # also when cancelled: the loops see it and finish their current item
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for task, result in zip(tasks, results, strict=True):
            if isinstance(result, Exception):
                log.error("queue worker %s ended with an error", task.get_name(), exc_info=result)


async def prune_inbox(app: App, stop: asyncio.Event) -> None:
    """Finished deliveries are kept past the platforms' retry window, then dropped."""
    while not stop.is_set():
        try:
            await app.engine.inbox.prune()
        except Exception:
            log.exception("pruning the inbox failed; trying again later")
        try:
            await asyncio.wait_for(stop.wait(), timeout=PRUNE_SECONDS)
        except TimeoutError:
            pass
