"""The committed state behind tests/fakes/memory_uow.py: rows, id sequences, row locks and the
unique keys that insert-if-absent statements hold while in flight. Units of work read copies of it
and write back on commit."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from tests.fakes.memory_rows import ENTITIES

if TYPE_CHECKING:
    from tests.fakes.memory_uow import MemoryUnitOfWork

LOCK_WAIT_SECONDS = 5.0

Row = dict[str, Any]
Key = tuple[type[Any], int]
# (entity class, unique column names, their values): an insert-if-absent in flight.
Reservation = tuple[type[Any], tuple[str, ...], tuple[Any, ...]]


class MemoryStore:
    """Committed rows (plain dicts, never handed out), id counters, row locks, and the unique
    keys that uncommitted insert-if-absent statements hold (as a unique index entry would)."""

    def __init__(self) -> None:
        self.rows: dict[type[Any], dict[int, Row]] = {cls: {} for cls in ENTITIES}
        self.locks: dict[Key, MemoryUnitOfWork] = {}
        self.reserved: dict[Reservation, MemoryUnitOfWork] = {}
        self._next_ids: dict[type[Any], int] = {cls: 1 for cls in ENTITIES}
        self._released: asyncio.Event | None = None

    def new_id(self, cls: type[Any]) -> int:
        """Like a sequence: ids of rolled-back inserts are not reused."""
        value = self._next_ids[cls]
        self._next_ids[cls] = value + 1
        return value

    def release(self, uow: MemoryUnitOfWork) -> None:
        for key in [k for k, holder in self.locks.items() if holder is uow]:
            del self.locks[key]
        for reservation in [r for r, holder in self.reserved.items() if holder is uow]:
            del self.reserved[reservation]
        if self._released is not None:
            self._released.set()
            self._released = None

    async def wait_release(self) -> None:
        if self._released is None:
            self._released = asyncio.Event()
        await asyncio.wait_for(self._released.wait(), LOCK_WAIT_SECONDS)
