"""What a claimed batch of turns carries (R37): its turns, the assistant's view of the session up to
the newest message (a chunk-aligned history window, so the prompt cache keeps hitting, R32, with the
steps just before it for a digest of older turns), the engineers' words, and a reply an earlier
claim stored but did not deliver. Every fact and open lane item goes into the view: the prompt
(core/assistant/prompts.py) decides how much of it fits its token budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.assistant.budget import DIGEST_LOOKBACK
from core.assistant.types import AssistantContext, FactEntry, HistoryEntry, LaneEntry
from core.deps import Deps
from core.models import ItemKind, ItemStatus, PendingTurn, Session, Step, StepKind, TurnStatus
from core.ports import UnitOfWork
from core.previews import fix_entry


@dataclass(frozen=True, kw_only=True)
class Batch:
    """The open turns of one session, claimed together: one call answers all their messages."""

    turns: tuple[PendingTurn, ...]
    context: AssistantContext
    session: Session
    author_id: int | None
    owner: str  # this claim's lease owner: unique per claim, so a worker never mistakes an old claim for it
    stored_reply: Step | None = None  # answered and stored by a worker that died before telling anyone

    @property
    def first(self) -> PendingTurn:
        return self.turns[0]

    @property
    def last(self) -> PendingTurn:
        return self.turns[-1]

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(t.id or 0 for t in self.turns)


HISTORY_CHUNK = 20


def window_start(total: int, window: int) -> int:
    """Where the history the assistant sees begins: the last `window`-or-so steps, starting on a
    multiple of HISTORY_CHUNK, so the start stays put for many turns and the prompt-cache prefix
    keeps hitting (R32)."""
    return -(-max(0, total - window) // HISTORY_CHUNK) * HISTORY_CHUNK


@dataclass(frozen=True)
class HistoryRead:
    """The windowed history up to a turn's message, and what came before it: the last
    DIGEST_LOOKBACK of those steps (for the digest of older turns) and how many there are in all."""

    window: list[Step]
    earlier: list[Step]
    earlier_count: int


async def read_history(uow: UnitOfWork, turn: PendingTurn, window: int) -> HistoryRead:
    """One read in the common case; only a long session also needs its step count to place the
    chunk-aligned start. The steps before the start change only when the start moves, so their
    digest keeps the cached prefix stable too (R32)."""
    fetch = window + HISTORY_CHUNK + DIGEST_LOOKBACK
    newest = await uow.steps.list(account_id=turn.account_id, session_id=turn.session_id, limit=fetch)
    steps = [s for s in newest if (s.id or 0) <= turn.step_id]
    total = len(steps)
    if len(newest) == fetch:  # maybe more before these: ask how many there are
        total = await uow.steps.count(account_id=turn.account_id, session_id=turn.session_id, up_to_id=turn.step_id)
    start = window_start(total, window)
    keep = total - start
    split = len(steps) - keep
    return HistoryRead(window=steps[split:], earlier=steps[max(0, split - DIGEST_LOOKBACK) : split], earlier_count=start)


async def history_window(uow: UnitOfWork, turn: PendingTurn, window: int) -> list[Step]:
    """The windowed history up to the turn's message (see `read_history`)."""
    return (await read_history(uow, turn, window)).window


@dataclass(frozen=True)
class TurnContext:
    """What a claim reads once: the assistant's view, the session, and who wrote the turn's message."""

    context: AssistantContext
    session: Session
    author_id: int | None


async def build_context(uow: UnitOfWork, deps: Deps, turn: PendingTurn) -> TurnContext:
    """The session as the assistant sees it, up to and including the turn's own message."""
    account_id, session_id = turn.account_id, turn.session_id
    session = await uow.sessions.get(account_id=account_id, session_id=session_id)
    assert session is not None
    read = await read_history(uow, turn, deps.settings.history_window)
    steps = read.window
    names = {m.id: m.name for m in await uow.members.list(account_id=account_id, active_only=False)}
    roles: dict[StepKind, Literal["engineer", "assistant", "action"]] = {
        StepKind.ENGINEER_MESSAGE: "engineer", StepKind.ASSISTANT_REPLY: "assistant", StepKind.ACTION: "action"}

    def entries(some: list[Step]) -> tuple[HistoryEntry, ...]:
        return tuple(HistoryEntry(role=roles[StepKind(s.kind)], author=names.get(s.author_id, "assistant"), text=s.text)
                     for s in some)
    active = await uow.fixes.active(account_id=account_id, session_id=session_id)
    facts = await uow.facts.list(account_id=account_id, session_id=session_id)
    items = await uow.items.list(account_id=account_id, session_id=session_id)
    context = AssistantContext(
        session_id=session_id, session_title=session.title, ticket=session.ticket_ref,
        facts=tuple(FactEntry(label=f.label, text=f.text, source=str(f.source)) for f in facts),
        lane=tuple(LaneEntry(label=i.label, kind="question" if i.kind == ItemKind.QUESTION else "check", text=i.text,
                             status="promoted" if i.status == ItemStatus.PROMOTED else "open")
                   for i in items if i.kind != ItemKind.FACT and i.status in (ItemStatus.OPEN, ItemStatus.PROMOTED)),
        active_fix=fix_entry(active) if active else None,
        history=entries(steps), earlier=entries(read.earlier), earlier_count=read.earlier_count,
    )
    own = next((s for s in reversed(steps) if s.id == turn.step_id), None)
    if own is None:  # outside a zero-length window: read it
        own = await uow.steps.get(account_id=account_id, step_id=turn.step_id)
    return TurnContext(context, session, own.author_id if own is not None else None)


REPLY_LOOKBACK = 50  # steps searched for a reply a dead worker stored but did not deliver


async def claim_batch(uow: UnitOfWork, deps: Deps, turns: list[PendingTurn], owner: str) -> Batch:
    """The claimed turns with what the assistant sees: the history up to the newest message, and
    the reply already stored for them, if a worker died between storing and delivering it."""
    read = await build_context(uow, deps, turns[-1])
    stored = await stored_reply(uow, turns) if any(t.attempts > 1 for t in turns) else None
    if stored is not None:  # that reply answers only its own turns: newer ones go back to wait for the next call
        covered = set(stored.data.get("answers") or ())
        later = [t.id or 0 for t in turns if t.id not in covered]
        if later:
            await uow.turns.finish_batch(turn_ids=later, worker_id=owner, status=TurnStatus.PENDING,
                                         now=deps.clock.now())
        turns = [t for t in turns if t.id in covered]
    return Batch(turns=tuple(turns), context=read.context, session=read.session,
                 author_id=read.author_id, owner=owner, stored_reply=stored)


async def stored_reply(uow: UnitOfWork, turns: list[PendingTurn]) -> Step | None:
    """A reply an earlier claim stored for some of these turns and did not deliver. Only a turn
    claimed before (attempts > 1) can have one: a first claim skips this read."""
    first = turns[0]
    recent = await uow.steps.list(account_id=first.account_id, session_id=first.session_id, limit=REPLY_LOOKBACK)
    ids = {t.id for t in turns}
    return next((s for s in recent if s.kind == StepKind.ASSISTANT_REPLY and ids & set(s.data.get("answers") or ())),
                None)
