"""The assistant's turns, run from the durable queue (R16, R33).

The engineer's message and its pending turn were committed together. A worker claims the turn with a
lease, asks the assistant outside any transaction, then — in one transaction that first finishes the
turn conditionally — stores the reply and the validated lane, facts, fix and outcome proposal. A
crash anywhere before that commit leaves the turn claimable again; the conditional finish means a
turn is answered once, even when two workers raced on an expired lease.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Literal

from core.assistant.types import (
    AssistantContext,
    AssistantTurn,
    AssistantUnavailable,
    FactEntry,
    HistoryEntry,
    LaneEntry,
)
from core.deps import Deps
from core.events import TurnAnswered
from core.facts import apply_assistant_facts
from core.fixes import store_outcome_proposal, suggest_from_assistant
from core.lane import merge_proposals
from core.log_context import bind
from core.notify import dispatch
from core.models import (
    Fact,
    Fix,
    ItemKind,
    ItemStatus,
    PendingTurn,
    Session,
    SessionStatus,
    Step,
    StepKind,
    TaskItem,
    TurnStatus,
)
from core.ports import UnitOfWork
from core.worker import drain, run_forever
from core.previews import fix_entry

log = logging.getLogger("rflow.turns")


@dataclass(frozen=True, kw_only=True)
class TurnResult:
    turn_id: int
    session_id: int
    account_id: int
    reply: Step | None = None
    failure: str | None = None
    new_items: list[TaskItem] = field(default_factory=list)
    new_facts: list[Fact] = field(default_factory=list)
    new_fix: Fix | None = None
    outcome_proposed: str | None = None
    duplicate: bool = False


def _blank_result(turn: PendingTurn) -> TurnResult:
    """The turn's ids and nothing else yet; each outcome fills in its part with `replace`."""
    return TurnResult(turn_id=turn.id or 0, session_id=turn.session_id, account_id=turn.account_id)


HISTORY_CHUNK = 20


