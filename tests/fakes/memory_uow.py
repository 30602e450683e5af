"""An in-memory UnitOfWork with the observable behaviour of storage/ (tests/storage proves it by
running one suite against both). Core unit tests use it:

    store = MemoryStore()
    uow_factory = memory_uow_factory(store)
    async with uow_factory() as uow: ...; await uow.commit()

Like the SQL one: ids are assigned on `add`; each unit of work has its own copies of the rows it
reads (an identity map), so changes reach other units only on commit and vanish on rollback;
queries see the unit's own uncommitted changes (autoflush); foreign keys, unique keys and NOT NULL
are enforced (a violation raises core's Conflict, after which the unit must be left); the
race-safe methods behave like conditional UPDATEs under PostgreSQL row locks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Self

from core.events import Event
from core.ports.handoff import DraftTemplateRepository, HandoffRepository, NotificationRepository, WriteupRepository
from core.ports.people import AccountRepository, MemberRepository
from core.ports.platform import (
    BoardStatusRepository,
    ConnectCodeRepository,
    PsaConnectionRepository,
    PsaMemberLinkRepository,
    SurfaceRefRepository,
    TenantRepository,
)
from core.ports.queues import InboundRepository, TurnRepository, WritebackRepository
from core.ports.session import FactRepository, FixRepository, SessionRepository, StepRepository, TaskItemRepository
from tests.fakes.memory_repos import (
    MemoryAccounts,
    MemoryFacts,
    MemoryFixes,
    MemoryItems,
    MemoryMembers,
    MemorySessions,
    MemorySteps,
)
from tests.fakes.memory_repos_escalation import (
    MemoryDrafts,
    MemoryHandoffs,
    MemoryNotifications,
    MemoryTurns,
    MemoryWriteups,
)
from tests.fakes.memory_repos_platform import (
    MemoryConnectCodes,
    MemoryInbound,
    MemorySurfaceRefs,
    MemoryTenants,
)
from tests.fakes.memory_repos_psa import (
    MemoryBoardStatuses,
    MemoryPsaConnections,
    MemoryPsaMemberLinks,
    MemoryWritebacks,
)
from tests.fakes.memory_rows import (
    FOREIGN_KEYS,
    UNIQUE_KEYS,
    clone,
    constraint_conflict,
    normalize,
    same,
    values_of,
)
from tests.fakes.memory_store import Key, MemoryStore, Reservation, Row


@dataclass
class _Loaded:
    entity: Any
    base: Row | None  # the row as this unit last knew it; None = inserted here, not committed


class MemoryUnitOfWork:
    accounts: AccountRepository
    members: MemberRepository
    sessions: SessionRepository
    steps: StepRepository
    items: TaskItemRepository
    facts: FactRepository
    fixes: FixRepository
    handoffs: HandoffRepository
    writeups: WriteupRepository
    turns: TurnRepository
    notifications: NotificationRepository
    drafts: DraftTemplateRepository
    writebacks: WritebackRepository
    psa_connections: PsaConnectionRepository
    board_statuses: BoardStatusRepository
    psa_members: PsaMemberLinkRepository
    tenants: TenantRepository
    inbound: InboundRepository
    surface_refs: SurfaceRefRepository
    connect_codes: ConnectCodeRepository

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._loaded: dict[Key, _Loaded] = {}
        self._deleted: set[Key] = set()
        self._open = False
        self._poisoned = False
        self._task: asyncio.Task[Any] | None = None
        self.events: list[Event] = []
        self.committed = False

    async def __aenter__(self) -> Self:
        if self._open:
            raise RuntimeError("this unit of work is already open; ask the factory for another")
        self._open, self._task = True, asyncio.current_task()
        self.events, self.committed = [], False
        self._reset()
        self.accounts, self.members = MemoryAccounts(self), MemoryMembers(self)
        self.sessions, self.steps = MemorySessions(self), MemorySteps(self)
        self.items, self.facts, self.fixes = MemoryItems(self), MemoryFacts(self), MemoryFixes(self)
        self.handoffs, self.writeups = MemoryHandoffs(self), MemoryWriteups(self)
        self.turns, self.notifications = MemoryTurns(self), MemoryNotifications(self)
        self.drafts = MemoryDrafts(self)
        self.writebacks, self.psa_connections = MemoryWritebacks(self), MemoryPsaConnections(self)
        self.board_statuses, self.psa_members = MemoryBoardStatuses(self), MemoryPsaMemberLinks(self)
        self.tenants, self.inbound = MemoryTenants(self), MemoryInbound(self)
        self.surface_refs, self.connect_codes = MemorySurfaceRefs(self), MemoryConnectCodes(self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._reset()
        self._open = False

    async def rollback(self) -> None:
        self._require_open()
        self._reset()

    async def commit(self) -> None:
        self.usable()
        changed = {key: d for key, loaded in self._loaded.items() if (d := self._dirty(key, loaded))}
        for key in changed:
            await self._lock(key)
        try:
            final: dict[Key, Row] = {}
            for key, loaded in self._loaded.items():
                if loaded.base is None:
                    final[key] = normalize(key[0], values_of(loaded.entity))
                elif key in changed:
                    committed = self._store.rows[key[0]].get(key[1])
                    if committed is None:
                        raise constraint_conflict(key[0], f"row {key[1]} was deleted meanwhile")
                    final[key] = normalize(key[0], {**committed, **changed[key]})
            for key, row in final.items():
                self._check_constraints(key[0], key[1], row)
            for key in self._deleted:
                self._check_unreferenced(key)
        except Exception:
            self._poisoned = True
            raise
        for (cls, entity_id), row in final.items():
            self._store.rows[cls][entity_id] = clone(cls, row)
            self._loaded[(cls, entity_id)].base = clone(cls, row)
        for cls, entity_id in self._deleted:
            self._store.rows[cls].pop(entity_id, None)
        self._deleted.clear()
        self._store.release(self)
        self.committed = True

    # -- used by the repositories -------------------------------------------------------------

    def usable(self) -> None:
        self._require_open()
        if self._poisoned:
            raise RuntimeError("an earlier write failed: leave the unit of work (roll back) first")

    def add(self, entity: Any) -> Any:
        """Insert (id assigned now). As with SQLAlchemy's `session.add`, adding an entity this
        unit already holds is a no-op, and an entity kept from an earlier unit is re-attached."""
        self.usable()
        cls = type(entity)
        held = self._loaded.get((cls, entity.id)) if entity.id is not None else None
        if held is not None:
            if held.entity is not entity:
                raise RuntimeError(f"another {cls.__name__} object with id {entity.id} is held here")
            return entity
        if entity.id is not None and entity.id in self._store.rows[cls]:
            self._loaded[(cls, entity.id)] = _Loaded(entity, clone(cls, self._store.rows[cls][entity.id]))
            return entity
        entity_id = entity.id if entity.id is not None else self._store.new_id(cls)
        try:
            self._check_constraints(cls, entity_id, normalize(cls, values_of(entity)))
        except Exception:
            self._poisoned = True
            raise
        entity.id = entity_id
        self._loaded[(cls, entity_id)] = _Loaded(entity, None)
        return entity

    def row(self, cls: type[Any], entity_id: int) -> Row | None:
        """The row as a query in this unit sees it: committed state plus own changes. Read only."""
        if (cls, entity_id) in self._deleted:
            return None
        loaded = self._loaded.get((cls, entity_id))
        if loaded is not None and loaded.base is None:
            return values_of(loaded.entity)
        committed = self._store.rows[cls].get(entity_id)
        if committed is None or loaded is None:
            return committed
        return {**committed, **self._dirty((cls, entity_id), loaded)}

    def ids(self, cls: type[Any]) -> Iterable[int]:
        own_new = [k[1] for k, v in self._loaded.items() if k[0] is cls and v.base is None]
        return [*self._store.rows[cls], *own_new]

    def entity(self, cls: type[Any], entity_id: int) -> Any:
        """This unit's copy of the row (one object per row, like an identity map)."""
        key = (cls, entity_id)
        if key not in self._loaded:
            committed = self._store.rows[cls][entity_id]
            self._loaded[key] = _Loaded(cls(**clone(cls, committed)), clone(cls, committed))
        return self._loaded[key].entity

    def select(
        self,
        cls: type[Any],
        where: Callable[[Row], bool],
        order: Callable[[Row], Any],
        *,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Any]:
        self.usable()
        hits = [(i, r) for i in self.ids(cls) if (r := self.row(cls, i)) is not None and where(r)]
        hits.sort(key=lambda hit: order(hit[1]), reverse=descending)
        if limit is not None:
            hits = hits[: max(limit, 0)]
        return [self.entity(cls, i) for i, _ in hits]

    def locked_by_other(self, cls: type[Any], entity_id: int) -> bool:
        return self._store.locks.get((cls, entity_id)) not in (None, self)

    async def conditional_update(
        self,
        cls: type[Any],
        entity_id: int,
        where: Callable[[Row], bool],
        changes: Callable[[Row], Row],
        refresh: Sequence[str],
    ) -> Row | None:
        """`UPDATE ... WHERE <where>` on one row: waits while another unit holds the row, then
        re-checks (as PostgreSQL does). Returns the changes, or None when no row matched.
        Either way a copy this unit already holds shows the current values of `refresh`."""
        self.usable()
        key = (cls, entity_id)
        while True:
            row = self.row(cls, entity_id)
            if row is None:
                return None
            if not where(row):
                self._sync(key, row, {}, refresh)
                return None
            own_insert = key in self._loaded and self._loaded[key].base is None
            if own_insert or not self.locked_by_other(cls, entity_id):
                break
            await self._wait_unlocked(key)
        if not own_insert:
            self._store.locks[key] = self
        new = changes(row)
        self.entity(cls, entity_id)
        self._sync(key, row, new, refresh)
        return new

    async def insert_unless_exists(self, entity: Any, unique: tuple[str, ...]) -> bool:
        """`INSERT … ON CONFLICT (unique) DO NOTHING`: False (nothing raised, the unit stays
        usable) when a row this unit sees has the key. While another unit's uncommitted insert
        holds the key, wait for its commit or rollback and decide then, as PostgreSQL does.
        The id always comes from the sequence, as the SQL statement leaves it out."""
        self.usable()
        cls = type(entity)
        wanted = tuple(getattr(entity, name) for name in unique)
        reservation: Reservation = (cls, unique, wanted)
        while True:
            if any(tuple(row[name] for name in unique) == wanted for row in self._visible(cls)):
                return False
            holder = self._store.reserved.get(reservation)
            if holder is None or holder is self:
                break
            await self._wait_for(holder, f"{cls.__name__} {wanted}")
        self._store.reserved[reservation] = self
        entity.id = None
        self.add(entity)
        return True

    async def delete_where(self, cls: type[Any], where: Callable[[Row], bool]) -> int:
        """`DELETE ... WHERE <where>`: locks each matching row (waiting for, then re-checking,
        rows another unit holds); gone for this unit now, for the others on commit. Copies this
        unit held leave it. Returns how many rows went."""
        self.usable()
        count = 0
        for entity_id in list(self.ids(cls)):
            key = (cls, entity_id)
            while (row := self.row(cls, entity_id)) is not None and where(row):
                loaded = self._loaded.get(key)
                if loaded is not None and loaded.base is None:
                    del self._loaded[key]  # inserted here: the insert simply never happens
                elif self.locked_by_other(cls, entity_id):
                    await self._wait_unlocked(key)
                    continue
                else:
                    self._store.locks[key] = self
                    self._loaded.pop(key, None)
                    self._deleted.add(key)
                count += 1
                break
        return count

    # -- internals -----------------------------------------------------------------------------

    def _visible(self, cls: type[Any]) -> Iterable[Row]:
        return [row for i in self.ids(cls) if (row := self.row(cls, i)) is not None]

    def _check_unreferenced(self, key: Key) -> None:
        """A deleted row no remaining row points at (the foreign keys, from the other side)."""
        for cls, references in FOREIGN_KEYS.items():
            for name, target in references.items():
                if target is key[0] and any(row[name] == key[1] for row in self._visible(cls)):
                    raise constraint_conflict(key[0], f"row {key[1]} is still used by {cls.__name__}.{name}")

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError("use the unit of work inside `async with`")

    def _reset(self) -> None:
        self._loaded.clear()
        self._deleted.clear()
        self._poisoned = False
        self._store.release(self)

    def _dirty(self, key: Key, loaded: _Loaded) -> Row:
        if loaded.base is None:
            return {}
        base = loaded.base
        return {
            k: v for k, v in values_of(loaded.entity).items() if not same(key[0], k, v, base[k])
        }

    def _sync(self, key: Key, row: Row, new: Row, names: Iterable[str]) -> None:
        loaded = self._loaded.get(key)
        if loaded is None:
            return
        committed = self._store.rows[key[0]].get(key[1])
        for name in {*names, *new}:
            if loaded.base is not None and committed is not None:
                loaded.base[name] = committed[name]
            setattr(loaded.entity, name, new.get(name, row[name]))

    async def _wait_unlocked(self, key: Key) -> None:
        while (holder := self._store.locks.get(key)) not in (None, self):
            assert holder is not None
            await self._wait_for(holder, f"{key[0].__name__} {key[1]}")

    async def _wait_for(self, holder: MemoryUnitOfWork, what: str) -> None:
        """Until some unit releases what it holds (the caller then looks again)."""
        if holder._task is asyncio.current_task():
            raise RuntimeError("nested units of work in one task would deadlock on this row")
        try:
            await self._store.wait_release()
        except TimeoutError:
            raise RuntimeError(f"{what} stayed locked too long") from None

    async def _lock(self, key: Key) -> None:
        await self._wait_unlocked(key)
        self._store.locks[key] = self

    def _check_constraints(self, cls: type[Any], entity_id: int, row: Row) -> None:
        for name, target in FOREIGN_KEYS[cls].items():
            if row[name] is not None and self.row(target, row[name]) is None:
                raise constraint_conflict(cls, f"{name}={row[name]} has no {target.__name__}")
        for names in UNIQUE_KEYS.get(cls, ()):
            wanted = tuple(row[n] for n in names)
            for other_id in self.ids(cls):
                other = self.row(cls, other_id)
                if other_id != entity_id and other and tuple(other[n] for n in names) == wanted:
                    raise constraint_conflict(cls, f"duplicate {', '.join(names)}")


class MemoryUnitOfWorkFactory:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store)


def memory_uow_factory(store: MemoryStore | None = None) -> MemoryUnitOfWorkFactory:
    """A UnitOfWorkFactory over `store` (a fresh one when omitted; reach it as `.store`)."""
    return MemoryUnitOfWorkFactory(store if store is not None else MemoryStore())
