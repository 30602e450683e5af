"""Leased work queues (assistant turns, PSA writebacks): a row is taken by one worker at a time
through a conditional UPDATE and finished once, by the lease holder. One implementation serves
every queue table, so the turn queue and the writeback outbox cannot drift apart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Table, and_, func, or_, select, update

from storage.repositories.base import SqlRepository

E = TypeVar("E")

CANDIDATES_PER_CLAIM = 5
# The status values every queue's enum shares (core.models.TurnStatus, WritebackStatus).
PENDING, RUNNING = "pending", "running"
CLAIM_COLUMNS = ("status", "lease_owner", "lease_until", "attempts")
FINISH_COLUMNS = ("status", "finished_at", "lease_owner", "lease_until")


def finish_values(status: StrEnum) -> dict[str, object]:
    """`done`/`failed` close the row (finished_at set by the caller); `pending` hands it back for
    a retry with the lease cleared. `running` is not a way to finish."""
    if status == RUNNING:
        raise ValueError("finish() needs done, failed or pending, not running")
    if status == PENDING:
        return {"status": status, "lease_owner": None, "lease_until": None, "finished_at": None}
    return {"status": status}


class SqlLeasedQueue(SqlRepository, Generic[E]):
    """Subclasses name their entity, table and status enum; the table needs status, created_at,
    attempts, lease_owner, lease_until and finished_at columns (index on status, created_at)."""

    entity: ClassVar[type[Any]]
    table: ClassVar[Table]
    statuses: ClassVar[type[StrEnum]]

    def _claimable(self, now: datetime) -> ColumnElement[bool]:
        c = self.table.c
        return or_(
            c.status == self.statuses(PENDING),
            and_(c.status == self.statuses(RUNNING), c.lease_until < now),
        )

    async def claim_next(self, *, worker_id: str, now: datetime, lease_until: datetime) -> E | None:
        """Across all accounts, the oldest row that is pending or running with an expired lease.
        Candidates are picked oldest first, then one is taken with a conditional UPDATE whose row
        count decides; a lost race moves on to the next candidate. PostgreSQL skips rows another
        worker is claiming right now instead of waiting on them."""
        c = self.table.c
        pick = select(c.id).where(self._claimable(now)).order_by(c.created_at, c.id)
        if self.dialect == "postgresql":
            pick = pick.limit(1).with_for_update(skip_locked=True)
        else:
            pick = pick.limit(CANDIDATES_PER_CLAIM)
        for entity_id in await self._scalars(pick):
            stmt = (
                update(self.table)
                .where(c.id == entity_id, self._claimable(now))
                .values(
                    status=self.statuses(RUNNING),
                    lease_owner=worker_id,
                    lease_until=lease_until,
                    attempts=c.attempts + 1,
                )
            )
            if (await self._update(stmt)).rowcount == 1:
                await self._refresh_loaded(self.entity, entity_id, CLAIM_COLUMNS)
                claimed: E | None = await self._session.get(self.entity, entity_id)
                return claimed
        return None

    async def _finish(
        self,
        entity_id: int,
        *,
        worker_id: str,
        status: str,
        now: datetime,
        extra: dict[str, object] | None = None,
    ) -> bool:
        """Only the lease holder of a running row may finish it; `extra` columns are set with it.
        Afterwards a loaded entity shows the row's current lease and status, won or lost."""
        final = self.statuses(status)
        values = {**finish_values(final), **(extra or {})}
        if final != PENDING:
            values["finished_at"] = now
        c = self.table.c
        stmt = (
            update(self.table)
            .where(
                c.id == entity_id,
                c.lease_owner == worker_id,
                c.status == self.statuses(RUNNING),
            )
            .values(**values)
        )
        won = (await self._update(stmt)).rowcount == 1
        refresh: Sequence[str] = (*FINISH_COLUMNS, *(extra or {}))
        await self._refresh_loaded(self.entity, entity_id, refresh)
        return won

    async def renew_lease(self, *, entity_id: int, worker_id: str, lease_until: datetime) -> bool:
        """Extend a running row's lease; False when it is no longer this worker's."""
        c = self.table.c
        stmt = (update(self.table)
                .where(c.id == entity_id, c.lease_owner == worker_id, c.status == self.statuses(RUNNING))
                .values(lease_until=lease_until))
        won = (await self._update(stmt)).rowcount == 1
        await self._refresh_loaded(self.entity, entity_id, ("lease_until",))
        return won

    async def count_open(self, *, account_id: int | None = None) -> int:
        """Pending or running rows, of one account or of all."""
        c = self.table.c
        stmt = select(func.count()).where(
            c.status.in_([self.statuses(PENDING), self.statuses(RUNNING)])
        )
        if account_id is not None:
            stmt = stmt.where(c.account_id == account_id)
        return int(await self._scalar(stmt))
