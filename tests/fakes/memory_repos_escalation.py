"""The in-memory repositories for escalations and the turn queue (see memory_repos.py; the
lease logic is in memory_leases.py)."""

from __future__ import annotations

from datetime import datetime

from core.models import (
    DraftTemplate,
    Handoff,
    HandoffIntent,
    Member,
    Notification,
    PendingTurn,
    Session,
    SessionStatus,
    Step,
    TurnStatus,
    Writeup,
)
from tests.fakes.memory_leases import MemoryLeasedQueue, MemorySessionBatches
from tests.fakes.memory_repos import _created, _first, _Repo


class MemoryHandoffs(_Repo):
    async def add(self, handoff: Handoff) -> Handoff:
        result: Handoff = self._u.add(handoff)
        return result

    async def get(self, *, account_id: int, handoff_id: int) -> Handoff | None:
        result: Handoff | None = self._get(Handoff, account_id, handoff_id)
        return result

    async def latest_for_session(
        self, *, account_id: int, session_id: int, intent: str | None = None
    ) -> Handoff | None:
        wanted = None if intent is None else HandoffIntent(intent)
        in_session = self._in_session(account_id, session_id)
        found = self._u.select(
            Handoff,
            lambda r: in_session(r) and (wanted is None or r["intent"] == wanted),
            _created,
            descending=True,
        )
        result: Handoff | None = _first(found)
        return result

    async def claimant_name(self, *, account_id: int, session_id: int) -> str | None:
        latest = await self.latest_for_session(account_id=account_id, session_id=session_id,
                                               intent=HandoffIntent.ESCALATE)
        if latest is None or latest.claimed_by is None:
            return None
        member = self._get(Member, account_id, latest.claimed_by)
        return member.name if member is not None else None

    async def list_awaiting_pickup(self, *, account_id: int) -> list[Handoff]:
        return self._u.select(
            Handoff,
            lambda r: r["account_id"] == account_id
            and r["intent"] == HandoffIntent.ESCALATE
            and r["claimed_by"] is None,
            _created,
        )

    async def claim(
        self, *, account_id: int, handoff_id: int, member_id: int, now: datetime
    ) -> bool:
        done = await self._u.conditional_update(
            Handoff,
            handoff_id,
            lambda r: r["account_id"] == account_id and r["claimed_by"] is None,
            lambda r: {"claimed_by": member_id, "claimed_at": now},
            ["claimed_by", "claimed_at"],
        )
        return done is not None

    async def list_claimed_since(self, *, account_id: int, since: datetime) -> list[Handoff]:
        return self._u.select(
            Handoff,
            lambda r: r["account_id"] == account_id
            and r["claimed_at"] is not None
            and r["claimed_at"] >= since,
            lambda r: (r["claimed_at"], r["id"]),
        )

    async def list_queue(self, *, account_id: int) -> list[tuple[Handoff, Session, Member | None]]:
        queue: list[tuple[Handoff, Session, Member | None]] = []
        for handoff in await self.list_awaiting_pickup(account_id=account_id):
            session: Session | None = self._get(Session, account_id, handoff.session_id)
            if session is not None and session.status == SessionStatus.ESCALATED:
                queue.append((handoff, session, self._get(Member, account_id, handoff.created_by)))
        return queue

    async def pickup_responses(
        self, *, account_id: int, since: datetime
    ) -> list[tuple[datetime, datetime | None]]:
        steps = [r for r in self._rows(Step) if r["account_id"] == account_id]
        responses: list[tuple[datetime, datetime | None]] = []
        for handoff in await self.list_claimed_since(account_id=account_id, since=since):
            claimed_at = handoff.claimed_at
            assert claimed_at is not None
            later = [r["created_at"] for r in steps if r["session_id"] == handoff.session_id and r["created_at"] > claimed_at]
            responses.append((claimed_at, min(later, default=None)))
        return responses


class MemoryWriteups(_Repo):
    async def add(self, writeup: Writeup) -> Writeup:
        result: Writeup = self._u.add(writeup)
        return result

    async def list(self, *, account_id: int, session_id: int) -> list[Writeup]:
        return self._u.select(Writeup, self._in_session(account_id, session_id), _created)


class MemoryNotifications(_Repo):
    async def add(self, notification: Notification) -> Notification:
        result: Notification = self._u.add(notification)
        return result

    async def list_for_member(
        self, *, account_id: int, member_id: int, unread_only: bool = False
    ) -> list[Notification]:
        return self._u.select(
            Notification,
            lambda r: r["account_id"] == account_id
            and r["member_id"] == member_id
            and (not unread_only or r["read_at"] is None),
            _created,
            descending=True,
        )


class MemoryDrafts(_Repo):
    async def add(self, draft: DraftTemplate) -> DraftTemplate:
        result: DraftTemplate = self._u.add(draft)
        return result

    async def list(self, *, account_id: int, session_id: int) -> list[DraftTemplate]:
        return self._u.select(
            DraftTemplate, self._in_session(account_id, session_id), _created
        )


class MemoryTurns(MemorySessionBatches, MemoryLeasedQueue[PendingTurn]):
    """claim_next and count_open come from MemoryLeasedQueue, the per-session batches from
    MemorySessionBatches."""

    entity = PendingTurn
    statuses = TurnStatus

    async def add(self, turn: PendingTurn) -> PendingTurn:
        result: PendingTurn = self._u.add(turn)
        return result

    async def get(self, *, account_id: int, turn_id: int) -> PendingTurn | None:
        result: PendingTurn | None = self._get(PendingTurn, account_id, turn_id)
        return result

    async def finish(
        self, *, turn_id: int, worker_id: str, status: str, now: datetime, error: str | None = None
    ) -> bool:
        return await self._finish(
            turn_id, worker_id=worker_id, status=status, now=now, extra={"error": error}
        )
