"""Leased work queues in memory (assistant turns, PSA writebacks), as storage/repositories/leases.py
does them: candidates oldest first, each taken with a conditional update, finished once by the lease
holder. One implementation for every queue, so the fakes of both queues cannot drift apart."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from tests.fakes.memory_repos import _created, _Repo

E = TypeVar("E")

CANDIDATES_PER_CLAIM = 5
# The status values every queue's enum shares (core.models.TurnStatus, WritebackStatus).
PENDING, RUNNING = "pending", "running"
CLAIM_COLUMNS = ["status", "lease_owner", "lease_until", "attempts"]
FINISH_COLUMNS = ["status", "finished_at", "lease_owner", "lease_until"]


def finish_values(status: StrEnum, now: datetime) -> dict[str, Any]:
    if status == RUNNING:
        raise ValueError("finish() needs done, failed or pending, not running")
    if status == PENDING:
        return {"status": status, "lease_owner": None, "lease_until": None, "finished_at": None}
    return {"status": status, "finished_at": now}


class MemoryLeasedQueue(_Repo, Generic[E]):
    """Subclasses name their entity and status enum."""

    entity: ClassVar[type[Any]]
    statuses: ClassVar[type[StrEnum]]

    async def claim_next(self, *, worker_id: str, now: datetime, lease_until: datetime) -> E | None:
        pending, running = self.statuses(PENDING), self.statuses(RUNNING)

        def claimable(r: dict[str, Any]) -> bool:
            expired = r["lease_until"] is not None and r["lease_until"] < now
            return (r["status"] == pending or (r["status"] == running and expired)) and self._also_claimable(r)

        candidates = sorted(
            (r for r in self._rows(self.entity)
             if claimable(r) and not self._u.locked_by_other(self.entity, r["id"])),
            key=_created,
        )[:CANDIDATES_PER_CLAIM]  # fmt: skip
        for candidate in candidates:
            taken = await self._u.conditional_update(
                self.entity,
                candidate["id"],
                claimable,
                lambda r: {
                    "status": running,
                    "lease_owner": worker_id,
                    "lease_until": lease_until,
                    "attempts": r["attempts"] + 1,
                },
                CLAIM_COLUMNS,
            )
            if taken is not None:
                result: E = self._u.entity(self.entity, candidate["id"])
                return result
        return None

    def _also_claimable(self, row: dict[str, Any]) -> bool:
        """A queue's own extra condition (the inbox: the oldest open delivery of its thread)."""
        return True

    async def _finish(
        self,
        entity_id: int,
        *,
        worker_id: str,
        status: str,
        now: datetime,
        extra: dict[str, Any] | None = None,
    ) -> bool:
        running = self.statuses(RUNNING)
        values = {**finish_values(self.statuses(status), now), **(extra or {})}
        done = await self._u.conditional_update(
            self.entity,
            entity_id,
            lambda r: r["lease_owner"] == worker_id and r["status"] == running,
            lambda r: values,
            [*FINISH_COLUMNS, *(extra or {})],
        )
        return done is not None

    async def renew_lease(self, *, entity_id: int, worker_id: str, lease_until: datetime) -> bool:
        running = self.statuses(RUNNING)
        done = await self._u.conditional_update(
            self.entity, entity_id, lambda r: r["lease_owner"] == worker_id and r["status"] == running,
            lambda r: {"lease_until": lease_until}, ["lease_until"])
        return done is not None

    async def count_open(self, *, account_id: int | None = None) -> int:
        open_statuses = {self.statuses(PENDING), self.statuses(RUNNING)}
        return sum(
            1
            for r in self._rows(self.entity)
            if r["status"] in open_statuses
            and (account_id is None or r["account_id"] == account_id)
        )


class MemorySessionBatches:
    """The turn queue's per-session batches (storage/repositories/turns.py) over a leased queue:
    a session's claimable turns are taken together, never while another of its turns runs."""

    def _claimable_rows(self: Any, now: datetime) -> list[dict[str, Any]]:
        pending, running = self.statuses(PENDING), self.statuses(RUNNING)
        rows = self._rows(self.entity)
        busy = {r["session_id"] for r in rows
                if r["status"] == running and r["lease_until"] is not None and r["lease_until"] >= now}
        return sorted((r for r in rows if r["session_id"] not in busy and (
            r["status"] == pending or (r["status"] == running and r["lease_until"] is not None and r["lease_until"] < now))),
            key=lambda r: r["id"])

    async def waiting_accounts(self: Any, *, now: datetime) -> list[int]:
        order: list[int] = []
        for r in self._claimable_rows(now):
            if r["account_id"] not in order:
                order.append(r["account_id"])
        return order

    async def claim_session(self: Any, *, account_id: int, worker_id: str, now: datetime,
                            lease_until: datetime) -> list[Any]:
        rows = [r for r in self._claimable_rows(now) if r["account_id"] == account_id]
        if not rows:
            return []
        session_id = rows[0]["session_id"]
        running = self.statuses(RUNNING)
        claimed = []
        for r in (r for r in rows if r["session_id"] == session_id):
            taken = await self._u.conditional_update(
                self.entity, r["id"], lambda row: row["status"] != running or row["lease_until"] < now,
                lambda row: {"status": running, "lease_owner": worker_id, "lease_until": lease_until,
                             "attempts": row["attempts"] + 1},
                CLAIM_COLUMNS)
            if taken is not None:
                claimed.append(self._u.entity(self.entity, r["id"]))
        return claimed

    async def renew(self: Any, *, turn_ids: Any, worker_id: str, lease_until: datetime) -> bool:
        running = self.statuses(RUNNING)
        won = 0
        for turn_id in turn_ids:
            won += await self._u.conditional_update(
                self.entity, turn_id, lambda r: r["lease_owner"] == worker_id and r["status"] == running,
                lambda r: {"lease_until": lease_until}, ["lease_until"]) is not None
        return won == len(turn_ids)

    async def finish_batch(self: Any, *, turn_ids: Any, worker_id: str, status: str, now: datetime,
                           error: str | None = None) -> bool:
        won = 0
        for turn_id in turn_ids:
            won += await self._finish(turn_id, worker_id=worker_id, status=status, now=now, extra={"error": error})
        return won == len(turn_ids)

    async def cancel_open(self: Any, *, account_id: int, session_id: int, now: datetime) -> list[int]:
        open_statuses = {self.statuses(PENDING), self.statuses(RUNNING)}
        ids = []
        for r in self._rows(self.entity):
            if r["account_id"] == account_id and r["session_id"] == session_id and r["status"] in open_statuses:
                if await self._u.conditional_update(
                        self.entity, r["id"], lambda row: row["status"] in open_statuses,
                        lambda row: {"status": "cancelled", "finished_at": now, "lease_owner": None, "lease_until": None},
                        FINISH_COLUMNS) is not None:
                    ids.append(r["id"])
        return sorted(ids)
