"""What a session hands on: escalations, write-ups, notifications to members and draft script
templates."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from core.models import DraftStatus, HandoffIntent, WriteupKind
from storage.columns import StrEnumType, json_type
from storage.tables._base import _account_id, _at, _id, _ref, metadata

handoffs = Table(
    "handoffs",
    metadata,
    _id(),
    _account_id(),
    _ref("session_id", "sessions"),
    Column("intent", StrEnumType(HandoffIntent), nullable=False),
    Column("reason", Text, nullable=False),
    _ref("created_by", "members"),
    _at("created_at"),
    _ref("target_member_id", "members", nullable=True),
    Column("package_markdown", Text, nullable=True),
    _ref("claimed_by", "members", nullable=True),
    _at("claimed_at", nullable=True),
    Index(None, "account_id", "claimed_at"),
    Index(None, "session_id", "created_at"),
)


writeups = Table(
    "writeups",
    metadata,
    _id(),
    _account_id(),
    _ref("session_id", "sessions"),
    Column("kind", StrEnumType(WriteupKind), nullable=False),
    Column("markdown", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("outcome", String(64), nullable=False),
    _ref("created_by", "members"),
    _at("created_at"),
    Column("composed_by", String(32), nullable=False),
    Column("state_version", Integer, nullable=False),
    Column("external_ref", String(255), nullable=True),
    Index(None, "session_id", "created_at"),
)


notifications = Table(
    "notifications",
    metadata,
    _id(),
    _account_id(),
    _ref("member_id", "members"),
    Column("kind", String(64), nullable=False),
    Column("text", Text, nullable=False),
    _at("created_at"),
    _ref("session_id", "sessions", nullable=True),
    _ref("handoff_id", "handoffs", nullable=True),
    _at("read_at", nullable=True),
    Index(None, "member_id", "created_at"),
)


draft_templates = Table(
    "draft_templates",
    metadata,
    _id(),
    _account_id(),
    _ref("session_id", "sessions"),
    _ref("fix_id", "fixes"),
    Column("name", String(255), nullable=False),
    Column("body", Text, nullable=False),
    _ref("created_by", "members"),
    _at("created_at"),
    Column("language", String(32), nullable=False),
    Column("parameters", json_type(), nullable=False),
    Column("status", StrEnumType(DraftStatus), nullable=False),
    Index(None, "session_id", "created_at"),
)
