"""The console's command handlers: one line in, printed lines out, each line one engine action."""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from adapters.console import messages as m
from adapters.console import render
from adapters.console.answers import Added, Known, added, known_of
from core.access import Actor
from core.accounts import parse_role
from core.cards import lane_card
from core.engine import Engine
from core.errors import DomainError, InvalidInput
from core.events import TurnAnswered
from core.fixes import OUTCOME_WORDS
from core.log_context import bind
from core.models import Fact, Fix, FixStatus, Member, TaskItem
from core.sessions import PostedMessage
from core.turns import TurnResult

Handler = Callable[["Console", str], Awaitable[None]]
COMMANDS: dict[str, tuple[Handler, str]] = {}


def command(name: str, usage: str = "") -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = (fn, usage or f"/{name}")
        return fn
    return register


class Screen(Protocol):
    """The live terminal: shows lines that arrive between commands (replies of background turns)."""

    def show(self, lines: Sequence[str]) -> None: ...


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

    def say(self, *lines: str) -> None:
        self.out.extend(lines)

    async def handle(self, line: str) -> bool:
        """Run one line; False when it failed (and then nothing changed)."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        with bind(session_id=self.current, account_id=self.actor.account_id):
            try:
                if line.startswith("/"):
                    name, _, rest = line[1:].partition(" ")
                    entry = COMMANDS.get(name.lower())
                    if entry is None:
                        raise InvalidInput(m.UNKNOWN_COMMAND.format(command="/" + name))
                    await entry[0](self, rest.strip())
                else:
                    await self.chat(line)
                return True
            except DomainError as exc:
                self.say(m.ERROR.format(message=exc.message))
                return False
            finally:
                await self.run_writebacks()  # deliveries whose retry time has come
                self.out.extend(self.notices)  # what the action told others comes after its own words
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
                                    new=Added(items=r.new_items, facts=r.new_facts, fix=r.new_fix,
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
        return [prefix + m.ASSISTANT_REPLY.format(text=reply), *_added_lines(new.items, new.facts, new.fix, new.outcome)]

    async def show_lane(self) -> None:
        view = await self.engine.sessions.view(actor=self.actor, session_id=self.session_id())
        self.say(*render.card(lane_card(view)))


def _added_lines(items: list[TaskItem], facts: list[Fact], fix: Fix | None, outcome: str | None) -> list[str]:
    lines = [m.LANE_ADDED.format(label=i.label, text=i.text) for i in items]
    lines += [m.FACT_PROPOSED.format(label=f.label, text=f.text) for f in facts]
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
    text = text.strip().lstrip("#")
    if not text.isdigit():
        raise InvalidInput(m.USAGE.format(usage=usage))
    return int(text)


@command("help")
async def _help(c: Console, rest: str) -> None:
    c.say(m.HELP)


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
    parts = shlex.split(_need(rest, "/as <name> [role]"))
    role = parse_role(parts[1]) if len(parts) > 1 else None
    actor, member, created = await c.engine.accounts.sign_in(
        account_name=c.account_name, platform="console", external_id=parts[0].casefold(), name=parts[0], role=role)
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


@command("fact", "/fact <text>")
async def _fact(c: Console, rest: str) -> None:
    fact = await c.engine.facts.add_note(actor=c.actor, session_id=c.session_id(), text=_need(rest, "/fact <text>"))
    c.say(m.FACT_ADDED.format(label=fact.label, text=fact.text))


@command("promote", "/promote <Q1|C1> [text]")
async def _promote(c: Console, rest: str) -> None:
    ref, _, text = _need(rest, "/promote <Q1|C1> [text]").partition(" ")
    fact = await c.engine.facts.promote(actor=c.actor, session_id=c.session_id(), item_ref=ref, text=text or None)
    c.say(m.FACT_PROMOTED.format(label=fact.label, text=fact.text))


@command("editfact", "/editfact <n> <text>")
async def _editfact(c: Console, rest: str) -> None:
    ref, _, text = _need(rest, "/editfact <n> <text>").partition(" ")
    fact = await c.engine.facts.edit(actor=c.actor, session_id=c.session_id(), fact_ref=ref,
                                     text=_need(text, "/editfact <n> <text>"))
    c.say(m.FACT_EDITED.format(label=fact.label, text=fact.text))


@command("delfact", "/delfact <n>")
async def _delfact(c: Console, rest: str) -> None:
    fact = await c.engine.facts.delete(actor=c.actor, session_id=c.session_id(), fact_ref=_need(rest, "/delfact <n>"))
    c.say(m.FACT_DELETED.format(label=fact.label))


@command("fix", "/fix <title> [:: description]")
async def _fix(c: Console, rest: str) -> None:
    title, _, description = _need(rest, "/fix <title> [:: description]").partition("::")
    fix = await c.engine.fixes.add_engineer_fix(actor=c.actor, session_id=c.session_id(), title=title, description=description)
    c.say(m.FIX_ADDED.format(title=fix.title))


@command("apply")
async def _apply(c: Console, rest: str) -> None:
    fix = await c.engine.fixes.apply(actor=c.actor, session_id=c.session_id())
    c.say(m.FIX_APPLIED.format(title=fix.title))


async def _outcome(c: Console, outcome: FixStatus, notes: str | None = None) -> None:
    await c.engine.fixes.record_outcome(actor=c.actor, session_id=c.session_id(), outcome=outcome, notes=notes)
    c.say(m.FIX_OUTCOME.format(word=OUTCOME_WORDS[outcome]))


@command("worked")
async def _worked(c: Console, rest: str) -> None:
    await _outcome(c, FixStatus.APPLIED_SUCCESS)


@command("failed", "/failed <reason>")
async def _failed(c: Console, rest: str) -> None:
    await _outcome(c, FixStatus.APPLIED_FAILED, rest or None)


@command("partial", "/partial <notes>")
async def _partial(c: Console, rest: str) -> None:
    await _outcome(c, FixStatus.APPLIED_PARTIAL, _need(rest, "/partial <notes>"))


@command("dismiss")
async def _dismiss(c: Console, rest: str) -> None:
    await _outcome(c, FixStatus.DISMISSED)


@command("confirm")
async def _confirm(c: Console, rest: str) -> None:
    fix = await c.engine.fixes.confirm_proposal(actor=c.actor, session_id=c.session_id())
    c.say(m.FIX_OUTCOME.format(word=OUTCOME_WORDS[FixStatus(fix.status)]))


@command("notyet")
async def _notyet(c: Console, rest: str) -> None:
    await c.engine.fixes.reject_proposal(actor=c.actor, session_id=c.session_id())
    c.say(m.OUTCOME_NOT_YET)
