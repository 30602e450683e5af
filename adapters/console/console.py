"""The console: one line in, printed lines out. Here the session and member commands; the action
commands are in console/actions.py, the account-level ones in console/closing.py."""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from adapters.console import messages as m
from adapters.console import render
from adapters.console.answers import Added, Known, added, known_of
from adapters.console.wording import error_text
from core.access import Actor
from core.accounts import parse_role
from core.cards import lane_card
from core.engine import Engine
from core.errors import DomainError, InvalidInput
from core.events import TurnAnswered
from core.log_context import bind
from core.models import Fix, ItemKind, Member, TaskItem
from core.sessions import MAX_MESSAGE_CHARS, PostedMessage
from core.turns import TurnResult

log = logging.getLogger("rflow.console")

Handler = Callable[["Console", str], Awaitable[None]]
COMMANDS: dict[str, tuple[Handler, str]] = {}

MAX_ID = 2**31 - 1  # every id the database keeps (sessions, members, boards, PSA members) is a 32-bit INTEGER
MAX_LINE_CHARS = MAX_MESSAGE_CHARS  # the most any input takes: a chat message (every form field takes less)
# A member's name: its console identity is the casefolded name, at most three times as long ("ﬃ" is
# "ffi"), and both columns hold 255 characters (members.name, member_identities.external_id).
MAX_NAME_CHARS = 80
SHOWN_COMMAND_CHARS = 40  # an unknown command is named back at most this long
_ID = re.compile(r"#?([0-9]+)")
_NOT_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_COMMAND = re.compile(r"/(\S*)\s*(.*)", re.DOTALL)


def command(name: str, usage: str = "") -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = (fn, usage or f"/{name}")
        return fn
    return register


class Screen(Protocol):
    """The live terminal: shows lines that arrive between commands (replies of background turns)."""

    def show(self, lines: Sequence[str]) -> None: ...


@dataclass(frozen=True)
class NeutralScreen:
    """A screen that is shown only neutralised lines (render.neutral), whoever calls it."""

    screen: Screen

    def show(self, lines: Sequence[str]) -> None:
        self.screen.show([render.neutral(line) for line in lines])


def _check_line(line: str) -> None:
    """Refuse a line holding a character that is not text to store: NUL (PostgreSQL refuses it),
    the other controls (an arrow key's escape sequence, a backspace), a lone surrogate. Tabs and
    newlines (a pasted paragraph) are text."""
    found = _NOT_TEXT.search(line)
    if found is not None:
        raise InvalidInput(m.CONTROL_CHARACTER.format(char=render.picture(found.group()), position=found.start() + 1))


def _split_command(line: str) -> tuple[str, str]:
    """`/name rest`: the name up to the first space, tab or newline, the rest stripped."""
    match = _COMMAND.fullmatch(line)
    assert match is not None  # the line starts with a slash
    return match.group(1), match.group(2).strip()


def _clip(text: str) -> str:
    """Typed words named back in a refusal, shortened when long (the refusal is one line)."""
    return text if len(text) <= SHOWN_COMMAND_CHARS else text[:SHOWN_COMMAND_CHARS] + "…"


