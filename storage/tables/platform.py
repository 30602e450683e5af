"""How an account reaches the platforms around it: its PSA connection, its Slack/Teams tenants,
the surfaces' own references and the one-time connect codes."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text, UniqueConstraint

from core.models import StatusRole
from storage.columns import StrEnumType, json_type
from storage.tables._base import _account_id, _at, _id, _ref, metadata

# One PSA connection per account: the adapter's named settings, and its secrets each encrypted by core.
psa_connections = Table(
    "psa_connections",
    metadata,
    _id(),
    _account_id(),
    Column("kind", String(32), nullable=False),
    Column("settings", json_type(), nullable=False),
    Column("secrets_encrypted", json_type(), nullable=False),
    _at("updated_at"),
    _ref("updated_by", "members"),
    UniqueConstraint("account_id"),
)


# The status each board's tickets move to on resolve / escalate (R40), one per (board, role).
psa_board_statuses = Table(
    "psa_board_statuses",
    metadata,
    _id(),
    _account_id(),
    Column("board_id", Integer, nullable=False),
    Column("board_name", Text, nullable=False),
    Column("role", StrEnumType(StatusRole), nullable=False),
    Column("status_id", Integer, nullable=False),
    Column("status_name", Text, nullable=False),
    Column("closes", Boolean, nullable=False),
    _at("updated_at"),
    _ref("updated_by", "members"),
    UniqueConstraint("account_id", "board_id", "role"),
)


# Who each member is in the PSA (R40): time entries are logged as that PSA member.
psa_member_links = Table(
    "psa_member_links",
    metadata,
    _id(),
    _account_id(),
    _ref("member_id", "members"),
    Column("psa_member_id", Integer, nullable=False),
    Column("psa_member_name", Text, nullable=False),
    Column("matched_by", String(16), nullable=False),
    _at("updated_at"),
    UniqueConstraint("account_id", "member_id"),
)


# Which account a Slack workspace (team id) or Teams tenant belongs to: how every platform request
# finds its account (R35). A workspace or tenant belongs to one account only, whichever it is.
tenant_links = Table(
    "tenant_links",
    metadata,
    _id(),
    _account_id(),
    Column("platform", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    _at("created_at"),
    UniqueConstraint("platform", "external_id"),
)


# Where a surface keeps its posts of a session or account; `ref` is the surface's own shape.
# (surface, key) is indexed on its own for find_any, which looks across accounts.
surface_refs = Table(
    "surface_refs",
    metadata,
    _id(),
    _account_id(),
    Column("surface", String(32), nullable=False),
    Column("key", String(255), nullable=False),
    Column("ref", json_type(), nullable=False),
    _at("updated_at"),
    _ref("session_id", "sessions", nullable=True),
    UniqueConstraint("account_id", "surface", "key"),
    Index(None, "surface", "key"),
)


# One-time codes joining another platform's tenant to an account: only the hash is stored.
connect_codes = Table(
    "connect_codes",
    metadata,
    _id(),
    _account_id(),
    Column("code_hash", String(128), nullable=False),
    _ref("created_by", "members"),
    _at("created_at"),
    _at("expires_at"),
    _at("used_at", nullable=True),
    Column("used_by_platform", String(32), nullable=True),
    Column("used_by_tenant", String(255), nullable=True),
    UniqueConstraint("code_hash"),
)
