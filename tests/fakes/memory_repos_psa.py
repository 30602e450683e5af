"""The in-memory PSA repositories: the writeback outbox (lease logic shared with the turn queue
through memory_leases.py) and each account's ConnectWise connection. Same filters, orderings and
replace semantics as storage/repositories/psa.py."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from core.models import PsaConnection, Writeback, WritebackStatus
from tests.fakes.memory_leases import MemoryLeasedQueue
from tests.fakes.memory_repos import _created, _first, _Repo

_REPLACED_FIELDS = tuple(f.name for f in dataclasses.fields(PsaConnection) if f.name != "id")


class MemoryWritebacks(MemoryLeasedQueue[Writeback]):
    """claim_next and count_open come from MemoryLeasedQueue."""

    entity = Writeback
    statuses = WritebackStatus

    async def add(self, writeback: Writeback) -> Writeback:
        result: Writeback = self._u.add(writeback)
        return result

    async def get(self, *, account_id: int, writeback_id: int) -> Writeback | None:
        result: Writeback | None = self._get(Writeback, account_id, writeback_id)
        return result

    async def find_by_key(self, *, account_id: int, idempotency_key: str) -> Writeback | None:
        found = self._u.select(
            Writeback,
            lambda r: r["account_id"] == account_id and r["idempotency_key"] == idempotency_key,
            _created,
        )
        result: Writeback | None = _first(found)
        return result

    async def list(self, *, account_id: int, session_id: int) -> list[Writeback]:
        return self._u.select(Writeback, self._in_session(account_id, session_id), _created)

    async def finish(
        self, *, writeback_id: int, worker_id: str, status: str, now: datetime
    ) -> bool:
        return await self._finish(writeback_id, worker_id=worker_id, status=status, now=now)


class MemoryPsaConnections(_Repo):
    async def get(self, *, account_id: int) -> PsaConnection | None:
        found = self._u.select(
            PsaConnection, lambda r: r["account_id"] == account_id, lambda r: r["id"]
        )
        result: PsaConnection | None = _first(found)
        return result

    async def put(self, connection: PsaConnection) -> PsaConnection:
        """Insert, or copy every field onto the account's existing row (which keeps its id)."""
        existing = await self.get(account_id=connection.account_id)
        if existing is None:
            added: PsaConnection = self._u.add(connection)
            return added
        if existing is not connection:
            for name in _REPLACED_FIELDS:
                setattr(existing, name, getattr(connection, name))
        return existing
