"""Per-session label counters (F3, Q2, C1): one atomic statement hands out the next numbers, so
concurrent writers, in other processes too, never compute the same seq and lose an input to
UNIQUE(session_id, seq).

The statement is `INSERT … SELECT FROM sessions … ON CONFLICT (session_id, name) DO UPDATE …
RETURNING value`. PostgreSQL (READ COMMITTED) makes a second writer wait on the counter row until
the first commits, then updates the latest value; SQLite runs it as the transaction's write, under
its single writer lock (pysqlite opens the transaction just before this first DML statement, so it
meets the busy timeout rather than a stale snapshot). The counter is part of the transaction: a
rollback hands its numbers out again, and seq order is commit order.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.errors import NotFound
from storage.repositories.base import SqlRepository
from storage.tables import session_counters, sessions


def highest(seq: ColumnElement[int], *where: ColumnElement[bool]) -> ColumnElement[int]:
    """The highest `seq` stored where `where` holds (0 for none), as a subquery of the allocation."""
    return select(func.coalesce(func.max(seq), 0)).where(*where).scalar_subquery()


class CountingRepository(SqlRepository):
    async def _allocate(
        self, *, account_id: int, session_id: int, name: str, stored: ColumnElement[int], count: int
    ) -> int:
        """The first of `count` consecutive numbers for (session, name). `stored` is the highest
        seq already in the table: the counter never falls behind rows written without it (by a
        replica still on the previous release, or by hand), so those cannot collide either."""
        if count < 1:
            raise ValueError("allocate at least one number")
        dialect_insert = postgresql_insert if self.dialect == "postgresql" else sqlite_insert
        source = select(
            sessions.c.account_id, sessions.c.id, literal(name, session_counters.c.name.type), stored + count
        ).where(sessions.c.id == session_id, sessions.c.account_id == account_id)
        insert = dialect_insert(session_counters).from_select(
            ["account_id", "session_id", "name", "value"], source
        )
        bumped = session_counters.c.value + count
        upsert = insert.on_conflict_do_update(
            index_elements=[session_counters.c.session_id, session_counters.c.name],
            set_={"value": case((bumped > insert.excluded.value, bumped), else_=insert.excluded.value)},
        ).returning(session_counters.c.value)
        row = (await self._update(upsert)).first()
        if row is None:  # no such session in this account (R35)
            raise NotFound("That session was not found.", reason="session.not_found", params={"session_id": session_id})
        return int(row[0]) - count + 1
