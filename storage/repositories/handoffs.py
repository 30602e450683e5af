"""Handoffs (race-safe pickup, R23), writeups, notifications and draft templates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select, update

from core.models import DraftTemplate, Handoff, HandoffIntent, Member, Notification, Session, SessionStatus, Writeup
from storage.repositories.base import SqlRepository, flush
from storage.tables import draft_templates, handoffs, members, notifications, sessions, steps, writeups


class SqlHandoffRepository(SqlRepository):
    async def add(self, handoff: Handoff) -> Handoff:
        return await self._add(handoff)

    async def get(self, *, account_id: int, handoff_id: int) -> Handoff | None:
        stmt = select(Handoff).where(handoffs.c.id == handoff_id, handoffs.c.account_id == account_id)
        result: Handoff | None = await self._first(stmt)
        return result

    async def latest_for_session(
        self, *, account_id: int, session_id: int, intent: str | None = None
    ) -> Handoff | None:
        stmt = select(Handoff).where(
            handoffs.c.account_id == account_id, handoffs.c.session_id == session_id
        )
        if intent is not None:
            stmt = stmt.where(handoffs.c.intent == HandoffIntent(intent))
        result: Handoff | None = await self._first(
            stmt.order_by(handoffs.c.created_at.desc(), handoffs.c.id.desc())
        )
        return result

    async def list_awaiting_pickup(self, *, account_id: int) -> list[Handoff]:
        stmt = (
            select(Handoff)
            .where(
                handoffs.c.account_id == account_id,
                handoffs.c.intent == HandoffIntent.ESCALATE,
                handoffs.c.claimed_by.is_(None),
            )
            .order_by(handoffs.c.created_at, handoffs.c.id)
        )
        return await self._all(stmt)

    async def claim(
        self, *, account_id: int, handoff_id: int, member_id: int, now: datetime
    ) -> bool:
        """R23: `UPDATE ... WHERE claimed_by IS NULL`; the row count names the single winner.
        Afterwards a loaded handoff shows the real claimant, so losers can say who has it."""
        stmt = (
            update(handoffs)
            .where(
                handoffs.c.id == handoff_id,
                handoffs.c.account_id == account_id,
                handoffs.c.claimed_by.is_(None),
            )
            .values(claimed_by=member_id, claimed_at=now)
        )
        won = (await self._update(stmt)).rowcount == 1
        await self._refresh_loaded(Handoff, handoff_id, ["claimed_by", "claimed_at"])
        return won

    async def claimant_name(self, *, account_id: int, session_id: int) -> str | None:
        latest = (
            select(handoffs.c.claimed_by)
            .where(handoffs.c.account_id == account_id, handoffs.c.session_id == session_id,
                   handoffs.c.intent == HandoffIntent.ESCALATE)
            .order_by(handoffs.c.created_at.desc(), handoffs.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        stmt = select(members.c.name).where(members.c.id == latest, members.c.account_id == account_id)
        name: str | None = (await self._session.execute(stmt)).scalar_one_or_none()
        return name

    async def list_claimed_since(self, *, account_id: int, since: datetime) -> list[Handoff]:
        """Claimed at or after `since`, oldest claim first (R26)."""
        stmt = (
            select(Handoff)
            .where(handoffs.c.account_id == account_id, handoffs.c.claimed_at >= since)
            .order_by(handoffs.c.claimed_at, handoffs.c.id)
        )
        return await self._all(stmt)

    async def list_queue(self, *, account_id: int) -> list[tuple[Handoff, Session, Member | None]]:
        """One SELECT: the handoff joined to its session and (outer) to the member who escalated."""
        stmt = (
            select(Handoff, Session, Member)
            .join(Session, and_(sessions.c.id == handoffs.c.session_id, sessions.c.account_id == account_id))
            .outerjoin(Member, and_(members.c.id == handoffs.c.created_by, members.c.account_id == account_id))
            .where(
                handoffs.c.account_id == account_id,
                handoffs.c.intent == HandoffIntent.ESCALATE,
                handoffs.c.claimed_by.is_(None),
                sessions.c.status == SessionStatus.ESCALATED,
            )
            .order_by(handoffs.c.created_at, handoffs.c.id)
        )
        rows = (await self._session.execute(stmt)).all()
        return [(handoff, session, member) for handoff, session, member in rows]

    async def pickup_responses(
        self, *, account_id: int, since: datetime
    ) -> list[tuple[datetime, datetime | None]]:
        """One SELECT: each claim with a correlated MIN over its session's later steps."""
        first_step = (
            select(func.min(steps.c.created_at))
            .where(
                steps.c.account_id == account_id,
                steps.c.session_id == handoffs.c.session_id,
                steps.c.created_at > handoffs.c.claimed_at,
            )
            .scalar_subquery()
        )
        stmt = (
            select(handoffs.c.claimed_at, first_step)
            .where(handoffs.c.account_id == account_id, handoffs.c.claimed_at >= since)
            .order_by(handoffs.c.claimed_at, handoffs.c.id)
        )
        await flush(self._session)
        rows = (await self._session.execute(stmt)).all()
        return [(claimed_at, first) for claimed_at, first in rows]


class SqlWriteupRepository(SqlRepository):
    async def add(self, writeup: Writeup) -> Writeup:
        return await self._add(writeup)

    async def list(self, *, account_id: int, session_id: int) -> list[Writeup]:
        """Oldest first."""
        stmt = (
            select(Writeup)
            .where(writeups.c.account_id == account_id, writeups.c.session_id == session_id)
            .order_by(writeups.c.created_at, writeups.c.id)
        )
        return await self._all(stmt)


class SqlNotificationRepository(SqlRepository):
    async def add(self, notification: Notification) -> Notification:
        return await self._add(notification)

    async def list_for_member(
        self, *, account_id: int, member_id: int, unread_only: bool = False
    ) -> list[Notification]:
        """Newest first, as an inbox reads."""
        stmt = select(Notification).where(
            notifications.c.account_id == account_id, notifications.c.member_id == member_id
        )
        if unread_only:
            stmt = stmt.where(notifications.c.read_at.is_(None))
        return await self._all(
            stmt.order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
        )


class SqlDraftTemplateRepository(SqlRepository):
    async def add(self, draft: DraftTemplate) -> DraftTemplate:
        return await self._add(draft)

    async def list(self, *, account_id: int, session_id: int) -> list[DraftTemplate]:
        """Oldest first: the order R29 offers them in."""
        stmt = (
            select(DraftTemplate)
            .where(
                draft_templates.c.account_id == account_id,
                draft_templates.c.session_id == session_id,
            )
            .order_by(draft_templates.c.created_at, draft_templates.c.id)
        )
        return await self._all(stmt)
