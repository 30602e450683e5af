"""The aiohttp server: /healthz, /slack/events (and Slack OAuth), /api/messages, and (unless
`--no-workers`) the workers of the durable queues (bot/workers.py)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.bootstrap import App
from bot.workers import run_queues
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


def make_web_app(app: App, *, run_workers: bool = True) -> web.Application:
    """The HTTP surface; with `run_workers` also the queues' workers, which live as long as the
    server does. `rflow serve --no-workers` leaves them to `rflow worker` processes."""
    web_app = web.Application()
    web_app[APP_KEY] = app
    web_app.router.add_get("/healthz", healthz)
    if app.slack is not None:
        app.slack.add_routes(web_app)
    if app.teams is not None:
        app.teams.add_routes(web_app)
    if run_workers:
        web_app.cleanup_ctx.append(_workers)
    web_app.cleanup_ctx.append(_socket_mode)
    return web_app


async def _workers(web_app: web.Application):  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    queues = asyncio.create_task(run_queues(web_app[APP_KEY], stop), name="queues")
    yield
    stop.set()
    await queues


async def _socket_mode(web_app: web.Application):  # type: ignore[no-untyped-def]
    """Slack's requests over Socket Mode are ingress, like /slack/events: they go with the server,
    workers or not."""
    handler = await _start_socket_mode(web_app[APP_KEY])
    yield
    if handler is not None:
        await handler.close_async()


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
