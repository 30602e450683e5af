"""Shared plumbing for the SQL repositories: scoped queries, flushes that speak core's errors,
and keeping already-loaded entities in step after a conditional UPDATE."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Executable, Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from core.errors import Conflict

T = TypeVar("T")


def conflict_from(error: IntegrityError) -> Conflict:
    """A unique or foreign-key violation as a domain conflict. The transaction is then unusable:
    the caller must leave the unit of work without committing (it rolls back)."""
    detail = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
    return Conflict(f"The change conflicts with existing data ({detail}).", reason="storage.conflict", params={"detail": detail})


async def flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        raise conflict_from(error) from error


class SqlRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @property
    def dialect(self) -> str:
        bind = self._session.bind
        return bind.dialect.name if bind is not None else ""

    async def _add(self, entity: T) -> T:
        """Insert now, so the id is assigned on `add` (as the memory fake does)."""
        self._session.add(entity)
        await flush(self._session)
        return entity

    async def _first(self, stmt: Select[Any]) -> Any:
        return (await self._session.scalars(stmt)).first()

    async def _all(self, stmt: Select[Any]) -> list[Any]:
        return list((await self._session.scalars(stmt)).all())

    async def _scalar(self, stmt: Select[Any]) -> Any:
        """A Core (non-entity) query: flush first, as autoflush only covers entity queries."""
        await flush(self._session)
        return (await self._session.execute(stmt)).scalar_one()

    async def _scalars(self, stmt: Select[Any]) -> list[Any]:
        await flush(self._session)
        return list((await self._session.scalars(stmt)).all())

    async def _update(self, stmt: Executable) -> CursorResult[Any]:
        """Run one conditional UPDATE after flushing pending changes, so it sees them."""
        await flush(self._session)
        return cast(CursorResult[Any], await self._session.execute(stmt))

    def _loaded(self, cls: type[T], entity_id: int) -> T | None:
        obj: T | None = self._session.identity_map.get(identity_key(cls, entity_id))
        return obj

    async def _refresh_loaded(self, cls: type[Any], entity_id: int, names: Sequence[str]) -> None:
        """After a Core UPDATE the identity map is stale: re-read the touched columns of an
        entity this unit of work already holds (winner and loser alike see the current row)."""
        obj = self._loaded(cls, entity_id)
        if obj is not None:
            await self._session.refresh(obj, attribute_names=list(names))
