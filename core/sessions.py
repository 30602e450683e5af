"""Sessions: start, chat turns, park, listing and the full view every surface renders."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from core.access import Actor, load_member, load_session, require_can_change, require_worker
from core.deps import Deps
from core.errors import InvalidInput
from core.events import MessagePosted, TurnQueued
from core.machines import (
    SessionEvent,
    WritebackEvent,
    message_event,
    next_session_status,
    session_sources,
    writeback_allows,
)
from core.models import (
    Fact,
    Fix,
    Handoff,
    HandoffIntent,
    Member,
    PendingTurn,
    Session,
    SessionStatus,
    Step,
    StepKind,
    TaskItem,
)
from core.notify import publish, record
from core.ports import UnitOfWork
from core.psa import parse_ticket_ref
from core.redaction import redact

log = logging.getLogger("rflow.sessions")

MAX_MESSAGE_CHARS = 20_000
MAX_TITLE_CHARS = 200


@dataclass(frozen=True, kw_only=True)
class SessionView:
    """Everything a task lane shows, read in one transaction."""

    session: Session
    handler: Member | None
    facts: list[Fact]
    items: list[TaskItem]
    active_fix: Fix | None
    escalation: Handoff | None
    writeback_failed: bool = False  # a writeback of this session can be retried (R20)


@dataclass(frozen=True, kw_only=True)
class PostedMessage:
    session: Session
    step: Step
    turn_id: int | None
    redacted: int
    resumed: bool
    ticket_suggestion: int | None = None


async def change_status(uow: UnitOfWork, deps: Deps, session: Session, event: SessionEvent, **values: object) -> None:
    """One conditional UPDATE through the transition table; a lost race reads as the clear refusal."""
    new = next_session_status(session.status, event)
    ok = await uow.sessions.compare_and_set_status(
        account_id=session.account_id, session_id=session.id or 0, expected=session_sources(event),
        new=new, now=deps.clock.now(), values=dict(values) or None,
    )
    if not ok:
        fresh = await uow.sessions.get(account_id=session.account_id, session_id=session.id or 0)
        next_session_status(fresh.status if fresh else session.status, event)  # raises the refusal
        raise InvalidInput("The session changed meanwhile; try again.", reason="session.changed",
                           params={"session_id": session.id})
    session.status = new


async def record_action(uow: UnitOfWork, deps: Deps, session: Session, author_id: int | None, text: str, **data: object) -> Step:
    assert session.id is not None
    return await uow.steps.add(
        Step(account_id=session.account_id, session_id=session.id, kind=StepKind.ACTION, text=text,
             created_at=deps.clock.now(), author_id=author_id, data=dict(data))
    )


async def bump(uow: UnitOfWork, session: Session) -> int:
    """R1: every change that alters what a note would say bumps state_version in its transaction."""
    session.state_version = await uow.sessions.bump_state_version(account_id=session.account_id, session_id=session.id or 0)
    return session.state_version


class SessionService:
    def __init__(self, deps: Deps, on_turn_queued: Callable[[], None] = lambda: None) -> None:
        self.deps = deps
        self.on_turn_queued = on_turn_queued  # wakes the server's turn worker at once

    async def start(
        self, *, actor: Actor, problem: str, surface: str = "console", thread_ref: str | None = None
    ) -> PostedMessage:
        """A new session whose first engineer message is the problem; the assistant answers it."""
        problem = problem.strip()
        if not problem:
            raise InvalidInput("Describe the problem to start a session.", reason="session.problem_missing")
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            require_worker(member)
            now = self.deps.clock.now()
            title = redact(problem.splitlines()[0]).text[:MAX_TITLE_CHARS]
            session = await uow.sessions.add(
                Session(account_id=actor.account_id, title=title, status=SessionStatus.ACTIVE,
                        created_by=member.id or 0, handler_id=member.id or 0, created_at=now,
                        updated_at=now, surface=surface, thread_ref=thread_ref)
            )
            posted = await self._add_message(uow, session, member, problem, resumed=False)
            await self._queued(uow, posted, member)
            await uow.commit()
        await self._published(uow, posted)
        log.info("session started", extra={"session_id": session.id})
        # A ticket mentioned in the first message is offered as a link, never linked silently.
        return replace(posted, ticket_suggestion=parse_ticket_ref(problem))

    async def post_message(self, *, actor: Actor, session_id: int, text: str, via: str = "console") -> PostedMessage:
        """The engineer's words are committed (with a pending assistant turn) before anything slow;
        then the other surfaces showing the session hear them (MessagePosted)."""
        if not text.strip():
            raise InvalidInput("An empty message has nothing to say.", reason="message.empty")
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            await require_can_change(uow, member, session)
            event = message_event(session.status)  # a parked session resumes
            resumed = event is not None
            if event is not None:
                await change_status(uow, self.deps, session, event)
            posted = await self._add_message(uow, session, member, text, resumed=resumed)
            await self._queued(uow, posted, member)
            await record(uow, self.deps, MessagePosted(
                account_id=actor.account_id, session_id=session_id, author=member.name, text=posted.step.text,
                via=via, thread_ref=session.thread_ref, surface=session.surface))
            await uow.commit()
        await self._published(uow, posted)
        return posted

    async def _queued(self, uow: UnitOfWork, posted: PostedMessage, member: Member) -> None:
        """Every surface shows at once that the assistant is on it (R37): the first event out."""
        if posted.turn_id is None:
            return
        session = posted.session
        await record(uow, self.deps, TurnQueued(account_id=session.account_id, session_id=session.id or 0,
                                                author_id=member.id or 0, thread_ref=session.thread_ref,
                                                surface=session.surface))

    async def _published(self, uow: UnitOfWork, posted: PostedMessage) -> None:
        if posted.turn_id is not None:
            self.on_turn_queued()  # wake the scheduler
        await publish(self.deps, uow)

    async def _add_message(self, uow: UnitOfWork, session: Session, member: Member, text: str, *, resumed: bool) -> PostedMessage:
        if len(text) > MAX_MESSAGE_CHARS:
            raise InvalidInput(f"That message is too long ({len(text)} characters; at most {MAX_MESSAGE_CHARS}).",
                               reason="message.too_long", params={"length": len(text), "max": MAX_MESSAGE_CHARS})
        clean = redact(text)
        now = self.deps.clock.now()
        step = await uow.steps.add(
            Step(account_id=session.account_id, session_id=session.id or 0, kind=StepKind.ENGINEER_MESSAGE,
                 text=clean.text, created_at=now, author_id=member.id, data={"redacted": clean.count} if clean.count else {})
        )
        turn_id = None
        if self.deps.assistant.enabled:
            turn = await uow.turns.add(
                PendingTurn(account_id=session.account_id, session_id=session.id or 0, step_id=step.id or 0, created_at=now)
            )
            turn_id = turn.id
        session.updated_at = now
        return PostedMessage(session=session, step=step, turn_id=turn_id, redacted=clean.count, resumed=resumed)

    async def park(self, *, actor: Actor, session_id: int, reason: str = "") -> Session:
        """Park: set aside for later. Recorded as a handoff of intent park; nobody is notified (R22)."""
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            await require_can_change(uow, member, session)
            await change_status(uow, self.deps, session, SessionEvent.PARK)
            await uow.handoffs.add(
                Handoff(account_id=actor.account_id, session_id=session_id, intent=HandoffIntent.PARK,
                        reason=reason.strip()[:500] or "parked", created_by=member.id or 0, created_at=self.deps.clock.now())
            )
            await record_action(uow, self.deps, session, member.id, f"{member.name} parked the session.")
            await uow.commit()
        return session

    async def view(self, *, actor: Actor, session_id: int) -> SessionView:
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
            return await read_view(uow, actor, session_id)

    async def view_for_surface(self, *, account_id: int, session_id: int) -> SessionView:
        """The lane as a surface re-renders it after one of the engine's own events. Only for those
        trusted callers (notifiers): no requesting member is checked, the account still scopes."""
        async with self.deps.uow_factory() as uow:
            return await read_view(uow, Actor(account_id=account_id, member_id=0), session_id)

    async def find_by_thread(self, *, actor: Actor, thread_ref: str) -> Session | None:
        """The session living in a chat thread (Slack thread, Teams reply chain), if any."""
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
            return await uow.sessions.find_by_thread(account_id=actor.account_id, thread_ref=thread_ref)

    async def list(
        self, *, actor: Actor, statuses: list[SessionStatus] | None = None, mine: bool = False
    ) -> list[Session]:
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            return await uow.sessions.list(
                account_id=actor.account_id, statuses=statuses, handler_id=member.id if mine else None
            )

    # `builtins.list`: inside this class body the name `list` is the method above.
    async def history(self, *, actor: Actor, session_id: int, limit: int | None = None) -> builtins.list[Step]:
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
            await load_session(uow, actor, session_id)
            return await uow.steps.list(account_id=actor.account_id, session_id=session_id, limit=limit)


async def read_view(uow: UnitOfWork, actor: Actor, session_id: int) -> SessionView:
    session = await load_session(uow, actor, session_id)
    account_id = actor.account_id
    escalation = await uow.handoffs.latest_for_session(
        account_id=account_id, session_id=session_id, intent=HandoffIntent.ESCALATE
    )
    return SessionView(
        session=session,
        handler=await uow.members.get(account_id=account_id, member_id=session.handler_id),
        facts=await uow.facts.list(account_id=account_id, session_id=session_id),
        items=await uow.items.list(account_id=account_id, session_id=session_id),
        active_fix=await uow.fixes.active(account_id=account_id, session_id=session_id),
        escalation=escalation,
        writeback_failed=any(
            writeback_allows(w.status, WritebackEvent.RETRY)
            for w in await uow.writebacks.list(account_id=account_id, session_id=session_id)),
    )

