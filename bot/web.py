"""The aiohttp server: /healthz now; /slack/events and /api/messages join it with their adapters."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.bootstrap import App
from core.worker import run_forever
from storage.db import is_current, ping

log = logging.getLogger("rflow.web")
APP_KEY = web.AppKey("rflow_app", App)


async def healthz(request: web.Request) -> web.Response:
    app: App = request.app[APP_KEY]
    database = await ping(app.db)
    migrations = database and await is_current(app.db)
    ok = database and migrations
    body = {"status": "ok" if ok else "unhealthy", "database": "ok" if database else "unreachable",
            "migrations": "current" if migrations else "behind" if database else "unknown"}
    return web.json_response(body, status=200 if ok else 503)


def make_web_app(app: App, *, run_worker: bool = True) -> web.Application:
    """The HTTP surface plus the assistant-turn worker, which lives as long as the server does."""
    web_app = web.Application()
    web_app[APP_KEY] = app
    web_app.router.add_get("/healthz", healthz)
    if run_worker:
        web_app.cleanup_ctx.append(_turn_worker)
    return web_app


async def _turn_worker(web_app: web.Application):  # type: ignore[no-untyped-def]
    """The durable queues' workers: assistant turns and PSA writebacks."""
    app = web_app[APP_KEY]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(app.engine.turns.run_forever(stop)),
             asyncio.create_task(run_forever(app.engine.writebacks.run_once, stop, poll_seconds=2.0))]
    yield
    stop.set()
    await asyncio.gather(*tasks)
