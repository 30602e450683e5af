"""The in-memory platform repositories: tenant links, the inbound inbox (lease logic shared through
memory_leases.py), surface references and connect codes. Same filters, orderings, replace and
race semantics as storage/repositories/platform.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.platform import ConnectCode, InboundDelivery, InboundStatus, SurfaceRef, TenantLink
from tests.fakes.memory_leases import MemoryLeasedQueue
from tests.fakes.memory_repos import _first, _Repo

_REPLACED_REF_FIELDS = ("ref", "session_id", "updated_at")
_REDEEM_COLUMNS = ["used_at", "used_by_platform", "used_by_tenant"]


def _by_id(row: dict[str, object]) -> object:
    return row["id"]


class MemoryTenants(_Repo):
    async def add(self, link: TenantLink) -> TenantLink:
        result: TenantLink = self._u.add(link)
        return result

    async def find(self, *, platform: str, external_id: str) -> TenantLink | None:
        found = self._u.select(
            TenantLink,
            lambda r: r["platform"] == platform and r["external_id"] == external_id,
            _by_id,
        )
        result: TenantLink | None = _first(found)
        return result

    async def list(self, *, account_id: int) -> list[TenantLink]:
        return self._u.select(TenantLink, lambda r: r["account_id"] == account_id, _by_id)


class MemoryInbound(MemoryLeasedQueue[InboundDelivery]):
    """claim_next comes from MemoryLeasedQueue; there is no account_id."""

    entity = InboundDelivery
    statuses = InboundStatus

    def _also_claimable(self, row: dict[str, Any]) -> bool:
        key = row.get("thread_key")
        open_ = (InboundStatus.PENDING, InboundStatus.RUNNING)
        return key is None or not any(r.get("thread_key") == key and r["id"] < row["id"] and r["status"] in open_
                                      for r in self._rows(InboundDelivery))

    async def accept(self, delivery: InboundDelivery) -> bool:
        return await self._u.insert_unless_exists(delivery, ("platform", "key"))

    async def accept_many(self, deliveries: Sequence[InboundDelivery]) -> list[bool]:
        seen: set[tuple[str, str]] = set()
        results = []
        for delivery in deliveries:
            identity = (delivery.platform, delivery.key)
            results.append(identity not in seen and await self.accept(delivery))
            seen.add(identity)
        return results

    async def get(self, *, delivery_id: int) -> InboundDelivery | None:
        found = self._u.select(InboundDelivery, lambda r: r["id"] == delivery_id, _by_id)
        result: InboundDelivery | None = _first(found)
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
        return await self._finish(
            delivery_id, worker_id=worker_id, status=status, now=now, extra={"error": error}
        )

    async def count_open(self, *, account_id: int | None = None) -> int:
        if account_id is not None:
            raise TypeError("the inbound inbox is not scoped by account")
        return await super().count_open()

    async def prune(self, *, finished_before: datetime) -> int:
        return await self._u.delete_where(
            InboundDelivery,
            lambda r: r["finished_at"] is not None and r["finished_at"] < finished_before,
        )


class MemorySurfaceRefs(_Repo):
    async def put(self, ref: SurfaceRef) -> SurfaceRef:
        """Insert, or copy `ref`, `session_id` and `updated_at` onto the existing row."""
        existing = await self.get(account_id=ref.account_id, surface=ref.surface, key=ref.key)
        if existing is None:
            added: SurfaceRef = self._u.add(ref)
            return added
        if existing is not ref:
            for name in _REPLACED_REF_FIELDS:
                setattr(existing, name, getattr(ref, name))
        return existing

    async def get(self, *, account_id: int, surface: str, key: str) -> SurfaceRef | None:
        found = self._u.select(
            SurfaceRef,
            lambda r: (r["account_id"], r["surface"], r["key"]) == (account_id, surface, key),
            _by_id,
        )
        result: SurfaceRef | None = _first(found)
        return result

    async def list(
        self, *, account_id: int, key_prefix: str, surface: str | None = None
    ) -> list[SurfaceRef]:
        return self._u.select(
            SurfaceRef,
            lambda r: r["account_id"] == account_id
            and r["key"].startswith(key_prefix)
            and (surface is None or r["surface"] == surface),
            _by_id,
        )

    async def find_any(self, *, surface: str, key: str) -> SurfaceRef | None:
        found = self._u.select(
            SurfaceRef, lambda r: r["surface"] == surface and r["key"] == key, _by_id
        )
        result: SurfaceRef | None = _first(found)
        return result


class MemoryConnectCodes(_Repo):
    async def add(self, code: ConnectCode) -> ConnectCode:
        result: ConnectCode = self._u.add(code)
        return result

    async def find(self, *, code_hash: str) -> ConnectCode | None:
        found = self._u.select(ConnectCode, lambda r: r["code_hash"] == code_hash, _by_id)
        result: ConnectCode | None = _first(found)
        return result

    async def redeem(
        self, *, code_hash: str, now: datetime, platform: str, tenant: str
    ) -> ConnectCode | None:
        """The conditional update of storage's redeem; code_hash is unique, so one row at most."""
        ids = [r["id"] for r in self._rows(ConnectCode) if r["code_hash"] == code_hash]
        for code_id in ids:
            won = await self._u.conditional_update(
                ConnectCode,
                code_id,
                lambda r: r["code_hash"] == code_hash
                and r["used_at"] is None
                and r["expires_at"] > now,
                lambda r: {"used_at": now, "used_by_platform": platform, "used_by_tenant": tenant},
                _REDEEM_COLUMNS,
            )
            if won is not None:
                result: ConnectCode = self._u.entity(ConnectCode, code_id)
                return result
        return None
