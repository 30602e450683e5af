"""What a session hands on: escalations, write-ups, notifications and draft script templates."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.models import DraftTemplate, Handoff, Member, Notification, Session, Writeup


class HandoffRepository(Protocol):
    async def add(self, handoff: Handoff) -> Handoff: ...
    async def get(self, *, account_id: int, handoff_id: int) -> Handoff | None: ...
    async def latest_for_session(
        self, *, account_id: int, session_id: int, intent: str | None = None
    ) -> Handoff | None: ...
    async def list_awaiting_pickup(self, *, account_id: int) -> list[Handoff]:
        """Escalations not yet claimed, oldest first."""
        ...

    async def claim(
        self, *, account_id: int, handoff_id: int, member_id: int, now: datetime
    ) -> bool:
        """One conditional UPDATE ... WHERE claimed_by IS NULL (R23). True for the single winner."""
        ...

    async def list_claimed_since(self, *, account_id: int, since: datetime) -> list[Handoff]: ...
    async def list_queue(self, *, account_id: int) -> list[tuple[Handoff, Session, Member | None]]:
        """The escalation queue in one read: escalations not yet claimed whose session is still
        escalated, oldest first, each with its session and who escalated it (None if not found)."""
        ...

    async def pickup_responses(
        self, *, account_id: int, since: datetime
    ) -> list[tuple[datetime, datetime | None]]:
        """In one read, for each handoff claimed at or after `since` (oldest claim first): when it
        was claimed, and when its session's first step strictly after that was made; None when
        there is none yet (R26)."""
        ...

    async def claimant_name(self, *, account_id: int, session_id: int) -> str | None:
        """Who picked up the session's latest escalation, in one read; None while unclaimed.
        Lets the many late clicks on Pick up be told at once (R23)."""
        ...


class WriteupRepository(Protocol):
    async def add(self, writeup: Writeup) -> Writeup: ...
    async def list(self, *, account_id: int, session_id: int) -> list[Writeup]: ...


class NotificationRepository(Protocol):
    async def add(self, notification: Notification) -> Notification: ...
    async def list_for_member(
        self, *, account_id: int, member_id: int, unread_only: bool = False
    ) -> list[Notification]: ...


class DraftTemplateRepository(Protocol):
    async def add(self, draft: DraftTemplate) -> DraftTemplate: ...
    async def list(self, *, account_id: int, session_id: int) -> list[DraftTemplate]: ...
