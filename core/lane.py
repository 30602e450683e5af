"""The task lane: questions and checks proposed by the assistant, with stable ids (R3)."""

from __future__ import annotations

import re
from datetime import datetime

from core.models import ItemKind, Session, TaskItem
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
    Returns the items created."""
    assert session.id is not None
    if not questions and not checks:
        return []
    existing = await uow.items.list(account_id=session.account_id, session_id=session.id)
    known = {(item.kind, normalize(item.text)) for item in existing}
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
    match = re.fullmatch(r"\s*([QqCc])\s*(\d{1,6})\s*", label)
    if not match:
        return None
    kind = ItemKind.QUESTION if match.group(1).upper() == "Q" else ItemKind.CHECK
    return kind, int(match.group(2))


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
