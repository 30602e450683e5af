"""How an account reaches the platforms around it: its PSA connection, its Slack/Teams tenants,
the surfaces' own references and the one-time connect codes."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.models import BoardStatus, PsaConnection, PsaMemberLink, StatusRole
from core.platform import ConnectCode, SurfaceRef, TenantLink


class PsaConnectionRepository(Protocol):
    async def get(self, *, account_id: int) -> PsaConnection | None: ...
    async def put(self, connection: PsaConnection) -> PsaConnection:
        """Insert, or replace the account's existing connection (one per account)."""
        ...


class BoardStatusRepository(Protocol):
    """Which status each board's tickets move to on resolve / escalate (R40)."""

    async def list(self, *, account_id: int) -> list[BoardStatus]:
        """By board name, board id, then role."""
        ...

    async def get(self, *, account_id: int, board_id: int, role: StatusRole) -> BoardStatus | None: ...
    async def put(self, status: BoardStatus) -> BoardStatus:
        """Insert, or replace the account's choice for (board, role)."""
        ...

    async def delete(self, *, account_id: int, board_id: int, role: StatusRole) -> bool: ...


class PsaMemberLinkRepository(Protocol):
    async def get(self, *, account_id: int, member_id: int) -> PsaMemberLink | None: ...
    async def put(self, link: PsaMemberLink) -> PsaMemberLink:
        """Insert, or replace the member's link (one per member)."""
        ...


class TenantRepository(Protocol):
    async def add(self, link: TenantLink) -> TenantLink:
        """A workspace or tenant already linked (to any account) raises Conflict."""
        ...

    async def find(self, *, platform: str, external_id: str) -> TenantLink | None:
        """Not scoped by account: this is how a platform request finds its account (R35 starts here)."""
        ...

    async def list(self, *, account_id: int) -> list[TenantLink]: ...


class SurfaceRefRepository(Protocol):
    async def put(self, ref: SurfaceRef) -> SurfaceRef:
        """Insert, or replace `ref`, `session_id` and `updated_at` of the row with the same
        (account_id, surface, key)."""
        ...

    async def get(self, *, account_id: int, surface: str, key: str) -> SurfaceRef | None: ...
    async def list(self, *, account_id: int, key_prefix: str, surface: str | None = None) -> list[SurfaceRef]:
        """Rows whose key starts with `key_prefix`, oldest first (by id)."""
        ...

    async def find_any(self, *, surface: str, key: str) -> SurfaceRef | None:
        """Across accounts, the row with this surface and key: how a platform conversation id finds
        its account. Keys used this way embed the platform's own unique ids."""
        ...


class ConnectCodeRepository(Protocol):
    async def add(self, code: ConnectCode) -> ConnectCode: ...
    async def redeem(
        self, *, code_hash: str, now: datetime, platform: str, tenant: str
    ) -> ConnectCode | None:
        """One conditional UPDATE: mark the code used if it exists, is unused and not expired.
        The row for the single winner, None otherwise (unknown, used or expired)."""
        ...

    async def find(self, *, code_hash: str) -> ConnectCode | None:
        """Unscoped: a code is typed on the other platform, before its account is known."""
        ...