@dataclass
class Console:
    engine: Engine
    actor: Actor
    member: Member
    account_name: str
    current: int | None = None
    out: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    wants_quit: bool = False
    told_assistant_off: bool = False
    background: bool = False  # the live console: a scheduler runs the turns, replies come as events
    screen: Screen | None = None
    known: dict[int, Known] = field(default_factory=dict)  # by session: the lane before its turn

    def __setattr__(self, name: str, value: object) -> None:
        """The live terminal is shown neutralised text too: whatever is set as `screen` is wrapped."""
        if name == "screen" and value is not None and not isinstance(value, NeutralScreen):
            value = NeutralScreen(value)  # type: ignore[arg-type]
        super().__setattr__(name, value)

    def say(self, *lines: str) -> None:
        """The one way out to the terminal: control characters and escape sequences in anything
        shown (other people's words, the assistant's, the PSA's) arrive as visible stand-ins."""
        self.out.extend(render.neutral(line) for line in lines)

    async def handle(self, line: str) -> bool:
        """Run one line; False when it failed (and then nothing changed). Every refusal, of the
        line itself or by the engine, is one `✗ …` line; nothing here raises on what is typed."""
        line = line.replace("\r\n", "\n").replace("\r", "\n").strip()
        if not line or line.startswith("#"):
            return True
        with bind(session_id=self.current, account_id=self.actor.account_id):
            try:
                _check_line(line)
                if line.startswith("/"):
                    name, rest = _split_command(line)
                    entry = COMMANDS.get(name.lower())
                    if entry is None:
                        raise InvalidInput(m.BARE_SLASH if not name else m.UNKNOWN_COMMAND.format(command="/" + _clip(name)))
                    if len(rest) > MAX_LINE_CHARS:
                        raise InvalidInput(m.LINE_TOO_LONG.format(length=len(rest), max=MAX_LINE_CHARS, usage=entry[1]))
                    await entry[0](self, rest)
                else:
                    if len(line) > MAX_LINE_CHARS:
                        raise InvalidInput(m.MESSAGE_TOO_LONG.format(length=len(line), max=MAX_LINE_CHARS))
                    await self.chat(line)
                return True
            except DomainError as exc:
                self.say(m.ERROR.format(message=error_text(exc)))
                return False
            except Exception as exc:  # a fault of ours (or a database gone away), not of the line: said, logged
                log.exception("the console line failed")
                self.say(m.ERROR.format(message=m.INTERNAL_ERROR.format(kind=type(exc).__name__)))
                return False
            finally:
                await self.run_writebacks()  # deliveries whose retry time has come
                self.say(*self.notices)  # what the action told others comes after its own words
                self.notices.clear()

    def session_id(self) -> int:
        if self.current is None:
            raise InvalidInput(m.NO_SESSION)
        return self.current

    async def chat(self, text: str) -> None:
        if self.background and self.session_id() not in self.known:
            await self.remember(self.session_id())
        posted = await self.engine.sessions.post_message(actor=self.actor, session_id=self.session_id(), text=text)
        self._after_post(posted)
        await self.run_turns()

    def _after_post(self, posted: PostedMessage) -> None:
        if posted.ticket_suggestion:
            self.say(m.LINK_SUGGESTION.format(id=posted.ticket_suggestion))
        if posted.resumed:
            self.say(m.RESUMED_SESSION)
        if posted.redacted:
            self.say(m.MESSAGE_KEPT.format(n=posted.redacted))
        if posted.turn_id is None and not self.told_assistant_off:
            self.told_assistant_off = True
            self.say(m.THINKING_SKIPPED)

    async def remember(self, session_id: int) -> None:
        view = await self.engine.sessions.view_for_surface(account_id=self.actor.account_id, session_id=session_id)
        self.known[session_id] = known_of(view)

    async def run_turns(self) -> list[TurnResult]:
        """Replays and piped input answer each line before the next (a deterministic transcript);
        the live console leaves the turns to its scheduler."""
        if self.background:
            return []
        results = await self.engine.turns.drain()
        for result in results:
            self.show_turn(result)
        return results

    async def run_writebacks(self) -> None:
        for result in await self.engine.writebacks.drain():
            prefix = "" if result.session_id == self.current else f"[#{result.session_id}] "
            template = m.WRITEBACK_RETRYING if result.retrying else (
                m.WRITEBACK_DONE if result.outcome in ("resolved", "escalated") else m.WRITEBACK_FAILED)
            self.say(prefix + template.format(message=result.message))

    def show_turn(self, r: TurnResult) -> None:
        self.say(*self.answer_lines(r.session_id, reply=r.reply.text if r.reply else None, failure=r.failure,
                                    new=Added(items=r.new_items, fix=r.new_fix,
                                              outcome=r.outcome_proposed)))

    async def answered(self, event: TurnAnswered) -> list[str]:
        """The lines for a background turn's answer: the reply, then what it added to the lane."""
        prefix = "" if event.session_id == self.current else f"[#{event.session_id}] "
        if event.cancelled:
            return [prefix + m.TURN_CANCELLED]
        new = Added()
        if event.reply is not None:
            before = self.known.get(event.session_id)
            view = await self.engine.sessions.view_for_surface(account_id=event.account_id, session_id=event.session_id)
            self.known[event.session_id] = known_of(view)
            new = added(before, view) if before is not None else new
        return self.answer_lines(event.session_id, reply=event.reply, failure=event.failure, new=new)

    def answer_lines(self, session_id: int, *, reply: str | None, failure: str | None, new: Added) -> list[str]:
        prefix = "" if session_id == self.current else f"[#{session_id}] "
        if failure:
            return [prefix + m.ASSISTANT_FAILED.format(reason=failure)]
        if reply is None:
            return []
        return [prefix + m.ASSISTANT_REPLY.format(text=reply), *_added_lines(new.items, new.fix, new.outcome)]

    async def show_lane(self) -> None:
        view = await self.engine.sessions.view(actor=self.actor, session_id=self.session_id())
        self.say(*render.card(lane_card(view)))


