"""The aiohttp server: /healthz, /slack/events (and Slack OAuth), /api/messages, and the workers of the
durable queues (platform inbox, assistant turns, PSA writebacks)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.bootstrap import App
from core.worker import run_forever
from storage.db import is_current, ping

log = logging.getLogger("rflow.web")
APP_KEY = web.AppKey("rflow_app", App)
INBOX_WORKERS = 2
PRUNE_SECONDS = 600.0


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
    if app.slack is not None:
        app.slack.add_routes(web_app)
    if app.teams is not None:
        app.teams.add_routes(web_app)
    if run_worker:
        web_app.cleanup_ctx.append(_turn_worker)
    return web_app


async def _turn_worker(web_app: web.Application):  # type: ignore[no-untyped-def]
    """The durable queues' workers: assistant turns and PSA writebacks."""
    app = web_app[APP_KEY]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(app.engine.turns.run_forever(stop)),
             asyncio.create_task(run_forever(app.engine.writebacks.run_once, stop, poll_seconds=2.0)),
             asyncio.create_task(_prune_inbox(app, stop))]
    # Several inbox loops: a slow Slack or Teams call must not hold up other people's clicks.
    tasks += [asyncio.create_task(app.engine.inbox.run_forever(stop)) for _ in range(INBOX_WORKERS)]
    socket_mode = await _start_socket_mode(app)
    yield
    stop.set()
    if socket_mode is not None:
        await socket_mode.close_async()
    await asyncio.gather(*tasks)


async def _prune_inbox(app: App, stop: asyncio.Event) -> None:
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


async def _start_socket_mode(app: App):  # type: ignore[no-untyped-def]
    """Socket Mode (SLACK_APP_TOKEN): Slack's requests over a WebSocket, for development without a
    public URL. The same Bolt app and inbox handle them."""
    token = app.settings.slack_app_token
    if app.slack is None or token is None or not token.get_secret_value():
        return None
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(app.slack.bolt, token.get_secret_value())
    await handler.connect_async()
    log.info("Slack Socket Mode connected")
    return handler