def window_start(total: int, window: int) -> int:
    """Where the history the assistant sees begins: the last `window`-or-so steps, starting on a
    multiple of HISTORY_CHUNK, so the start stays put for many turns and the prompt-cache prefix
    keeps hitting (R32)."""
    return -(-max(0, total - window) // HISTORY_CHUNK) * HISTORY_CHUNK


async def history_window(uow: UnitOfWork, turn: PendingTurn, window: int) -> list[Step]:
    """The windowed history up to the turn's message. One read in the common case; only a long
    session also needs its step count to place the chunk-aligned start."""
    fetch = window + HISTORY_CHUNK
    newest = await uow.steps.list(account_id=turn.account_id, session_id=turn.session_id, limit=fetch)
    steps = [s for s in newest if (s.id or 0) <= turn.step_id]
    total = len(steps)
    if len(newest) == fetch:  # maybe more before these: ask how many there are
        total = await uow.steps.count(account_id=turn.account_id, session_id=turn.session_id, up_to_id=turn.step_id)
    keep = total - window_start(total, window)
    return steps[-keep:] if keep else []


async def build_context(uow: UnitOfWork, deps: Deps, turn: PendingTurn) -> tuple[AssistantContext, list[str], Session]:
    """The session as the assistant sees it, up to and including the turn's own message."""
    account_id, session_id = turn.account_id, turn.session_id
    session = await uow.sessions.get(account_id=account_id, session_id=session_id)
    assert session is not None
    steps = await history_window(uow, turn, deps.history_window)
    names = {m.id: m.name for m in await uow.members.list(account_id=account_id, active_only=False)}
    roles: dict[StepKind, Literal["engineer", "assistant", "action"]] = {
        StepKind.ENGINEER_MESSAGE: "engineer", StepKind.ASSISTANT_REPLY: "assistant", StepKind.ACTION: "action"}
    history = tuple(
        HistoryEntry(role=roles[StepKind(s.kind)], author=names.get(s.author_id, "assistant"), text=s.text)
        for s in steps
    )
    active = await uow.fixes.active(account_id=account_id, session_id=session_id)
    facts = await uow.facts.list(account_id=account_id, session_id=session_id)
    items = await uow.items.list(account_id=account_id, session_id=session_id)
    context = AssistantContext(
        session_id=session_id, session_title=session.title, ticket=session.ticket_ref,
        facts=tuple(FactEntry(label=f.label, text=f.text, source=str(f.source)) for f in facts),
        lane=tuple(LaneEntry(label=i.label, kind="question" if i.kind == ItemKind.QUESTION else "check", text=i.text,
                             status="promoted" if i.status == ItemStatus.PROMOTED else "open")
                   for i in items),
        active_fix=fix_entry(active) if active else None,
        history=history,
    )
    engineer_texts = [s.text for s in steps if s.kind == StepKind.ENGINEER_MESSAGE]
    return context, engineer_texts, session


class TurnService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.worker_id = f"w-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """A new turn was committed: let a sleeping worker loop look now."""
        self._wake.set()

    async def run_once(self) -> TurnResult | None:
        """Claim the oldest open turn and read its context in one transaction, ask the assistant
        outside any, store the answer in a third; then tell the surfaces."""
        now = self.deps.clock.now()
        async with self.deps.uow_factory() as uow:
            turn = await uow.turns.claim_next(worker_id=self.worker_id, now=now,
                                              lease_until=now + timedelta(seconds=self.deps.turn_lease_seconds))
            if turn is None:
                return None
            context, engineer_texts, session = await build_context(uow, self.deps, turn)
            await uow.commit()
        with bind(session_id=turn.session_id, account_id=turn.account_id):
            result = await self._run(turn, context, engineer_texts)
            if not result.duplicate:
                await dispatch(self.deps, [TurnAnswered(
                    account_id=result.account_id, session_id=result.session_id,
                    reply=result.reply.text if result.reply else None, failure=result.failure,
                    thread_ref=session.thread_ref, surface=session.surface)])
            return result

    async def _run(self, turn: PendingTurn, context: AssistantContext, engineer_texts: list[str]) -> TurnResult:
        try:
            answer = await self.deps.assistant.respond(context)
        except AssistantUnavailable as exc:
            log.warning("assistant unavailable for turn %s: %s", turn.id, exc.reason)
            return await self._fail(turn, exc.reason)
        return await self._store(turn, answer, engineer_texts)

    async def _fail(self, turn: PendingTurn, reason: str) -> TurnResult:
        base = _blank_result(turn)
        async with self.deps.uow_factory() as uow:
            if not await uow.turns.finish(turn_id=turn.id or 0, worker_id=self.worker_id, status=TurnStatus.FAILED,
                                          now=self.deps.clock.now(), error=reason):
                return replace(base, duplicate=True)
            await uow.steps.add(Step(account_id=turn.account_id, session_id=turn.session_id, kind=StepKind.ACTION,
                                     text=f"The assistant could not answer ({reason}); the message is kept.",
                                     created_at=self.deps.clock.now(), data={"assistant_failure": reason}))
            await uow.commit()
        return replace(base, failure=reason)

    async def _store(self, turn: PendingTurn, answer: AssistantTurn, engineer_texts: list[str]) -> TurnResult:
        base = _blank_result(turn)
        now = self.deps.clock.now()
        async with self.deps.uow_factory() as uow:
            if not await uow.turns.finish(turn_id=turn.id or 0, worker_id=self.worker_id, status=TurnStatus.DONE, now=now):
                log.info("turn %s was answered by another worker", turn.id)
                return replace(base, duplicate=True)
            session = await uow.sessions.get(account_id=turn.account_id, session_id=turn.session_id)
            assert session is not None
            reply = await uow.steps.add(Step(account_id=turn.account_id, session_id=turn.session_id,
                                             kind=StepKind.ASSISTANT_REPLY, text=answer.reply, created_at=now,
                                             data={"dropped": list(answer.dropped)} if answer.dropped else {}))
            result = replace(base, reply=reply)
            if session.status in (SessionStatus.ACTIVE, SessionStatus.PARKED):  # closed sessions only hear the reply
                result = replace(
                    result,
                    new_items=await merge_proposals(uow, session=session, questions=answer.questions,
                                                    checks=answer.checks, now=now),
                    new_facts=await apply_assistant_facts(uow, session=session, promotions=answer.facts,
                                                          engineer_texts=engineer_texts, now=now),
                    new_fix=await suggest_from_assistant(uow, session=session, suggestion=answer.fix, now=now)
                    if answer.fix else None,
                    outcome_proposed=answer.outcome.outcome if answer.outcome and await store_outcome_proposal(
                        uow, session=session, proposal=answer.outcome) else None,
                )
            session.updated_at = now
            await uow.commit()
        return result

    async def drain(self, max_turns: int = 100) -> list[TurnResult]:
        return await drain(self.run_once, max_turns)

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 0.5) -> None:
        await run_forever(self.run_once, stop, self._wake, poll_seconds)
