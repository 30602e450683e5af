"""`rflow demo`: the console on a temporary SQLite database with the scripted local stand-in for
the assistant (bot/stand_in), so a newcomer sees questions, checks, a fix, an outcome and a note
without an API key. The stand-in runs in this process on 127.0.0.1; the settings point the
assistant at it with a dummy key; the console is the one `rflow console` runs. Everything is
forgotten on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import tempfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO, cast

from bot.settings import Settings
from bot.stand_in import DUMMY_API_KEY, LABEL, demo_script
from bot.stand_in.messages_api import FakeAnthropic

STAND_IN_MODEL = "scripted stand-in"
BANNER = (f"Demo: the assistant here is {LABEL}. The data is on a temporary database, gone on exit. "
          f"Start with: {demo_script.WALKTHROUGH[0]}")  # fmt: skip


def demo_settings(base_url: str, data_dir: Path, overrides: Mapping[str, str] | None = None) -> Settings:
    """The settings of a demo run: the environment and `.env` as for `rflow console`, with the
    database, the assistant's endpoint, key and models and the bus replaced (`overrides` last)."""
    values: dict[str, str] = {
        "RF_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'demo.db'}",
        "RF_SQLITE_PATH": str(data_dir / "demo.db"),
        "RF_REDIS_URL": "",  # the in-process bus: nothing of the demo leaves this process
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": DUMMY_API_KEY,
        "RF_MAIN_MODEL": STAND_IN_MODEL,
        "RF_FAST_MODEL": STAND_IN_MODEL,
        **(overrides or {}),
    }
    return Settings(**cast(dict[str, Any], values))  # by alias, as the environment names them


RunConsole = Callable[[Settings, Path | None, bool, str | None], Awaitable[int]]


def console_runner() -> RunConsole:
    """`bot.cli.run_console`, the console `rflow console` runs. Looked up when called, not imported
    at the top: bot.cli imports this module for `rflow demo`."""
    return cast(RunConsole, importlib.import_module("bot.cli").run_console)


async def run_demo(settings_overrides: Mapping[str, str] | None = None, *, replay_file: Path | None = None,
                   strict: bool = False, user: str | None = None, out: TextIO | None = None,
                   on_settings: Callable[[Settings], None] | None = None) -> int:
    """Start the stand-in, print the banner, run the console (interactive, or `replay_file` as
    `rflow console --replay FILE [--strict]` does) and return its exit status. `on_settings` sees
    the demo's settings before the console starts (e.g. to put the log in its `data_dir`, the
    temporary folder)."""
    run_console = console_runner()
    stream = out if out is not None else sys.stdout
    with tempfile.TemporaryDirectory(prefix="rflow-demo-") as data_dir:
        async with FakeAnthropic() as stand_in:
            demo_script.install(stand_in)
            settings = demo_settings(stand_in.base_url, Path(data_dir), settings_overrides)
            if on_settings is not None:
                on_settings(settings)
            print(BANNER, file=stream, flush=True)
            return await run_console(settings, replay_file, strict, user)


def main_demo(argv: Sequence[str] | None = None) -> int:
    """`python -m bot.demo [--replay FILE] [--strict] [--user NAME]`, the same as `rflow demo`."""
    parser = argparse.ArgumentParser(prog="python -m bot.demo", description=f"The console with {LABEL}, on a temporary database.")
    parser.add_argument("--replay", type=Path, help="read the lines from FILE and print the transcript")
    parser.add_argument("--strict", action="store_true", help="with --replay: exit 1 when a line failed")
    parser.add_argument("--user", help="who you are in the console (default: RF_CONSOLE_USER or your login)")
    args = parser.parse_args(argv)
    return asyncio.run(run_demo(replay_file=args.replay, strict=args.strict, user=args.user))


if __name__ == "__main__":
    sys.exit(main_demo())
