"""A busy account for the read-model tests and bench/app_home.py: many sessions and handoffs, and
a statement counter on the SQL engine, so a read's query count can be compared across sizes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from core.access import Actor
from core.models import Account, Handoff, HandoffIntent, Member, Role, Session, SessionStatus, Step, StepKind
from core.ports import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, kw_only=True)
class Crowd:
    account: int
    engineer: Actor  # handles every session of the account: App Home lists them as "mine"
    senior: Actor
    viewer: Actor
    awaiting: tuple[int, ...]  # handoff ids awaiting pickup, oldest first
    claimed_at: tuple[datetime, ...]  # of every claimed handoff
    responses_s: tuple[float | None, ...]  # per claimed handoff: seconds to the first step after it


async def seed_crowd(uow_factory: UnitOfWorkFactory, *, now: datetime, sessions: int, handoffs: int,
                     name: str = "Acme IT") -> Crowd:
    """`sessions` sessions handled by one engineer, `handoffs` of them escalated: every other one
    still awaits pickup, the rest were claimed 0–89 days ago, most with a first step after the claim.
    A second account gets the same shape in miniature, so a read that forgets R35 shows it."""
    if handoffs > sessions:
        raise ValueError("one escalation per session at most")
    async with uow_factory() as uow:
        crowd = await _fill(uow, name, now, sessions, handoffs)
        await _fill(uow, f"{name}'s neighbour", now, 3, 2)
        await uow.commit()
    return crowd


async def _fill(uow: UnitOfWork, name: str, now: datetime, n_sessions: int, n_handoffs: int) -> Crowd:
    start = now - timedelta(days=100)
    account = await uow.accounts.add(Account(name=name, created_at=start))
    a = account.id or 0
    engineer, senior, viewer = [
        (await uow.members.add(Member(account_id=a, name=f"{who} of {name}", role=role, created_at=start))).id or 0
        for who, role in (("Dana", Role.ENGINEER), ("Sam", Role.ADMIN), ("Vic", Role.VIEWER))
    ]
    awaiting: list[int] = []
    claimed_at: list[datetime] = []
    responses: list[float | None] = []
    for n in range(n_sessions):
        escalated = n < n_handoffs
        waiting = escalated and n % 2 == 0
        status = SessionStatus.ESCALATED if waiting else (SessionStatus.RESOLVED if n % 7 == 6 else SessionStatus.ACTIVE)
        created = start + timedelta(minutes=n)
        session = await uow.sessions.add(Session(
            account_id=a, title=f"Session {n}: VPN drops", status=status, created_by=engineer, handler_id=engineer,
            created_at=created, updated_at=created + timedelta(hours=1), thread_ref=f"T1:C1:{n}.0001"))
        s = session.id or 0
        await _step(uow, a, s, created, engineer)
        if not escalated:
            continue
        claim = None if waiting else now - timedelta(days=n % 90, hours=1)
        handoff = await uow.handoffs.add(Handoff(
            account_id=a, session_id=s, intent=HandoffIntent.ESCALATE, reason=f"needs firewall access ({n})",
            created_by=engineer, created_at=claim - timedelta(minutes=5) if claim else created + timedelta(hours=2),
            claimed_by=None if waiting else senior, claimed_at=claim, package_markdown="## Problem\nVPN"))
        if claim is None:
            awaiting.append(handoff.id or 0)
            continue
        claimed_at.append(claim)
        answered = n % 5 != 1  # some claims see no step afterwards
        responses.append(float(30 + n) if answered else None)
        await _step(uow, a, s, claim, engineer)  # at the claim itself: not "after" it
        if answered:
            await _step(uow, a, s, claim + timedelta(seconds=30 + n), senior)
            await _step(uow, a, s, claim + timedelta(seconds=300 + n), senior)
    return Crowd(account=a, engineer=Actor(account_id=a, member_id=engineer), senior=Actor(account_id=a, member_id=senior),
                 viewer=Actor(account_id=a, member_id=viewer),
                 awaiting=tuple(awaiting), claimed_at=tuple(claimed_at), responses_s=tuple(responses))


async def _step(uow: UnitOfWork, account_id: int, session_id: int, at: datetime, author: int) -> None:
    await uow.steps.add(Step(account_id=account_id, session_id=session_id, kind=StepKind.ENGINEER_MESSAGE,
                             text="tried a reboot", created_at=at, author_id=author))


class StatementCounter:
    """Counts the statements an engine sends (`before_cursor_execute`), while `counting()` is open."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements: list[str] = []
        self._on = False
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if self._on:
            self.statements.append(statement)

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        self.statements = []
        self._on = True
        try:
            yield self.statements
        finally:
            self._on = False
