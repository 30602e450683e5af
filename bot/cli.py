"""`rflow`: the console when no Slack/Teams credentials are configured, otherwise the server; `rflow
worker` runs the durable queues without HTTP, for a topology of `serve` replicas plus workers."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from adapters.console.repl import ConsoleNotifier, default_user, interactive, open_console, replay
from bot.bootstrap import build_app
from bot.logging_setup import configure_logging
from bot.manifests import DEFAULT_NAME, DEFAULT_TEAMS_PACKAGE, ManifestError, slack_manifest_yaml, write_teams_package
from bot.secretbox import new_key
from bot.settings import Settings
from bot.web import make_web_app
from bot.workers import run_queues
from storage.db import make_engine, upgrade

log = logging.getLogger("rflow.cli")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rflow", description="ResolutionFlow: troubleshoot tickets with an AI assistant.")
    sub = p.add_subparsers(dest="command")
    console = sub.add_parser("console", help="the local console on the configured database")
    console.add_argument("--replay", type=Path, help="read the lines from FILE and print the transcript")
    console.add_argument("--strict", action="store_true", help="with --replay: exit 1 when a line failed")
    console.add_argument("--user", help="who you are in the console (default: RF_CONSOLE_USER or your login)")
    serve = sub.add_parser("serve", help="the HTTP server (Slack and Teams endpoints, /healthz)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-workers", action="store_true",
                       help="HTTP only: leave the turn, inbox and writeback queues to `rflow worker` processes")
    sub.add_parser("worker", help="the turn, inbox and writeback queues without the HTTP server (runs beside `serve`)")
    sub.add_parser("secret-key", help="print a new RF_SECRET_KEY (encrypts stored PSA keys)")
    manifest = sub.add_parser("manifest", help="the Slack app manifest or the Teams app package for your address")
    kinds = manifest.add_subparsers(dest="platform", required=True)
    slack = kinds.add_parser("slack", help="print the Slack app manifest (YAML) to paste at api.slack.com/apps")
    slack.add_argument("--url", help="the bot's public https address, e.g. https://rflow.example.com")
    slack.add_argument("--name", default=DEFAULT_NAME, help="the app's name in Slack (default: %(default)s)")
    slack.add_argument("--socket-mode", action="store_true", help="Socket Mode (SLACK_APP_TOKEN): no request URLs")
    teams = kinds.add_parser("teams", help="write the Teams app package (zip) that Teams admins upload")
    teams.add_argument("--app-id", required=True, help="the Azure Bot's Microsoft App ID (MICROSOFT_APP_ID)")
    teams.add_argument("--url", required=True, help="the bot's public https address, e.g. https://rflow.example.com")
    teams.add_argument("--name", default=DEFAULT_NAME, help="the app's name in Teams (default: %(default)s)")
    teams.add_argument("--out", type=Path, default=DEFAULT_TEAMS_PACKAGE, help="where to write the zip (%(default)s)")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="apply migrations up to head")
    return p


async def run_console(settings: Settings, replay_file: Path | None, strict: bool, user: str | None) -> int:
    notifier = ConsoleNotifier()
    app = await build_app(settings, notifiers=[notifier])
    try:
        console = await open_console(app.engine, notifier, account_name=settings.console_account,
                                     user=user or settings.console_user or default_user(), model=settings.main_model)
        if replay_file is None:
            await interactive(console)
            return 0
        failed = await replay(console, replay_file.read_text(encoding="utf-8").splitlines(), sys.stdout)
        return 1 if strict and failed else 0
    finally:
        await app.close()


def stop_on_signals() -> asyncio.Event:
    """SIGTERM (a deployment stopping us) and SIGINT set the event, so running turns are handed
    back and connections closed instead of the process dying mid-write."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def run_serve(settings: Settings, *, workers: bool = True) -> None:
    stop = stop_on_signals()
    app = await build_app(settings, platforms=True)
    runner = web.AppRunner(make_web_app(app, run_workers=workers))
    try:
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        host, port = runner.addresses[0][:2]  # the port really bound (RF_PORT=0 picks a free one)
        log.info("serving on http://%s:%s%s", host, port, "" if workers else " (no queue workers)")
        await stop.wait()
    finally:
        await runner.cleanup()
        await app.close()


async def run_worker(settings: Settings) -> None:
    """The queues with the platforms built (their notifiers post the replies), but no HTTP."""
    stop = stop_on_signals()
    app = await build_app(settings, platforms=True)
    try:
        log.info("worker running (no HTTP); stop it with SIGTERM")
        await run_queues(app, stop)
    finally:
        await app.close()
    log.info("worker stopped")


async def run_db_upgrade(settings: Settings) -> None:
    db = make_engine(settings.resolved_database_url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    print("Database is at the latest migration.")


def run_manifest(args: argparse.Namespace) -> int:
    """Needs no settings or database: it only fills the templates in manifest/."""
    try:
        if args.platform == "slack":
            print(slack_manifest_yaml(url=args.url, name=args.name, socket_mode=args.socket_mode), end="")
            return 0
        out = write_teams_package(args.out, app_id=args.app_id, url=args.url, name=args.name)
    except ManifestError as exc:
        print(f"rflow manifest {args.platform}: error: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote {out} (manifest.json, color.png, outline.png). Upload it in the Teams admin center: "
          "Teams apps → Manage apps → Upload new app.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "manifest":
        return run_manifest(args)
    settings = Settings()
    command = args.command or ("serve" if settings.has_platform_credentials else "console")
    quiet_console = command == "console" and "RF_LOG_LEVEL" not in os.environ
    configure_logging("WARNING" if quiet_console else settings.log_level, settings.log_json)
    if command == "serve":
        if getattr(args, "host", None):
            settings.host = args.host
        if getattr(args, "port", None):
            settings.port = args.port
        asyncio.run(run_serve(settings, workers=not getattr(args, "no_workers", False)))
        return 0
    if command == "worker":
        asyncio.run(run_worker(settings))
        return 0
    if command == "secret-key":
        print(new_key())
        return 0
    if command == "db":
        asyncio.run(run_db_upgrade(settings))
        return 0
    return asyncio.run(run_console(settings, getattr(args, "replay", None), getattr(args, "strict", False),
                                   getattr(args, "user", None)))


if __name__ == "__main__":
    sys.exit(main())
