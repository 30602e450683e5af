"""The PSA side: the writeback outbox (R17, R19, R20, R39), each account's PSA connection, the
per-board statuses and the engineers' PSA members (R40)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import select, update

from core.models import BoardStatus, PsaConnection, PsaMemberLink, StatusRole, Writeback, WritebackStatus
from storage.repositories.base import SqlRepository, flush
from storage.repositories.leases import SqlLeasedQueue
from storage.tables import psa_board_statuses, psa_connections, psa_member_links, writebacks

_REPLACED_FIELDS = tuple(f.name for f in dataclasses.fields(PsaConnection) if f.name != "id")
_STATUS_FIELDS = tuple(f.name for f in dataclasses.fields(BoardStatus) if f.name != "id")
_LINK_FIELDS = tuple(f.name for f in dataclasses.fields(PsaMemberLink) if f.name != "id")
STEP_COLUMNS = frozenset({"note_attempted_at", "external_note_id", "note_posted_at", "time_attempted_at",
                          "time_entry_id", "time_outcome", "time_detail", "status_outcome", "actual_status", "detail"})


class SqlWritebackRepository(SqlLeasedQueue[Writeback]):
    """claim_next and count_open come from SqlLeasedQueue, exactly as for assistant turns."""

    entity = Writeback
    table = writebacks
    statuses = WritebackStatus

    async def add(self, writeback: Writeback) -> Writeback:
        """A second writeback with the same (account, idempotency_key) raises Conflict (R19)."""
        return await self._add(writeback)

    async def get(self, *, account_id: int, writeback_id: int) -> Writeback | None:
        stmt = select(Writeback).where(
            writebacks.c.id == writeback_id, writebacks.c.account_id == account_id
        )
        result: Writeback | None = await self._first(stmt)
        return result

    async def find_by_key(self, *, account_id: int, idempotency_key: str) -> Writeback | None:
        stmt = select(Writeback).where(
            writebacks.c.account_id == account_id,
            writebacks.c.idempotency_key == idempotency_key,
        )
        result: Writeback | None = await self._first(stmt)
        return result

    async def list(self, *, account_id: int, session_id: int) -> list[Writeback]:
        """Oldest first (created_at, then id)."""
        stmt = (
            select(Writeback)
            .where(writebacks.c.account_id == account_id, writebacks.c.session_id == session_id)
            .order_by(writebacks.c.created_at, writebacks.c.id)
        )
        return await self._all(stmt)

    async def finish(
        self, *, writeback_id: int, worker_id: str, status: str, now: datetime
    ) -> bool:
        """Only the lease holder of a running writeback may finish it. Changes the caller made to
        the loaded row (outcome, detail…) are flushed first, so leave the unit of work without
        committing when this returns False."""
        return await self._finish(writeback_id, worker_id=worker_id, status=status, now=now)

    async def record_step(self, *, writeback_id: int, worker_id: str, values: dict[str, object]) -> bool:
        """Record a step's progress in one conditional UPDATE: only while `worker_id` holds the
        running row's lease, so a worker that lost its lease never overwrites the new holder."""
        if not values or not set(values) <= STEP_COLUMNS:
            raise ValueError(f"not step columns: {sorted(set(values) - STEP_COLUMNS)}")
        c = writebacks.c
        stmt = (update(writebacks)
                .where(c.id == writeback_id, c.lease_owner == worker_id, c.status == WritebackStatus.RUNNING)
                .values(**values))
        won = (await self._update(stmt)).rowcount == 1
        await self._refresh_loaded(Writeback, writeback_id, tuple(values))
        return won


class SqlPsaConnectionRepository(SqlRepository):
    async def get(self, *, account_id: int) -> PsaConnection | None:
        stmt = select(PsaConnection).where(psa_connections.c.account_id == account_id)
        result: PsaConnection | None = await self._first(stmt)
        return result

    async def put(self, connection: PsaConnection) -> PsaConnection:
        """Insert, or copy every field onto the account's existing row (which keeps its id) and
        return that live row; the argument then stays detached. Two first-time puts racing for
        one account: the second raises Conflict (UNIQUE(account_id))."""
        existing = await self.get(account_id=connection.account_id)
        if existing is None:
            return await self._add(connection)
        if existing is not connection:
            for name in _REPLACED_FIELDS:
                setattr(existing, name, getattr(connection, name))
        await flush(self._session)
        return existing


class SqlBoardStatusRepository(SqlRepository):
    async def list(self, *, account_id: int) -> list[BoardStatus]:
        """By board, then role."""
        c = psa_board_statuses.c
        stmt = select(BoardStatus).where(c.account_id == account_id).order_by(c.board_name, c.board_id, c.role)
        return await self._all(stmt)

    async def get(self, *, account_id: int, board_id: int, role: StatusRole) -> BoardStatus | None:
        c = psa_board_statuses.c
        stmt = select(BoardStatus).where(c.account_id == account_id, c.board_id == board_id, c.role == role)
        result: BoardStatus | None = await self._first(stmt)
        return result

    async def put(self, status: BoardStatus) -> BoardStatus:
        """Insert, or replace the (board, role) choice; a first-time race raises Conflict."""
        existing = await self.get(account_id=status.account_id, board_id=status.board_id, role=status.role)
        if existing is None:
            return await self._add(status)
        for name in _STATUS_FIELDS:
            setattr(existing, name, getattr(status, name))
        await flush(self._session)
        return existing

    async def delete(self, *, account_id: int, board_id: int, role: StatusRole) -> bool:
        existing = await self.get(account_id=account_id, board_id=board_id, role=role)
        if existing is None:
            return False
        await self._session.delete(existing)
        await flush(self._session)
        return True


class SqlPsaMemberLinkRepository(SqlRepository):
    async def get(self, *, account_id: int, member_id: int) -> PsaMemberLink | None:
        c = psa_member_links.c
        stmt = select(PsaMemberLink).where(c.account_id == account_id, c.member_id == member_id)
        result: PsaMemberLink | None = await self._first(stmt)
        return result

    async def put(self, link: PsaMemberLink) -> PsaMemberLink:
        """Insert, or replace the member's link; a first-time race raises Conflict."""
        existing = await self.get(account_id=link.account_id, member_id=link.member_id)
        if existing is None:
            return await self._add(link)
        for name in _LINK_FIELDS:
            setattr(existing, name, getattr(link, name))
        await flush(self._session)
        return existing
