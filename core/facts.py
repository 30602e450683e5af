"""What we know (R4–R6): notes, promotions from the task lane, assistant proposals, soft deletes."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from core.access import Actor, load_member, load_session, require_can_change
from core.assistant.types import AssistantUnavailable, FactSynthesisRequest, HistoryEntry
from core.deps import Deps
from core.errors import Conflict, InvalidInput, NotFound
from core.lane import find_item
from core.models import Fact, FactSource, ItemKind, ItemStatus, Session, StepKind, TaskItem
from core.ports import UnitOfWork
from core.proposals import MAX_FACT_CHARS, add_proposal
from core.redaction import redact_text
from core.sessions import bump, record_action

log = logging.getLogger("rflow.facts")


def _clean(text: str) -> str:
    text = redact_text(text.strip())
    if not text:
        raise InvalidInput("A fact needs some text.", reason="fact.empty")
    if len(text) > MAX_FACT_CHARS:
        raise InvalidInput(f"A fact is at most {MAX_FACT_CHARS} characters.", reason="fact.too_long",
                           params={"length": len(text), "max": MAX_FACT_CHARS})
    return text


async def find_fact(uow: UnitOfWork, *, session: Session, ref: str | int) -> Fact:
    """By database id (buttons) or by label 'F2' / '2' (console). Deleted facts are not found."""
    facts = await uow.facts.list(account_id=session.account_id, session_id=session.id or 0)
    if isinstance(ref, int):
        found = next((f for f in facts if f.id == ref), None)
    else:
        match = re.fullmatch(r"\s*[Ff]?(\d{1,6})\s*", ref)
        found = next((f for f in facts if match and f.seq == int(match.group(1))), None)
    if found is None:
        raise NotFound(f"There is no fact {ref} in this session.", reason="fact.not_found", params={"ref": ref})
    return found


async def _add(uow: UnitOfWork, session: Session, *, text: str, source: FactSource, now: datetime,
               author_id: int | None, source_ref: int | None = None) -> Fact:
    seq = await uow.facts.allocate_seq(account_id=session.account_id, session_id=session.id or 0)
    fact = await uow.facts.add(
        Fact(account_id=session.account_id, session_id=session.id or 0, seq=seq, text=text, source=source,
             created_at=now, created_by=author_id, source_ref=source_ref)
    )
    await bump(uow, session)
    return fact


class FactService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def add_note(self, *, actor: Actor, session_id: int, text: str) -> Fact:
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            await require_can_change(uow, member, session)
            fact = await _add(uow, session, text=_clean(text), source=FactSource.NOTE, now=self.deps.clock.now(), author_id=member.id)
            await record_action(uow, self.deps, session, member.id, f"{member.name} added {fact.label}: {fact.text}")
            await uow.commit()
        return fact

    async def promote(self, *, actor: Actor, session_id: int, item_ref: str | int,
                      text: str | None = None) -> Fact | TaskItem:
        """Confirm a lane item into a fact (R4, R6): a question or check in the engineer's words; a
        proposed fact as written or reworded. A question or check confirmed without words gets
        its answer synthesized, which comes back as a proposal for the engineer to confirm."""
        own_words = text is not None and bool(text.strip())
        synthesized = None if own_words else await self._synthesize(actor, session_id, item_ref)
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            await require_can_change(uow, member, session)
            item = await self._open_item(uow, session, item_ref)
            now = self.deps.clock.now()
            if synthesized is not None and item.kind != ItemKind.FACT:
                waiting = await self._waiting_answers(uow, session, item)
                if waiting:  # asked again (a second click, a stale lane): the same proposal
                    return waiting[0]
                proposal = await add_proposal(uow, session, text=_clean(synthesized), now=now, answers=item)
                await uow.commit()
                return proposal
            answered = item if item.kind != ItemKind.FACT else await self._answered_by(uow, item)
            source = FactSource.ASSISTANT if answered is None else (
                FactSource.QUESTION if answered.kind == ItemKind.QUESTION else FactSource.CHECK)
            fact = await _add(uow, session, text=_clean(text if own_words and text else item.text), source=source,
                              now=now, author_id=member.id, source_ref=answered.id if answered else None)
            item.status = ItemStatus.PROMOTED
            if answered is not None:
                answered.status = ItemStatus.PROMOTED
            for other in await self._waiting_answers(uow, session, answered or item):
                other.status = ItemStatus.RETIRED  # the item is answered: nothing left for them to answer
            await record_action(uow, self.deps, session, member.id, f"{member.name} confirmed {item.label} as {fact.label}: {fact.text}")
            await uow.commit()
        return fact

    async def dismiss(self, *, actor: Actor, session_id: int, item_ref: str | int) -> TaskItem:
        """A member turns a lane item down (a proposed fact, a question that does not apply): it
        leaves the lane and nothing else changes."""
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            await require_can_change(uow, member, session)
            item = await self._open_item(uow, session, item_ref)
            item.status = ItemStatus.DISMISSED
            await record_action(uow, self.deps, session, member.id, f"{member.name} dismissed {item.label}.")
            await uow.commit()
        return item

    async def _answered_by(self, uow: UnitOfWork, proposal: TaskItem) -> TaskItem | None:
        """The open question or check a proposed fact answers, if it still is open."""
        if proposal.source_ref is None:
            return None
        item = await uow.items.get(account_id=proposal.account_id, item_id=proposal.source_ref)
        ok = item is not None and item.session_id == proposal.session_id and item.status == ItemStatus.OPEN
        return item if ok else None

    async def _waiting_answers(self, uow: UnitOfWork, session: Session, item: TaskItem) -> list[TaskItem]:
        """The proposals answering this question or check that still wait for a member."""
        return [other for other in await uow.items.list(account_id=session.account_id, session_id=session.id or 0)
                if other.kind == ItemKind.FACT and other.status == ItemStatus.OPEN and other.source_ref == item.id]

    async def _open_item(self, uow: UnitOfWork, session: Session, item_ref: str | int) -> TaskItem:
        item = await find_item(uow, session=session, ref=item_ref)
        if item is None:
            raise NotFound(f"There is no question or check {item_ref} in this session.", reason="item.not_found",
                           params={"ref": item_ref})
        if item.status == ItemStatus.PROMOTED:
            raise Conflict(f"{item.label} is already confirmed as a fact.", reason="item.already_confirmed",
                           params={"label": item.label})
        if item.status == ItemStatus.DISMISSED:
            raise Conflict(f"{item.label} was dismissed.", reason="item.dismissed", params={"label": item.label})
        return item

    async def _synthesize(self, actor: Actor, session_id: int, item_ref: str | int) -> str | None:
        """The fast model's answer to a question or check (R4), from the recent conversation with
        each speaker named, so it can tell what the engineer said from what the assistant guessed.
        None for a proposed fact: its text is the answer already."""
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            item = await self._open_item(uow, session, item_ref)
            if item.kind == ItemKind.FACT:
                return None
            waiting = await self._waiting_answers(uow, session, item)
            if waiting:
                return waiting[0].text
            steps = await uow.steps.list(account_id=actor.account_id, session_id=session_id, limit=20)
            names = {m.id: m.name for m in await uow.members.list(account_id=actor.account_id, active_only=False)}
        history = tuple(
            HistoryEntry(role="engineer", author=names.get(s.author_id, "engineer"), text=s.text)
            if s.kind == StepKind.ENGINEER_MESSAGE else HistoryEntry(role="assistant", author="assistant", text=s.text)
            for s in steps if s.kind != StepKind.ACTION
        )
        request = FactSynthesisRequest(item_kind="question" if item.kind == ItemKind.QUESTION else "check",
                                       item_text=item.text, recent_history=history)
        try:
            fact = await self.deps.assistant.synthesize_fact(request)
        except AssistantUnavailable as exc:
            raise InvalidInput(f"Can't write the fact for you: {exc.reason}. Give the fact's words yourself.",
                               reason="fact.synthesis_unavailable",
                               params={"label": item.label, "item_id": item.id, "why": exc.reason}) from None
        if not fact or not fact.strip():
            raise InvalidInput(f"Nothing in the conversation confirms {item.label} yet. Give the fact's words yourself.",
                               reason="fact.nothing_confirms", params={"label": item.label, "item_id": item.id})
        return fact

    async def edit(self, *, actor: Actor, session_id: int, fact_ref: str | int, text: str) -> Fact:
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            await require_can_change(uow, member, session)
            fact = await find_fact(uow, session=session, ref=fact_ref)
            if fact.source in (FactSource.QUESTION, FactSource.CHECK):
                raise Conflict(f"{fact.label} was confirmed from the task lane; edit its source item instead.",
                               reason="fact.from_lane", params={"label": fact.label})
            fact.text = _clean(text)
            fact.updated_at = self.deps.clock.now()
            await bump(uow, session)
            await record_action(uow, self.deps, session, member.id, f"{member.name} edited {fact.label}: {fact.text}")
            await uow.commit()
        return fact

    async def delete(self, *, actor: Actor, session_id: int, fact_ref: str | int) -> Fact:
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            await require_can_change(uow, member, session)
            fact = await find_fact(uow, session=session, ref=fact_ref)
            fact.deleted_at = self.deps.clock.now()
            if fact.source_ref is not None:  # its lane item is open again
                item = await uow.items.get(account_id=actor.account_id, item_id=fact.source_ref)
                if item is not None:
                    item.status = ItemStatus.OPEN
            await bump(uow, session)
            await record_action(uow, self.deps, session, member.id, f"{member.name} removed {fact.label}.")
            await uow.commit()
        return fact
