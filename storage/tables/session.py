"""A troubleshooting session and what it accumulates: steps, task items, facts (with their label
counters) and fixes."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from core.models import FactSource, FixAuthor, FixDecision, FixStatus, ItemKind, ItemStatus, SessionStatus, StepKind
from storage.columns import StrEnumType, json_type
from storage.tables._base import _account_id, _at, _id, _ref, metadata

sessions = Table(
    "sessions",
    metadata,
    _id(),
    _account_id(),
    Column("title", Text, nullable=False),
    Column("status", StrEnumType(SessionStatus), nullable=False),
    _ref("created_by", "members"),
    _ref("handler_id", "members"),
    _at("created_at"),
    _at("updated_at"),
    Column("surface", String(32), nullable=False),
    Column("thread_ref", String(255), nullable=True),
    Column("ticket_ref", String(255), nullable=True),
    Column("ticket_info", json_type(), nullable=False),
    Column("state_version", Integer, nullable=False),
    _at("resolved_at", nullable=True),
    _ref("resolved_by", "members", nullable=True),
    Index(None, "account_id", "status", "updated_at"),
    Index(None, "account_id", "thread_ref"),
)


steps = Table(
    "steps",
    metadata,
    _id(),
    _account_id(),
    _ref("session_id", "sessions"),
    Column("kind", StrEnumType(StepKind), nullable=False),
    Column("text", Text, nullable=False),
    _at("created_at"),
    _ref("author_id", "members", nullable=True),
    Column("data", json_type(), nullable=False),
    Index(None, "session_id", "created_at"),
)


task_items = Table(
    "task_items",
    metadata,
    _id(),
    _account_id(),
    _ref("session_id", "sessions"),
    Column("kind", StrEnumType(ItemKind), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("text", Text, nullable=False),
    _at("created_at"),
    Column("status", StrEnumType(ItemStatus), nullable=False),
    Column("source_ref", Integer, nullable=True),  # the question or check a proposed fact answers (no FK: same session)
    UniqueConstraint("session_id", "kind", "seq"),
)


facts = Table(
    "facts",
    metadata,
    _id(),
    _account_id(),
    _ref("session_id", "sessions"),
    Column("seq", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("source", StrEnumType(FactSource), nullable=False),
    _at("created_at"),
    _ref("created_by", "members", nullable=True),
    # No FK: a task item for question/check sources, free for assistant-synthesised facts.
    Column("source_ref", Integer, nullable=True),
    _at("updated_at", nullable=True),
    _at("deleted_at", nullable=True),
    UniqueConstraint("session_id", "seq"),
)


# The last label number handed out per session and name ("fact", "question", "check"): one
# INSERT … ON CONFLICT DO UPDATE … RETURNING allocates the next ones atomically, so concurrent
# writers (other processes included) never compute the same seq. Rows follow their session.
session_counters = Table(
    "session_counters",
    metadata,
    _account_id(),
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(32), primary_key=True),
    Column("value", Integer, nullable=False),
)


fixes = Table(
    "fixes",
    metadata,
    _id(),
    _account_id(),
    _ref("session_id", "sessions"),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("confidence", Integer, nullable=False),
    Column("author", StrEnumType(FixAuthor), nullable=False),
    _at("created_at"),
    Column("status", StrEnumType(FixStatus), nullable=False),
    Column("decision", StrEnumType(FixDecision), nullable=True),
    Column("script", Text, nullable=True),
    Column("script_language", String(32), nullable=True),
    Column("script_params", json_type(), nullable=False),
    # Script templates live outside this schema for now: no FK.
    Column("template_id", Integer, nullable=True),
    _at("applied_at", nullable=True),
    _at("verified_at", nullable=True),
    _at("superseded_at", nullable=True),
    _at("decided_at", nullable=True),
    Column("partial_notes", Text, nullable=True),
    Column("failure_reason", Text, nullable=True),
    Column("outcome_proposal", json_type(nullable=True), nullable=True),
    Index(None, "session_id", "created_at"),
)
