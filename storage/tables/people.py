"""Who: accounts and their members, with each member's platform identities."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, String, Table, UniqueConstraint

from core.models import Role
from storage.columns import StrEnumType, json_type
from storage.tables._base import _account_id, _at, _id, _ref, metadata

accounts = Table(
    "accounts",
    metadata,
    _id(),
    Column("name", String(255), nullable=False),
    _at("created_at"),
    Column("preferences", json_type(), nullable=False),
    Column("time_zone", String(64), nullable=False, server_default="UTC"),  # an IANA name (core.time_zones)
    UniqueConstraint("name"),
)


members = Table(
    "members",
    metadata,
    _id(),
    _account_id(),
    Column("name", String(255), nullable=False),
    Column("role", StrEnumType(Role), nullable=False),
    _at("created_at"),
    Column("email", String(320), nullable=True),
    Column("active", Boolean, nullable=False),
)


member_identities = Table(
    "member_identities",
    metadata,
    _id(),
    _account_id(),
    _ref("member_id", "members"),
    Column("platform", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    UniqueConstraint("account_id", "platform", "external_id"),
)
