"""Run the console: interactively on a terminal, or replaying a file of lines (tests, demos, support)."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Iterable
from typing import TextIO

import adapters.console.closing  # noqa: F401  (registers the closing commands)
from adapters.console import messages as m
from adapters.console.console import Console
from core.engine import Engine
from core.redaction import redact_text
from core.events import EscalationClaimed, EscalationCreated, SessionResolved


class ConsoleNotifier:
    """The console's escalation channel: events print as lines in the running console."""

    def __init__(self) -> None:
        self.console: Console | None = None

    def _say(self, line: str) -> None:
        if self.console is not None:
            self.console.notices.append(line)

    async def escalation_created(self, event: EscalationCreated) -> None:
        target = f", for {event.target}" if event.target else ""
        self._say(m.NOTIFY_ESCALATION.format(id=event.session_id, title=event.title, reason=event.reason,
                                             by=event.escalated_by, target=target))

    async def escalation_claimed(self, event: EscalationClaimed) -> None:
        self._say(m.NOTIFY_CLAIMED.format(id=event.session_id, by=event.claimed_by, escalator=event.escalated_by))

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


async def interactive(console: Console, stream: TextIO = sys.stdout) -> None:
    _flush(console, stream)
    while not console.wants_quit:
        try:
            line = await asyncio.to_thread(input, "rflow> ")
        except (EOFError, KeyboardInterrupt):
            break
        await console.handle(line)
        _flush(console, stream)
