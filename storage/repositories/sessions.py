"""Sessions, with the two race-safe statements the engine relies on (R1, R19)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from core.errors import NotFound
from core.models import Session, SessionStatus
from storage.repositories.base import SqlRepository
from storage.tables import members, sessions

# Columns compare_and_set_status may set besides status/updated_at.
_FORBIDDEN_CAS_VALUES = frozenset({"id", "account_id", "status", "updated_at", "state_version"})


def check_cas_values(values: dict[str, Any] | None) -> dict[str, Any]:
    """Only real session columns, and none that the statement itself owns."""
    values = dict(values or {})
    unknown = set(values) - set(sessions.c.keys())
    forbidden = set(values) & _FORBIDDEN_CAS_VALUES
    if unknown or forbidden:
        raise ValueError(f"compare_and_set_status cannot set {sorted(unknown | forbidden)}")
    return values


class SqlSessionRepository(SqlRepository):
    async def add(self, session: Session) -> Session:
        return await self._add(session)

    async def get(self, *, account_id: int, session_id: int) -> Session | None:
        stmt = select(Session).where(sessions.c.id == session_id, sessions.c.account_id == account_id)
        result: Session | None = await self._first(stmt)
        return result

    async def list(
        self,
        *,
        account_id: int,
        statuses: Sequence[SessionStatus] | None = None,
        handler_id: int | None = None,
        limit: int = 50,
    ) -> list[Session]:
        stmt = select(Session).where(sessions.c.account_id == account_id)
        if statuses is not None:
            stmt = stmt.where(sessions.c.status.in_([SessionStatus(s) for s in statuses]))
        if handler_id is not None:
            stmt = stmt.where(sessions.c.handler_id == handler_id)
        stmt = stmt.order_by(sessions.c.updated_at.desc(), sessions.c.id.desc()).limit(limit)
        return await self._all(stmt)

    async def version_for_member(self, *, account_id: int, session_id: int, member_id: int) -> int | None:
        stmt = (
            select(sessions.c.state_version)
            .join(members, members.c.account_id == sessions.c.account_id)
            .where(sessions.c.id == session_id, sessions.c.account_id == account_id,
                   members.c.id == member_id, members.c.active.is_(True))
        )
        found = (await self._session.execute(stmt)).scalar_one_or_none()
        return int(found) if found is not None else None

    async def find_by_thread(self, *, account_id: int, thread_ref: str) -> Session | None:
        """The newest session bound to the thread."""
        stmt = (
            select(Session)
            .where(sessions.c.account_id == account_id, sessions.c.thread_ref == thread_ref)
            .order_by(sessions.c.id.desc())
        )
        result: Session | None = await self._first(stmt)
        return result

    async def bump_state_version(self, *, account_id: int, session_id: int) -> int:
        """One `UPDATE ... SET state_version = state_version + 1 ... RETURNING` (R1)."""
        stmt = (
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.account_id == account_id)
            .values(state_version=sessions.c.state_version + 1)
            .returning(sessions.c.state_version)
        )
        row = (await self._update(stmt)).first()
        if row is None:
            raise NotFound("That session was not found.", reason="session.not_found", params={"session_id": session_id})
        new_version = int(row[0])
        loaded = self._loaded(Session, session_id)
        if loaded is not None:
            set_committed_value(loaded, "state_version", new_version)
        return new_version

    async def compare_and_set_status(
        self,
        *,
        account_id: int,
        session_id: int,
        expected: Sequence[SessionStatus],
        new: SessionStatus,
        now: datetime,
        values: dict[str, Any] | None = None,
    ) -> bool:
        extra = check_cas_values(values)
        stmt = (
            update(sessions)
            .where(
                sessions.c.id == session_id,
                sessions.c.account_id == account_id,
                sessions.c.status.in_([SessionStatus(s) for s in expected]),
            )
            .values(status=SessionStatus(new), updated_at=now, **extra)
        )
        won = (await self._update(stmt)).rowcount == 1
        await self._refresh_loaded(Session, session_id, ["status", "updated_at", *extra])
        return won
