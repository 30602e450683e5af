"""What ties the engine to chat platforms (core/platform.py): tenant links, the durable inbox,
surface references and connect codes. The inbox and the lookups that find an account
(`tenants.find`, `surface_refs.find_any`, `connect_codes.find`/`redeem`) are unscoped by design:
they run before the account is known."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Insert, Table, and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from core.platform import ConnectCode, InboundDelivery, InboundStatus, SurfaceRef, TenantLink
from storage.mapping import attach_inserted
from storage.repositories.base import SqlRepository, conflict_from, flush
from storage.repositories.leases import SqlLeasedQueue
from storage.tables import connect_codes, inbound_deliveries, surface_refs, tenant_links

_REPLACED_REF_FIELDS = ("ref", "session_id", "updated_at")
_REDEEM_COLUMNS = ("used_at", "used_by_platform", "used_by_tenant")


class SqlTenantRepository(SqlRepository):
    async def add(self, link: TenantLink) -> TenantLink:
        """A workspace or tenant already linked, to this or any account, raises Conflict."""
        return await self._add(link)

    async def find(self, *, platform: str, external_id: str) -> TenantLink | None:
        stmt = select(TenantLink).where(
            tenant_links.c.platform == platform, tenant_links.c.external_id == external_id
        )
        result: TenantLink | None = await self._first(stmt)
        return result

    async def list(self, *, account_id: int) -> list[TenantLink]:
        """Oldest first (by id)."""
        stmt = (
            select(TenantLink)
            .where(tenant_links.c.account_id == account_id)
            .order_by(tenant_links.c.id)
        )
        return await self._all(stmt)


class SqlInboundRepository(SqlLeasedQueue[InboundDelivery]):
    """claim_next comes from SqlLeasedQueue. The table has no account_id (see tables/queues.py)."""

    entity = InboundDelivery
    table = inbound_deliveries
    statuses = InboundStatus

    def _claimable(self, now: datetime) -> ColumnElement[bool]:
        """Only the oldest open delivery of a thread: the next waits until it is finished, so
        one thread's messages are handled in order while other threads run alongside (R37)."""
        c = self.table.c
        earlier = aliased(self.table)
        ahead = exists().where(earlier.c.thread_key == c.thread_key, earlier.c.id < c.id,
                               earlier.c.status.in_([InboundStatus.PENDING, InboundStatus.RUNNING]))
        return and_(super()._claimable(now), or_(c.thread_key.is_(None), ~ahead))

    async def accept(self, delivery: InboundDelivery) -> bool:
        """`INSERT … ON CONFLICT (platform, key) DO NOTHING RETURNING id`: a duplicate, even one
        a concurrent transaction is inserting right now, neither raises nor aborts the
        transaction; PostgreSQL makes the second insert wait for the first to commit or roll back.
        When inserted, `delivery` gets its id and becomes a live entity of this unit of work."""
        values = {c.name: getattr(delivery, c.name) for c in self.table.c if c.name != "id"}
        stmt = _insert_ignoring_duplicates(self.dialect, self.table, values, ("platform", "key"))
        try:
            new_id = (await self._update(stmt.returning(self.table.c.id))).scalar_one_or_none()
        except IntegrityError as error:  # not a duplicate: a missing value
            raise conflict_from(error) from error
        if new_id is None:
            return False
        delivery.id = int(new_id)
        attach_inserted(self._session.sync_session, delivery)
        return True

    async def accept_many(self, deliveries: Sequence[InboundDelivery]) -> list[bool]:
        """`INSERT … ON CONFLICT DO NOTHING RETURNING platform, key, id` for every row in one
        execution: the rows it returns are the fresh ones. Ids are set; the entities stay detached (nobody edits them)."""
        first: dict[tuple[str, str], InboundDelivery] = {}
        for delivery in deliveries:
            first.setdefault((delivery.platform, delivery.key), delivery)
        if not first:
            return []
        names = [c.name for c in self.table.c if c.name != "id"]
        rows = [{name: getattr(d, name) for name in names} for d in first.values()]
        await flush(self._session)
        try:  # one statement, compiled once, run for every row (SQLAlchemy's insertmanyvalues)
            inserted = (await self._session.execute(_accept_statement(self.dialect), rows)).all()
        except IntegrityError as error:
            raise conflict_from(error) from error
        fresh = {(platform, key): int(new_id) for platform, key, new_id in inserted}
        results = []
        for delivery in deliveries:
            identity = (delivery.platform, delivery.key)
            won = identity in fresh and first[identity] is delivery
            if won:
                delivery.id = fresh[identity]
            results.append(won)
        return results

    async def get(self, *, delivery_id: int) -> InboundDelivery | None:
        stmt = select(InboundDelivery).where(self.table.c.id == delivery_id)
        result: InboundDelivery | None = await self._first(stmt)
        return result

    async def finish(
        self,
        *,
        delivery_id: int,
        worker_id: str,
        status: str,
        now: datetime,
        error: str | None = None,
    ) -> bool:
        """Only the lease holder of a running delivery may finish it; `error` is recorded either
        way (also on a hand-back to pending)."""
        return await self._finish(
            delivery_id, worker_id=worker_id, status=status, now=now, extra={"error": error}
        )

    async def count_open(self, *, account_id: int | None = None) -> int:
        """Pending or running deliveries. There is no account to filter by: passing one is a bug."""
        if account_id is not None:
            raise TypeError("the inbound inbox is not scoped by account")
        return await super().count_open()

    async def prune(self, *, finished_before: datetime) -> int:
        """Delete done/failed deliveries finished before `finished_before`; returns how many.
        Loaded copies of deleted rows leave this unit of work."""
        stmt = (
            delete(InboundDelivery)
            .where(self.table.c.finished_at < finished_before)
            .execution_options(synchronize_session="fetch")
        )
        return int((await self._update(stmt)).rowcount)