def _added_lines(items: list[TaskItem], fix: Fix | None, outcome: str | None) -> list[str]:
    lines = [(m.FACT_PROPOSED if i.kind == ItemKind.FACT else m.LANE_ADDED).format(label=i.label, text=i.text)
             for i in items]
    if fix:
        lines.append(m.FIX_SUGGESTED.format(title=fix.title, confidence=fix.confidence))
    if outcome:
        word = {"worked": "worked", "failed": "didn't work", "partial": "partly worked"}.get(outcome, outcome)
        lines.append(m.OUTCOME_PROPOSED.format(word=word))
    return lines


def _need(rest: str, usage: str) -> str:
    if not rest:
        raise InvalidInput(m.USAGE.format(usage=usage))
    return rest


def _int(text: str, usage: str) -> int:
    """An id as typed (`12`, `#12`): ASCII digits only (`²` is a digit to `str.isdigit`, not to
    `int`), and no larger than the database keeps (a larger one would be refused by the driver)."""
    match = _ID.fullmatch(text.strip())
    if match is None:
        raise InvalidInput(m.USAGE.format(usage=usage))
    digits = match.group(1).lstrip("0") or "0"
    if len(digits) > len(str(MAX_ID)) or int(digits) > MAX_ID:
        raise InvalidInput(m.ID_TOO_LARGE.format(text=_clip(digits), max=MAX_ID, usage=usage))
    return int(digits)


@command("help")
async def _help(c: Console, rest: str) -> None:
    c.say(m.HELP.format_map({name: usage for name, (_, usage) in COMMANDS.items()}))


@command("quit")
async def _quit(c: Console, rest: str) -> None:
    c.wants_quit = True


@command("new", "/new <problem>")
async def _new(c: Console, rest: str) -> None:
    posted = await c.engine.sessions.start(actor=c.actor, problem=_need(rest, "/new <problem>"))
    c.current = posted.session.id
    c.known.setdefault(posted.session.id or 0, Known())  # a new lane: everything on it after the turn is new
    c.say(m.STARTED.format(id=posted.session.id, title=posted.session.title))
    c._after_post(posted)
    await c.run_turns()


@command("sessions")
async def _sessions(c: Console, rest: str) -> None:
    items = await c.engine.sessions.list(actor=c.actor)
    names = render.member_names(await c.engine.accounts.members(actor=c.actor))
    c.say(*render.sessions(items, names, c.current))


@command("open", "/open <id>")
async def _open(c: Console, rest: str) -> None:
    view = await c.engine.sessions.view(actor=c.actor, session_id=_int(rest, "/open <id>"))
    c.current = view.session.id
    c.say(m.OPENED.format(id=view.session.id, title=view.session.title, status=view.session.status))


@command("as", "/as <name> [role]")
async def _as(c: Console, rest: str) -> None:
    usage = "/as <name> [role]"
    try:
        parts = shlex.split(_need(rest, usage))
    except ValueError:  # an unbalanced quote, a trailing backslash
        raise InvalidInput(m.AS_QUOTES.format(usage=usage)) from None
    if not 1 <= len(parts) <= 2 or not parts[0].split():
        raise InvalidInput(m.AS_USAGE.format(usage=usage))
    name = " ".join(parts[0].split())  # a name is one line: tabs and newlines in quotes read as spaces
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(m.FORM_TOO_LONG.format(token="name", length=len(name), max=MAX_NAME_CHARS, usage=usage))
    role = parse_role(parts[1]) if len(parts) > 1 else None
    actor, member, created = await c.engine.accounts.sign_in(
        account_name=c.account_name, platform="console", external_id=name.casefold(), name=name, role=role)
    c.actor, c.member = actor, member
    if created:
        c.say(m.ACTING_AS_NEW.format(name=member.name, role=member.role))
    elif role is not None and role != member.role:
        c.say(m.ACTING_AS_EXISTING_ROLE.format(name=member.name, role=member.role))
    else:
        c.say(m.ACTING_AS.format(name=member.name, role=member.role))


@command("lane")
async def _lane(c: Console, rest: str) -> None:
    await c.show_lane()
