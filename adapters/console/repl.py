"""Run the console: interactively on a terminal, or replaying a file of lines (tests, demos, support)."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import adapters.console.actions  # registers the action commands
import adapters.console.closing  # noqa: F401  (registers the account-level commands)
import adapters.console.psa  # noqa: F401  (registers /psa and the ticket search of /link)
from adapters.console import messages as m
from adapters.console import render
from adapters.console.console import Console
from adapters.console.live import Live, live_of
from adapters.console.stdin import StdinLines
from core import views
from core.engine import Engine
from core.events import (
    EscalationClaimed,
    EscalationCreated,
    MessagePosted,
    SessionResolved,
    TurnAnswered,
    TurnQueued,
)
from core.notify import QuietNotifier
from core.redaction import redact_text


class ConsoleNotifier(QuietNotifier):
    """The console's escalation channel and, live, its assistant status: events print as lines in
    the running console."""

    def __init__(self) -> None:
        self.console: Console | None = None

    def _say(self, *lines: str) -> None:
        if self.console is None:
            return
        if self.console.screen is not None:
            self.console.screen.show(lines)
        else:
            self.console.notices.extend(lines)

    async def turn_queued(self, event: TurnQueued) -> None:
        """The live console's indicator (R37) for the current session, or for the one /new is making
        current; a replay's transcript has none, its turns finish in line."""
        console = self.console
        if console is None or not console.background:
            return
        if (live := live_of(console)) is not None:
            live.turn_queued(event.session_id)
        if event.session_id == console.current or event.author_id == console.member.id:
            self._say(m.THINKING)

    async def turn_answered(self, event: TurnAnswered) -> None:
        """Live, replies print as they arrive; a replay prints its drained turns itself. A cancelled
        turn is said either way."""
        console = self.console
        if console is not None and (live := live_of(console)) is not None:
            live.turn_answered(event)
        if console is None or not (console.background or event.cancelled):
            return
        self._say(*await console.answered(event))

    async def message_posted(self, event: MessagePosted) -> None:
        """The console's own messages (the live console shows the others' as the event bus brings
        them, and not these a second time)."""
        if event.via == "console" and self.console is not None and (live := live_of(self.console)) is not None:
            live.message_posted(event)

    async def escalation_created(self, event: EscalationCreated) -> None:
        post = views.created_post(event)
        self._say(*render.escalation_post(post, head=m.NOTIFY.format(text=post.title)))

    async def escalation_claimed(self, event: EscalationClaimed) -> None:
        self._say(m.NOTIFY.format(text=render.pickup_result(views.pickup_result(event))))

    async def session_resolved(self, event: SessionResolved) -> None:
        self._say(m.NOTIFY_RESOLVED.format(id=event.session_id, by=event.resolved_by, outcome=event.outcome))


def default_user() -> str:
    try:
        return getpass.getuser() or "engineer"
    except Exception:
        return "engineer"


async def open_console(engine: Engine, notifier: ConsoleNotifier, *, account_name: str, user: str,
                       model: str | None) -> Console:
    actor, member, _ = await engine.accounts.sign_in(account_name=account_name, platform="console",
                                                     external_id=user.casefold(), name=user)
    console = Console(engine=engine, actor=actor, member=member, account_name=account_name)
    notifier.console = console
    console.say(m.WELCOME.format(account=account_name, name=member.name, role=member.role))
    console.say(m.ASSISTANT_ON.format(model=model) if engine.deps.assistant.enabled else m.ASSISTANT_OFF)
    pending = len(console.out)
    results = await console.run_turns()
    if results:
        console.out.insert(pending, m.RESUMED.format(n=len(results)))
    await console.run_writebacks()  # writebacks a crash left undelivered
    return console


def _flush(console: Console, stream: TextIO) -> None:
    for line in console.out:
        print(line, file=stream)
    console.out.clear()
    stream.flush()


async def replay(console: Console, lines: Iterable[str], stream: TextIO) -> int:
    """Echo each line as `> line`, then what it printed. Returns the number of failed lines."""
    failed = 0
    _flush(console, stream)
    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        console.say(f"> {redact_text(line)}")  # a transcript is shared like a log: no secrets (R14)
        if not await console.handle(line):
            failed += 1
        _flush(console, stream)
        if console.wants_quit:
            break
    return failed


def data_dir_from_env() -> Path:
    """The data directory when the caller names none: the SQLite file's folder (RF_SQLITE_PATH,
    default data/resolutionflow.db, as bot/settings.py has it)."""
    return Path(os.environ.get("RF_SQLITE_PATH") or "data/resolutionflow.db").parent


async def interactive(console: Console, stream: TextIO | None = None, *, data_dir: Path | None = None) -> None:
    """On a terminal the turns run in the background (type on, Ctrl-C stops a turn); piped input
    answers each line before reading the next, for a transcript that is the same every run.

    With a terminal on both ends the lines come from the line editor (history in `data_dir`,
    completion, colour unless NO_COLOR); otherwise (or on a dumb terminal, which edits lines
    itself) they are read as plain lines, printed plainly."""
    stream = stream or sys.stdout
    terminal = sys.stdin.isatty()
    console.background = terminal
    if terminal and stream.isatty() and os.environ.get("TERM", "").lower() not in ("dumb", "unknown"):
        await _edited(console, stream, data_dir or data_dir_from_env())
        return
    await Live(console, stream, StdinLines(sys.stdin.fileno()), terminal=terminal).run()


async def _edited(console: Console, stream: TextIO, data_dir: Path) -> None:
    from prompt_toolkit.patch_stdout import patch_stdout  # only a terminal loads the editor

    from adapters.console.completion import ConsoleCompleter
    from adapters.console.line_editor import LineEditor, TerminalWriter, colour_wanted, history_path, open_history

    history, trouble = open_history(history_path(data_dir, console.member.name))
    if trouble:
        console.say(trouble)
    colour = colour_wanted(stream)
    editor = LineEditor(history=history, completer=ConsoleCompleter(console), colour=colour)
    writer = TerminalWriter(editor, stream, colour=colour)
    with patch_stdout():  # a stray print (a library's warning) goes above the prompt too
        try:
            await Live(console, writer, editor, terminal=True).run()
        finally:
            writer.flush()
