"""Tab completion for the interactive console (issue 14): command names from the command registry,
and the first word after a command from what it names: sessions (`/open`, `/pickup`), the lane's
labels (`/promote Q1`, `/reject P2`, `/editfact F1`), colleagues (`/as`), tickets (`/link`) and
the literal choices a usage lists (`/preview resolve|escalate`, `/stats 7d|30d|90d`).

The engine is asked only when an argument is completed, and at most once per prompt for each kind
(`new_prompt` forgets the answers), so Tab costs nothing on a chat line and little on a command.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from adapters.console.actions import COMMAND_TABLE
from adapters.console.console import COMMANDS, Console
from core.models import ItemStatus, SessionStatus

log = logging.getLogger("rflow.console")

# A usage's first argument that lists literal words: `[7d|30d|90d]`, `<resolve|escalate>`.
_CHOICES = re.compile(r"^[\[<]([a-z0-9]+(?:\|[a-z0-9]+)+)[\]>]$")


class Kind(StrEnum):
    SESSION = "session"
    ITEM = "item"
    FACT = "fact"
    MEMBER = "member"
    TICKET = "ticket"


@dataclass(frozen=True)
class Candidate:
    text: str
    meta: str = ""


def argument_kinds() -> dict[str, Kind | tuple[str, ...]]:
    """What the first word after each command names, by command name."""
    kinds: dict[str, Kind | tuple[str, ...]] = {"open": Kind.SESSION, "as": Kind.MEMBER, "link": Kind.TICKET}
    for name, (_, usage) in COMMANDS.items():
        words = usage.split()
        if len(words) > 1 and (match := _CHOICES.match(words[1])):
            kinds[name] = tuple(match.group(1).split("|"))
    for cmd in COMMAND_TABLE:
        if cmd.choices:
            kinds[cmd.name] = tuple(cmd.choices)
        elif cmd.session:
            kinds[cmd.name] = Kind.SESSION
        elif cmd.ref == "n":
            kinds[cmd.name] = Kind.FACT
        elif cmd.ref:
            kinds[cmd.name] = Kind.ITEM
    return kinds


class PromptCompleter(Completer):
    """A completer whose answers may be kept for the length of one prompt."""

    def new_prompt(self) -> None:
        """A new prompt begins: forget what was looked up for the last one."""


class ConsoleCompleter(PromptCompleter):
    def __init__(self, console: Console) -> None:
        self.console = console
        self._cache: dict[Kind, list[Candidate]] = {}

    def new_prompt(self) -> None:
        self._cache.clear()

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        """Without the event loop only the command names (prompt_toolkit uses the async method)."""
        text = document.text_before_cursor
        if text.startswith("/") and " " not in text:
            yield from self._commands(text[1:])

    async def get_completions_async(self, document: Document,
                                    complete_event: CompleteEvent) -> AsyncGenerator[Completion, None]:
        text = document.text_before_cursor
        if not text.startswith("/") or "\n" in text:
            return  # a chat line: nothing to complete
        name, space, rest = text[1:].partition(" ")
        if not space:
            for completion in self._commands(name):
                yield completion
            return
        if " " in rest.lstrip():  # only the first word after the command names something
            return
        word = rest.lstrip()
        kind = argument_kinds().get(name.lower())
        if kind is None:
            return
        candidates = [Candidate(choice) for choice in kind] if isinstance(kind, tuple) else await self._candidates(kind)
        for candidate in candidates:
            if candidate.text.casefold().startswith(word.casefold()) or candidate.text.casefold().lstrip("#").startswith(
                    word.casefold().lstrip("#")):
                yield Completion(candidate.text, start_position=-len(word), display_meta=candidate.meta)

    def _commands(self, prefix: str) -> Iterable[Completion]:
        for name, (_, usage) in sorted(COMMANDS.items()):
            if name.startswith(prefix.lower()):
                takes = " " in usage.strip()
                yield Completion(f"/{name}" + (" " if takes else ""), start_position=-len(prefix) - 1,
                                 display=f"/{name}", display_meta=usage)

    async def _candidates(self, kind: Kind) -> list[Candidate]:
        if kind not in self._cache:
            try:
                self._cache[kind] = await LOOKUPS[kind](self.console)
            except Exception:  # completion must never break the prompt; the command itself will say
                log.debug("completing %s failed", kind, exc_info=True)
                self._cache[kind] = []
        return self._cache[kind]


async def _sessions(c: Console) -> list[Candidate]:
    sessions = await c.engine.sessions.list(actor=c.actor)
    order = {SessionStatus.ACTIVE: 0, SessionStatus.ESCALATED: 1, SessionStatus.PARKED: 2, SessionStatus.RESOLVED: 3}
    sessions.sort(key=lambda s: (order.get(s.status, 9), -(s.id or 0)))
    return [Candidate(str(s.id), f"[{s.status}] {s.title}") for s in sessions if s.id is not None]


async def _items(c: Console) -> list[Candidate]:
    if c.current is None:
        return []
    view = await c.engine.sessions.view(actor=c.actor, session_id=c.current)
    return [Candidate(i.label, i.text) for i in view.items if i.status == ItemStatus.OPEN]


async def _facts(c: Console) -> list[Candidate]:
    if c.current is None:
        return []
    view = await c.engine.sessions.view(actor=c.actor, session_id=c.current)
    return [Candidate(f.label, f.text) for f in view.facts]


async def _members(c: Console) -> list[Candidate]:
    members = await c.engine.accounts.members(actor=c.actor)
    return [Candidate(f'"{x.name}"' if " " in x.name else x.name, str(x.role)) for x in members if x.active]


async def _tickets(c: Console) -> list[Candidate]:
    """The tickets this account's sessions are linked to (no PSA call: /link searches by words)."""
    seen: dict[str, str] = {}
    for s in await c.engine.sessions.list(actor=c.actor):
        if s.ticket_ref and s.ticket_ref not in seen:
            seen[s.ticket_ref] = f"session #{s.id}: {s.title}"
    return [Candidate(ref, meta) for ref, meta in seen.items()]


LOOKUPS: dict[Kind, Callable[[Console], Awaitable[list[Candidate]]]] = {
    Kind.SESSION: _sessions, Kind.ITEM: _items, Kind.FACT: _facts, Kind.MEMBER: _members, Kind.TICKET: _tickets,
}
