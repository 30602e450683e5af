"""`rflow`: the console when no Slack/Teams credentials are configured, otherwise the server; `rflow
worker` runs the durable queues without HTTP, for a topology of `serve` replicas plus workers;
`rflow doctor` checks the configuration and every connection.

A configuration or start-up problem is one line on stderr and exit code 2, never a traceback
(bot/startup_errors.py has the words)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from bot.logging_setup import LOG_FILE_NAME, configure_logging
from bot.manifests import DEFAULT_NAME, DEFAULT_TEAMS_PACKAGE, ManifestError, slack_manifest_yaml, write_teams_package
from bot.settings import Settings
from bot.startup_errors import EXIT_CONFIG, StartupError, load_settings, problems, raise_first, translated
from bot.version import version

# The engine, the surfaces and the SDKs load inside the commands that use them (bot.bootstrap and
# what it wires take seconds to import), so --version, the manifests, the doctor and the start-up
# errors answer at once.
DOCTOR_TIMEOUT = 10.0

log = logging.getLogger("rflow.cli")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rflow", description="ResolutionFlow: troubleshoot tickets with an AI assistant.")
    p.add_argument("--version", action="version", version=f"rflow {version()}")
    sub = p.add_subparsers(dest="command")
    console = sub.add_parser("console", help="the local console on the configured database")
    console.add_argument("--replay", type=Path, help="read the lines from FILE and print the transcript")
    console.add_argument("--strict", action="store_true", help="with --replay: exit 1 when a line failed")
    console.add_argument("--user", help="who you are in the console (default: RF_CONSOLE_USER or your login)")
    demo = sub.add_parser("demo", help="the console on a temporary database with a scripted local stand-in for the assistant")
    demo.add_argument("--replay", type=Path, help="read the lines from FILE and print the transcript")
    demo.add_argument("--strict", action="store_true", help="with --replay: exit 1 when a line failed")
    demo.add_argument("--user", help="who you are in the demo")
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
    check = sub.add_parser("doctor", help="check the configuration and every configured connection (a table)")
    check.add_argument("--timeout", type=float, default=DOCTOR_TIMEOUT, help="seconds per check (%(default)s)")
    return p


async def run_console(settings: Settings, replay_file: Path | None, strict: bool, user: str | None) -> int:
    """The console on a terminal, or the lines of `replay_file` with their transcript (bot/demo.py
    runs this one too)."""
    lines = read_replay(replay_file) if replay_file is not None else None
    from adapters.console.repl import ConsoleNotifier, default_user, interactive, open_console, replay
    from bot.bootstrap import build_app

    notifier = ConsoleNotifier()
    with translated(settings):
        app = await build_app(settings, notifiers=[notifier])
    try:
        with translated(settings):
            console = await open_console(app.engine, notifier, account_name=settings.console_account,
                                         user=user or settings.console_user or default_user(), model=settings.main_model)
        if lines is None:
            await interactive(console, data_dir=settings.data_dir)
            return 0
        failed = await replay(console, lines, sys.stdout)
        return 1 if strict and failed else 0
    finally:
        await app.close()


def read_replay(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise StartupError(f"cannot read the --replay file {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise StartupError(f"the --replay file {path} is not UTF-8 text.") from None


def stop_on_signals() -> asyncio.Event:
    """SIGTERM (a deployment stopping us) and SIGINT set the event, so running turns are handed
    back and connections closed instead of the process dying mid-write."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def run_serve(settings: Settings, *, workers: bool = True) -> None:
    from aiohttp import web

    from bot.bootstrap import build_app
    from bot.web import make_web_app

    stop = stop_on_signals()
    with translated(settings):
        app = await build_app(settings, platforms=True)
    runner = web.AppRunner(make_web_app(app, run_workers=workers))
    try:
        with translated(settings):
            await runner.setup()
        with translated(settings, "listen"):
            await web.TCPSite(runner, settings.host, settings.port).start()
        host, port = runner.addresses[0][:2]  # the port really bound (RF_PORT=0 picks a free one)
        log.info("serving on http://%s:%s%s", host, port, "" if workers else " (no queue workers)")
        await stop.wait()
    finally:
        await runner.cleanup()
        await app.close()


async def run_worker(settings: Settings) -> None:
    """The queues with the platforms built (their notifiers post the replies), but no HTTP."""
    from bot.bootstrap import build_app
    from bot.workers import run_queues

    stop = stop_on_signals()
    with translated(settings):
        app = await build_app(settings, platforms=True)
    try:
        log.info("worker running (no HTTP); stop it with SIGTERM")
        await run_queues(app, stop)
    finally:
        await app.close()
    log.info("worker stopped")


async def run_db_upgrade(settings: Settings) -> None:
    from storage.db import make_engine, upgrade

    db = make_engine(settings.resolved_database_url)
    try:
        with translated(settings):
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


PLATFORM_COMMANDS = ("serve", "worker")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "manifest":
        return run_manifest(args)
    if args.command == "secret-key":  # needs no settings: works while they are still wrong
        from bot.secretbox import new_key

        print(new_key())
        return 0
    if args.command == "doctor":
        from bot.doctor import doctor

        configure_logging("WARNING", False)  # the table is the output; library warnings only
        return asyncio.run(doctor(timeout=args.timeout))
    try:
        if args.command == "demo":
            return run_demo_command(args)
        return run(args)
    except StartupError as exc:
        print(f"rflow: {exc.message}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:  # Ctrl-C while starting or stopping: no traceback
        return 130


def run_demo_command(args: argparse.Namespace) -> int:
    """`rflow demo`: its own temporary database and stand-in, logging to the demo's own folder."""
    from bot.demo import run_demo

    return asyncio.run(run_demo(replay_file=args.replay, strict=args.strict, user=args.user,
                                on_settings=lambda settings: start_logging(settings, "console")))


def platform_settings_given(settings: Settings) -> bool:
    """Any Slack or Teams setting at all: then `rflow` means serve, and a missing half is named."""
    return settings.has_platform_credentials or any((
        settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token, settings.slack_client_id,
        settings.slack_client_secret, settings.microsoft_app_password))


def start_logging(settings: Settings, command: str) -> None:
    """The console logs to <data dir>/rflow.log, never between the lines of a conversation; the
    server and the workers log to stderr (JSON lines when it is not a terminal)."""
    if command != "console":
        configure_logging(settings.log_level.strip(), settings.log_json)
        return
    path = settings.data_dir / LOG_FILE_NAME
    try:
        configure_logging(settings.log_level.strip(), settings.log_json, file=path)
    except OSError as exc:
        raise StartupError(f"cannot write the console's log file {path} ({exc.strerror or exc}): set RF_SQLITE_PATH "
                           "to a path in a folder this user can write (the log goes beside the database).") from None


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    command = args.command or ("serve" if platform_settings_given(settings) else "console")
    raise_first(problems(settings, platforms=command in PLATFORM_COMMANDS))
    start_logging(settings, command)
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
    if command == "db":
        asyncio.run(run_db_upgrade(settings))
        return 0
    return asyncio.run(run_console(settings, getattr(args, "replay", None), getattr(args, "strict", False),
                                   getattr(args, "user", None)))


if __name__ == "__main__":
    sys.exit(main())
