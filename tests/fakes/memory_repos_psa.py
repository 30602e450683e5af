"""The in-memory PSA repositories: the writeback outbox (lease logic shared with the turn queue
through memory_leases.py) and each account's ConnectWise connection. Same filters, orderings and
replace semantics as storage/repositories/psa.py."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from core.models import BoardStatus, PsaConnection, PsaMemberLink, StatusRole, Writeback, WritebackStatus
from storage.repositories.psa import STEP_COLUMNS
from tests.fakes.memory_leases import RUNNING, MemoryLeasedQueue
from tests.fakes.memory_repos import _created, _first, _Repo

_REPLACED_FIELDS = tuple(f.name for f in dataclasses.fields(PsaConnection) if f.name != "id")
_STATUS_FIELDS = tuple(f.name for f in dataclasses.fields(BoardStatus) if f.name != "id")
_LINK_FIELDS = tuple(f.name for f in dataclasses.fields(PsaMemberLink) if f.name != "id")


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

    async def record_step(self, *, writeback_id: int, worker_id: str, values: dict[str, Any]) -> bool:
        if not values or not set(values) <= STEP_COLUMNS:
            raise ValueError(f"not step columns: {sorted(set(values) - STEP_COLUMNS)}")
        done = await self._u.conditional_update(
            Writeback, writeback_id,
            lambda r: r["lease_owner"] == worker_id and r["status"] == WritebackStatus(RUNNING),
            lambda r: dict(values), list(values))
        return done is not None


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


class MemoryBoardStatuses(_Repo):
    async def list(self, *, account_id: int) -> list[BoardStatus]:
        return self._u.select(BoardStatus, lambda r: r["account_id"] == account_id,
                              lambda r: (r["board_name"], r["board_id"], r["role"]))

    async def get(self, *, account_id: int, board_id: int, role: StatusRole) -> BoardStatus | None:
        found = self._u.select(
            BoardStatus, lambda r: (r["account_id"], r["board_id"], r["role"]) == (account_id, board_id, role),
            lambda r: r["id"])
        result: BoardStatus | None = _first(found)
        return result

    async def put(self, status: BoardStatus) -> BoardStatus:
        existing = await self.get(account_id=status.account_id, board_id=status.board_id, role=status.role)
        if existing is None:
            added: BoardStatus = self._u.add(status)
            return added
        for name in _STATUS_FIELDS:
            setattr(existing, name, getattr(status, name))
        return existing

    async def delete(self, *, account_id: int, board_id: int, role: StatusRole) -> bool:
        existing = await self.get(account_id=account_id, board_id=board_id, role=role)
        if existing is None:
            return False
        return await self._u.delete_where(BoardStatus, lambda r: r["id"] == existing.id) == 1


class MemoryPsaMemberLinks(_Repo):
    async def get(self, *, account_id: int, member_id: int) -> PsaMemberLink | None:
        found = self._u.select(PsaMemberLink, lambda r: (r["account_id"], r["member_id"]) == (account_id, member_id),
                               lambda r: r["id"])
        result: PsaMemberLink | None = _first(found)
        return result

    async def put(self, link: PsaMemberLink) -> PsaMemberLink:
        existing = await self.get(account_id=link.account_id, member_id=link.member_id)
        if existing is None:
            added: PsaMemberLink = self._u.add(link)
            return added
        for name in _LINK_FIELDS:
            setattr(existing, name, getattr(link, name))
        return existing
