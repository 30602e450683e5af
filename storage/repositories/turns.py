"""The durable queue of assistant turns (R37): a session's open turns are claimed together, by one
worker at a time, while other sessions' turns run elsewhere; answered once, with renewed leases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, select, update
from sqlalchemy.orm import aliased

from core.models import PendingTurn, TurnStatus
from storage.repositories.leases import CANDIDATES_PER_CLAIM, SqlLeasedQueue
from storage.tables import pending_turns as turns

# pg_try_advisory_xact_lock(namespace, session_id): one claimer per session at a time on PostgreSQL,
# where READ COMMITTED would let two claimers each see the other's session as idle.
SESSION_LOCK_NAMESPACE = 0x52_46_54  # "RFT"
OPEN = (TurnStatus.PENDING, TurnStatus.RUNNING)


class SqlTurnRepository(SqlLeasedQueue[PendingTurn]):
    """claim_next (oldest single turn) and count_open come from SqlLeasedQueue."""

    entity = PendingTurn
    table = turns
    statuses = TurnStatus

    async def add(self, turn: PendingTurn) -> PendingTurn:
        return await self._add(turn)

    async def get(self, *, account_id: int, turn_id: int) -> PendingTurn | None:
        stmt = select(PendingTurn).where(turns.c.id == turn_id, turns.c.account_id == account_id)
        result: PendingTurn | None = await self._first(stmt)
        return result

    def _session_busy(self, now: datetime) -> ColumnElement[bool]:
        """Some turn of the row's session is running under a live lease."""
        other = aliased(turns)
        return exists().where(other.c.session_id == turns.c.session_id,
                              other.c.status == TurnStatus.RUNNING, other.c.lease_until >= now)

    async def waiting_accounts(self, *, now: datetime) -> list[int]:
        """Accounts with a claimable turn in an idle session, the longest waiting first."""
        stmt = (select(turns.c.account_id).where(self._claimable(now), ~self._session_busy(now))
                .group_by(turns.c.account_id).order_by(func.min(turns.c.id)))
        return [int(a) for a in await self._scalars(stmt)]

    async def claim_session(self, *, account_id: int, worker_id: str, now: datetime,
                            lease_until: datetime) -> list[PendingTurn]:
        """The account's idle session waiting longest: all its claimable turns, oldest first, taken
        in one conditional UPDATE that re-checks no other turn of it runs. Empty on a lost race."""
        c = turns.c
        pick = (select(c.session_id).where(c.account_id == account_id, self._claimable(now), ~self._session_busy(now))
                .group_by(c.session_id).order_by(func.min(c.id)).limit(CANDIDATES_PER_CLAIM))
        for session_id in await self._scalars(pick):
            if self.dialect == "postgresql" and not await self._scalar(
                    select(func.pg_try_advisory_xact_lock(SESSION_LOCK_NAMESPACE, session_id))):
                continue
            other = aliased(turns)
            live = exists().where(other.c.session_id == session_id, other.c.status == TurnStatus.RUNNING,
                                  other.c.lease_until >= now)
            stmt = (update(turns)
                    .where(c.session_id == session_id, c.account_id == account_id, self._claimable(now), ~live)
                    .values(status=TurnStatus.RUNNING, lease_owner=worker_id, lease_until=lease_until,
                            attempts=c.attempts + 1)
                    .returning(*turns.c))
            # The UPDATE hands back the claimed rows as entities: no second read. populate_existing
            # brings an entity this unit of work already holds up to the row.
            claimed = select(PendingTurn).from_statement(stmt).execution_options(populate_existing=True)
            if loaded := await self._scalars(claimed):
                return sorted(loaded, key=lambda t: t.id or 0)
        return []

    async def renew(self, *, turn_ids: Sequence[int], worker_id: str, lease_until: datetime) -> bool:
        """Extend the lease of a running batch; False when any turn of it is no longer ours."""
        c = turns.c
        stmt = (update(turns).where(c.id.in_(turn_ids), c.lease_owner == worker_id, c.status == TurnStatus.RUNNING)
                .values(lease_until=lease_until))
        return (await self._update(stmt)).rowcount == len(turn_ids)

    async def finish_batch(self, *, turn_ids: Sequence[int], worker_id: str, status: str, now: datetime,
                           error: str | None = None) -> bool:
        """All of the batch or nothing (the caller then leaves without committing): a batch whose
        lease another worker took over is that worker's to answer."""
        won = 0
        for turn_id in turn_ids:
            won += await self._finish(turn_id, worker_id=worker_id, status=status, now=now, extra={"error": error})
        return won == len(turn_ids)

    async def cancel_open(self, *, account_id: int, session_id: int, now: datetime) -> list[int]:
        """The engineer stopped the session's turn: its open turns end as cancelled (the messages
        stay); a worker still running one then loses the conditional finish."""
        c = turns.c
        where = and_(c.account_id == account_id, c.session_id == session_id, c.status.in_(OPEN))
        stmt = (update(turns).where(where)
                .values(status=TurnStatus.CANCELLED, finished_at=now, lease_owner=None, lease_until=None)
                .returning(c.id))
        return sorted(int(i) for i in (await self._update(stmt)).scalars().all())

    async def finish(
        self, *, turn_id: int, worker_id: str, status: str, now: datetime, error: str | None = None
    ) -> bool:
        """Only the lease holder of a running turn may finish it; `error` is recorded either way
        (including on a hand-back to pending)."""
        return await self._finish(
            turn_id, worker_id=worker_id, status=status, now=now, extra={"error": error}
        )
