"""The PSA's entities: an account's connection, its statuses per board and who each member is in
the PSA (R34, R40). Kept apart from core/models.py; `core.models` re-exports them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass(eq=False, kw_only=True)
class PsaConnection:
    """An account's PSA connection: the adapter's named settings (core.psa.PsaField) and its
    secrets, each value encrypted on its own before it is stored (never shown back)."""

    account_id: int
    kind: str
    settings: dict[str, str]
    secrets_encrypted: dict[str, str]
    updated_at: datetime
    updated_by: int
    id: int | None = None


class StatusRole(StrEnum):
    """Which writeback a board status is for (R17 resolve, R20 escalate)."""

    RESOLVED = "resolved"
    ESCALATED = "escalated"


@dataclass(eq=False, kw_only=True)
class BoardStatus:
    """The status a board's tickets move to on resolve or escalate (R40). Statuses belong to a
    board, so the choice does too; the names are kept for display and checked again before use."""

    account_id: int
    board_id: int
    board_name: str
    role: StatusRole
    status_id: int
    status_name: str
    closes: bool
    updated_at: datetime
    updated_by: int
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class PsaMemberLink:
    """Who a member is in the PSA, so time is logged in the engineer's name (R40): matched by
    e-mail the first time it is needed, or chosen by the engineer."""

    account_id: int
    member_id: int
    psa_member_id: int
    psa_member_name: str
    matched_by: str  # "email" | "chosen"
    updated_at: datetime
    id: int | None = None

