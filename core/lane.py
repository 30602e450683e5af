"""The task lane: questions and checks proposed by the assistant, with stable ids (R3), retired when
the assistant stops proposing them (issue 12)."""

from __future__ import annotations

import re
from datetime import datetime

from core.models import ITEM_PREFIXES, ItemKind, ItemStatus, Session, TaskItem
from core.ports import UnitOfWork

_SPACES = re.compile(r"\s+")
MAX_ITEM_CHARS = 500


def normalize(text: str) -> str:
    """The identity of an item's text: case, spacing and trailing punctuation don't make it new."""
    return _SPACES.sub(" ", text).strip().rstrip(" ?.!").casefold()


async def merge_proposals(
    uow: UnitOfWork,
    *,
    session: Session,
    questions: tuple[str, ...],
    checks: tuple[str, ...],
    now: datetime,
) -> list[TaskItem]:
    """Add proposed items whose text is new; re-proposed text keeps its existing item and id (R3).
    Returns the items created.

    The proposal is the whole open lane after the reply (the assistant repeats what it keeps), so
    an open item it leaves out is retired, and a retired one it proposes again is open again with
    its old id. A reply that proposes nothing at all leaves the lane as it is: that is how the
    assistant says nothing changed, and how a reply cut short (core.assistant.validation's
    salvage_turn) can retire nothing. Promoted items stay promoted either way."""
    assert session.id is not None
    if not questions and not checks:
        return []
    existing = await uow.items.list(account_id=session.account_id, session_id=session.id)
    proposed = {(kind, normalize(text)) for kind, texts in ((ItemKind.QUESTION, questions), (ItemKind.CHECK, checks))
                for text in texts}  # fmt: skip
    for item in existing:
        if item.kind == ItemKind.FACT:  # proposed facts wait for a member, whatever the assistant says next
            continue
        key: tuple[ItemKind, str] = (item.kind, normalize(item.text))
        if item.status == ItemStatus.OPEN and key not in proposed:
            item.status = ItemStatus.RETIRED
        elif item.status == ItemStatus.RETIRED and key in proposed:
            item.status = ItemStatus.OPEN
    known: set[tuple[ItemKind, str]] = {(item.kind, normalize(item.text)) for item in existing}
    created: list[TaskItem] = []
    for kind, texts in ((ItemKind.QUESTION, questions), (ItemKind.CHECK, checks)):
        fresh: list[str] = []
        for raw in texts:
            text = raw.strip()[:MAX_ITEM_CHARS]
            key = (kind, normalize(text))
            if key[1] and key not in known:
                known.add(key)
                fresh.append(text)
        if not fresh:
            continue
        # One atomic allocation per kind: concurrent turns never compute the same label.
        first = await uow.items.allocate_seq(account_id=session.account_id, session_id=session.id, kind=kind,
                                             count=len(fresh))  # fmt: skip
        for seq, text in enumerate(fresh, start=first):
            item = TaskItem(
                account_id=session.account_id, session_id=session.id, kind=kind, seq=seq, text=text, created_at=now
            )
            created.append(await uow.items.add(item))
    return created


def parse_label(label: str) -> tuple[ItemKind, int] | None:
    """'Q2' / 'c1' → (kind, seq). Surfaces that show labels accept them back."""
    match = re.fullmatch(r"\s*([QqCcPp])\s*(\d{1,6})\s*", label)
    if not match:
        return None
    kinds = {prefix: kind for kind, prefix in ITEM_PREFIXES.items()}
    return kinds[match.group(1).upper()], int(match.group(2))


async def find_item(uow: UnitOfWork, *, session: Session, ref: str | int) -> TaskItem | None:
    """An item of this session by database id (buttons) or by label (console)."""
    assert session.id is not None
    if isinstance(ref, int):
        item = await uow.items.get(account_id=session.account_id, item_id=ref)
        return item if item is not None and item.session_id == session.id else None
    parsed = parse_label(ref)
    if parsed is None:
        return None
    kind, seq = parsed
    for item in await uow.items.list(account_id=session.account_id, session_id=session.id):
        if item.kind == kind and item.seq == seq:
            return item
    return None
