"""Facts the assistant proposes (R6 as amended): lane items of kind FACT (P1, P2 …) that become
facts only when a member confirms them, as written or in their own words, or turn them down.

The assistant proposes new facts and answers to open questions or checks; a synthesized answer
(R4, Confirm without own words) is proposed the same way, so nothing written by a model reaches
"What we know", or a customer's note, without a person having read it."""

from __future__ import annotations

import logging
from datetime import datetime

from core.assistant.types import FactPromotion
from core.lane import find_item, normalize
from core.models import ItemKind, ItemStatus, Session, TaskItem
from core.ports import UnitOfWork
from core.redaction import redact_text

log = logging.getLogger("rflow.facts")
MAX_FACT_CHARS = 1000  # a proposal is a fact in waiting: the same limit


async def add_proposal(uow: UnitOfWork, session: Session, *, text: str, now: datetime,
                       answers: TaskItem | None = None) -> TaskItem:
    """One proposal on the lane; `answers` is the open question or check it would confirm."""
    seq = await uow.items.allocate_seq(account_id=session.account_id, session_id=session.id or 0, kind=ItemKind.FACT)
    return await uow.items.add(TaskItem(
        account_id=session.account_id, session_id=session.id or 0, kind=ItemKind.FACT, seq=seq,
        text=text[:MAX_FACT_CHARS], created_at=now, source_ref=answers.id if answers is not None else None))


async def propose_facts(uow: UnitOfWork, *, session: Session, promotions: tuple[FactPromotion, ...],
                        now: datetime) -> list[TaskItem]:
    """The assistant's facts of one reply, as proposals. What is already a fact, or already
    proposed and waiting, is not proposed again; a proposal for an item no longer open answers nothing."""
    if not promotions:
        return []
    sid = session.id or 0
    facts = await uow.facts.list(account_id=session.account_id, session_id=sid)
    waiting = [i for i in await uow.items.list(account_id=session.account_id, session_id=sid)
               if i.kind == ItemKind.FACT and i.status == ItemStatus.OPEN]
    known = {normalize(f.text) for f in facts} | {normalize(i.text) for i in waiting}
    created: list[TaskItem] = []
    for promotion in promotions:
        text = redact_text(promotion.text.strip())
        if not text or normalize(text) in known:
            continue
        item = await find_item(uow, session=session, ref=promotion.item_label) if promotion.item_label else None
        answers = item if item is not None and item.kind != ItemKind.FACT and item.status == ItemStatus.OPEN else None
        created.append(await add_proposal(uow, session, text=text, now=now, answers=answers))
        known.add(normalize(text))
    if created:
        log.info("the assistant proposed %d fact(s); they wait for a member", len(created))
    return created
