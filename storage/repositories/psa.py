"""The PSA side: the writeback outbox (R17, R19, R20) and each account's ConnectWise connection."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import select

from core.models import PsaConnection, Writeback, WritebackStatus
from storage.repositories.base import SqlRepository, flush
from storage.repositories.leases import SqlLeasedQueue
from storage.tables import psa_connections, writebacks

_REPLACED_FIELDS = tuple(f.name for f in dataclasses.fields(PsaConnection) if f.name != "id")


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
