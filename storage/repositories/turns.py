"""The durable queue of assistant turns: leased by one worker at a time, answered once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core.models import PendingTurn, TurnStatus
from storage.repositories.leases import SqlLeasedQueue
from storage.tables import pending_turns as turns


class SqlTurnRepository(SqlLeasedQueue[PendingTurn]):
    """claim_next and count_open come from SqlLeasedQueue."""

    entity = PendingTurn
    table = turns
    statuses = TurnStatus

    async def add(self, turn: PendingTurn) -> PendingTurn:
        return await self._add(turn)

    async def get(self, *, account_id: int, turn_id: int) -> PendingTurn | None:
        stmt = select(PendingTurn).where(turns.c.id == turn_id, turns.c.account_id == account_id)
        result: PendingTurn | None = await self._first(stmt)
        return result

    async def finish(
        self, *, turn_id: int, worker_id: str, status: str, now: datetime, error: str | None = None
    ) -> bool:
        """Only the lease holder of a running turn may finish it; `error` is recorded either way
        (including on a hand-back to pending)."""
        return await self._finish(
            turn_id, worker_id=worker_id, status=status, now=now, extra={"error": error}
        )