_ACCEPT_STATEMENTS: dict[str, Any] = {}


def _accept_statement(dialect: str) -> Any:
    """The inbox's insert-or-ignore with RETURNING, built once per dialect: a burst of requests
    must not pay for compiling a many-row VALUES clause on every flush."""
    if dialect not in _ACCEPT_STATEMENTS:
        table = inbound_deliveries
        plain = _insert_ignoring_duplicates(dialect, table, None, ("platform", "key"))
        _ACCEPT_STATEMENTS[dialect] = plain.returning(table.c.platform, table.c.key, table.c.id)
    return _ACCEPT_STATEMENTS[dialect]


def _insert_ignoring_duplicates(
    dialect: str, table: Table, values: dict[str, Any] | None, unique: tuple[str, ...]
) -> Insert:
    """INSERT … ON CONFLICT (unique) DO NOTHING, in the dialect's own spelling; without `values`
    the parameters come with the execution (one row or many)."""
    if dialect == "postgresql":
        stmt = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:
        raise NotImplementedError(f"no insert-or-ignore for {dialect!r}")
    if values is not None:
        stmt = stmt.values(values)
    return stmt.on_conflict_do_nothing(index_elements=unique)


class SqlSurfaceRefRepository(SqlRepository):
    async def put(self, ref: SurfaceRef) -> SurfaceRef:
        """Insert, or copy `ref`, `session_id` and `updated_at` onto the existing row of
        (account_id, surface, key), which keeps its id, and return that live row; the argument
        then stays detached. Two first-time puts of one key racing: the second raises Conflict
        (here or on commit; UNIQUE(account_id, surface, key)), and its caller may retry."""
        existing = await self.get(account_id=ref.account_id, surface=ref.surface, key=ref.key)
        if existing is None:
            return await self._add(ref)
        if existing is not ref:
            for name in _REPLACED_REF_FIELDS:
                setattr(existing, name, getattr(ref, name))
        await flush(self._session)
        return existing

    async def get(self, *, account_id: int, surface: str, key: str) -> SurfaceRef | None:
        c = surface_refs.c
        stmt = select(SurfaceRef).where(c.account_id == account_id, c.surface == surface, c.key == key)
        result: SurfaceRef | None = await self._first(stmt)
        return result

    async def list(
        self, *, account_id: int, key_prefix: str, surface: str | None = None
    ) -> list[SurfaceRef]:
        """Keys starting with `key_prefix`, taken literally (`%`, `_` and escapes in it match
        themselves) and case-sensitively on both backends; oldest first (by id)."""
        c = surface_refs.c
        stmt = select(SurfaceRef).where(c.account_id == account_id)
        if key_prefix:
            # LIKE narrows; SQLite's LIKE ignores ASCII case, so the substr test makes it exact.
            stmt = stmt.where(
                c.key.startswith(key_prefix, autoescape=True),
                func.substr(c.key, 1, len(key_prefix)) == key_prefix,
            )
        if surface is not None:
            stmt = stmt.where(c.surface == surface)
        return await self._all(stmt.order_by(c.id))

    async def find_any(self, *, surface: str, key: str) -> SurfaceRef | None:
        """Across accounts; should two accounts hold the key, the oldest row wins."""
        c = surface_refs.c
        stmt = select(SurfaceRef).where(c.surface == surface, c.key == key).order_by(c.id).limit(1)
        result: SurfaceRef | None = await self._first(stmt)
        return result


class SqlConnectCodeRepository(SqlRepository):
    async def add(self, code: ConnectCode) -> ConnectCode:
        """A code_hash already stored raises Conflict."""
        return await self._add(code)

    async def find(self, *, code_hash: str) -> ConnectCode | None:
        stmt = select(ConnectCode).where(connect_codes.c.code_hash == code_hash)
        result: ConnectCode | None = await self._first(stmt)
        return result

    async def redeem(
        self, *, code_hash: str, now: datetime, platform: str, tenant: str
    ) -> ConnectCode | None:
        """`UPDATE … WHERE code_hash = ? AND used_at IS NULL AND expires_at > now`: of concurrent
        redeemers exactly one gets the row back. A copy this unit already holds shows the row's
        current use afterwards, won or lost."""
        c = connect_codes.c
        stmt = (
            update(connect_codes)
            .where(c.code_hash == code_hash, c.used_at.is_(None), c.expires_at > now)
            .values(used_at=now, used_by_platform=platform, used_by_tenant=tenant)
            .returning(c.id)
        )
        won_id = (await self._update(stmt)).scalar_one_or_none()
        if won_id is None:
            for held in list(self._session.identity_map.values()):
                if isinstance(held, ConnectCode) and held.code_hash == code_hash and held.id is not None:
                    await self._refresh_loaded(ConnectCode, held.id, _REDEEM_COLUMNS)
            return None
        await self._refresh_loaded(ConnectCode, int(won_id), _REDEEM_COLUMNS)
        redeemed: ConnectCode | None = await self._session.get(ConnectCode, int(won_id))
        return redeemed
