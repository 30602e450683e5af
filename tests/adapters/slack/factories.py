"""Realistic engine objects for the Slack renderer tests (real core dataclasses, no mocks)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from core.handoffs import Pickup, QueueEntry
from core.models import (
    Fact,
    FactSource,
    Fix,
    FixAuthor,
    Handoff,
    HandoffIntent,
    ItemKind,
    Member,
    Role,
    Session,
    SessionStatus,
    TaskItem,
)
from core.sessions import SessionView

NOW = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
ACCOUNT = 1
ALICE = Member(id=11, account_id=ACCOUNT, name="Alice", role=Role.ENGINEER, created_at=NOW)
BOB = Member(id=12, account_id=ACCOUNT, name="Bob", role=Role.ENGINEER, created_at=NOW)


def session(sid: int = 7, *, status: SessionStatus = SessionStatus.ACTIVE, title: str = "Printer offline",
            ticket: str | None = "4521") -> Session:
    info = {"summary": "Printer on floor 2", "company": "Acme", "board": "Help Desk", "status": "In Progress"}
    return Session(id=sid, account_id=ACCOUNT, title=title, status=status, created_by=ALICE.id or 0,
                   handler_id=ALICE.id or 0, created_at=NOW, updated_at=NOW, ticket_ref=ticket,
                   ticket_info=info if ticket else {}, surface="slack")


def facts(sid: int, texts: list[str], *, source: FactSource = FactSource.NOTE, first_id: int = 100) -> list[Fact]:
    return [Fact(id=first_id + i, account_id=ACCOUNT, session_id=sid, seq=i + 1, text=t, source=source, created_at=NOW)
            for i, t in enumerate(texts)]


def items(sid: int, kind: ItemKind, texts: list[str], *, first_id: int = 200) -> list[TaskItem]:
    return [TaskItem(id=first_id + i, account_id=ACCOUNT, session_id=sid, kind=kind, seq=i + 1, text=t, created_at=NOW)
            for i, t in enumerate(texts)]


def fix(sid: int, **values: Any) -> Fix:
    base: dict[str, Any] = dict(id=55, account_id=ACCOUNT, session_id=sid, title="Restart the print spooler",
                                description="Stop and start the Spooler service on PRN-02.", confidence=80,
                                author=FixAuthor.ASSISTANT, created_at=NOW)
    return Fix(**{**base, **values})


def handoff(sid: int, *, hid: int = 900, reason: str = "Needs domain admin rights", claimed_by: int | None = None) -> Handoff:
    return Handoff(id=hid, account_id=ACCOUNT, session_id=sid, intent=HandoffIntent.ESCALATE, reason=reason,
                   created_by=ALICE.id or 0, created_at=NOW, claimed_by=claimed_by, package_markdown="## Problem\nx")


def view(s: Session | None = None, *, fact_list: list[Fact] | None = None, item_list: list[TaskItem] | None = None,
         active_fix: Fix | None = None, escalation: Handoff | None = None) -> SessionView:
    s = s or session()
    return SessionView(session=s, handler=ALICE, facts=fact_list or [], items=item_list or [], active_fix=active_fix,
                       escalation=escalation)


def pickup(*, package: str, fact_texts: tuple[str, ...] = ("Spooler crashes on job 12",),
           tried: tuple[str, ...] = ("Restart the print spooler: did not work (crashed again)",)) -> Pickup:
    s = session(status=SessionStatus.ACTIVE)
    return Pickup(session=s, handoff=handoff(s.id or 0, claimed_by=BOB.id), escalated_by=ALICE, package=package,
                  facts=fact_texts, tried=tried)


def queue_entry(sid: int, hid: int, reason: str = "Needs domain admin rights") -> QueueEntry:
    return QueueEntry(session=session(sid, status=SessionStatus.ESCALATED), handoff=handoff(sid, hid=hid, reason=reason),
                      escalated_by=ALICE)


def walk(node: object) -> Iterator[dict[str, Any]]:
    """Every dict in a block tree, for assertions over all buttons or all texts."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [n for n in walk(blocks) if n.get("type") == "button"]


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [n["text"] for n in walk(blocks) if n.get("type") == "mrkdwn"]


def words(text: str) -> str:
    """Text with all whitespace removed: what must survive any split."""
    return "".join(text.split())
