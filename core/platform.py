"""What ties the engine to chat platforms: which workspace or tenant belongs to which account,
the durable inbox of deliveries (acked at once, processed once), where each surface's posts live,
and the one-time codes that join a second platform to an account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass(eq=False, kw_only=True)
class TenantLink:
    """A Slack workspace (team id) or a Teams tenant (tenant id) that belongs to an account.
    One account may hold several; a workspace or tenant belongs to one account only."""

    account_id: int
    platform: str
    external_id: str
    name: str
    created_at: datetime
    id: int | None = None


class InboundStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(eq=False, kw_only=True)
class InboundDelivery:
    """One request from a platform, stored before it is acknowledged (a crash after the ack loses
    nothing) and keyed so a retried delivery is recognised, also across replicas. Not scoped by
    account: it is recorded before anyone knows which account it belongs to."""

    platform: str
    key: str
    payload: dict[str, Any]
    created_at: datetime
    thread_key: str | None = None  # deliveries of one thread are processed one at a time, in order (R37)
    status: InboundStatus = InboundStatus.PENDING
    attempts: int = 0
    lease_owner: str | None = None
    lease_until: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class SurfaceRef:
    """Where a surface keeps something of a session or account, e.g. Slack's task-lane message
    (`lane:<session id>` → channel and ts) or a Teams escalation channel's conversation reference.
    The engine stores it; only the surface that wrote `ref` knows its shape."""

    account_id: int
    surface: str
    key: str
    ref: dict[str, Any]
    updated_at: datetime
    session_id: int | None = None
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class ConnectCode:
    """A one-time code an admin makes on one platform to join another platform's tenant to the
    account. Only a hash is stored; it is single use and expires."""

    account_id: int
    code_hash: str
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by_platform: str | None = None
    used_by_tenant: str | None = None
    id: int | None = None


SLACK = "slack"
TEAMS = "teams"
CONSOLE = "console"
PLATFORM_NAMES = {SLACK: "Slack", TEAMS: "Teams", CONSOLE: "the console"}
