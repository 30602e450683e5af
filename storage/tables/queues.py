"""The durable queues that workers lease across accounts and processes: assistant turns, PSA
writebacks and the inbound inbox."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint

from core.models import TurnStatus, WritebackStatus, WriteupKind
from core.platform import InboundStatus
from storage.columns import StrEnumType, json_type
from storage.tables._base import _account_id, _at, _id, _ref, metadata

pending_turns = Table(
    "pending_turns",
    metadata,
    _id(),
    _account_id(),
    _ref("session_id", "sessions"),
    _ref("step_id", "steps"),
    _at("created_at"),
    Column("status", StrEnumType(TurnStatus), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_owner", String(255), nullable=True),
    _at("lease_until", nullable=True),
    _at("finished_at", nullable=True),
    Column("error", Text, nullable=True),
    Index(None, "status", "created_at"),
    Index(None, "session_id", "status"),
)


# The PSA outbox (R17, R19, R20, R39); each step (note, time, status) keeps its own state.
# The unique key makes enqueueing the same writeup twice a Conflict;
# workers pick by (status, created_at) across accounts, like pending_turns.
writebacks = Table(
    "writebacks",
    metadata,
    _id(),
    _account_id(),
    _ref("session_id", "sessions"),
    _ref("writeup_id", "writeups"),
    Column("kind", StrEnumType(WriteupKind), nullable=False),
    # A ConnectWise ticket number: outside this schema, no FK.
    Column("ticket_id", Integer, nullable=False),
    Column("note_kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    _at("created_at"),
    _ref("created_by", "members"),
    Column("time_entry_minutes", Integer, nullable=True),
    _at("time_started_at", nullable=True),
    Column("status", StrEnumType(WritebackStatus), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_owner", String(255), nullable=True),
    _at("lease_until", nullable=True),
    _at("note_attempted_at", nullable=True),
    Column("external_note_id", String(255), nullable=True),
    _at("note_posted_at", nullable=True),
    _at("time_attempted_at", nullable=True),
    Column("time_entry_id", String(255), nullable=True),
    Column("time_outcome", String(64), nullable=True),
    Column("time_detail", Text, nullable=True),
    Column("status_outcome", String(64), nullable=True),
    Column("outcome", String(64), nullable=True),
    Column("detail", Text, nullable=True),
    Column("actual_status", Text, nullable=True),
    _at("finished_at", nullable=True),
    UniqueConstraint("account_id", "idempotency_key"),
    Index(None, "status", "created_at"),
    Index(None, "session_id", "created_at"),
)


# The durable inbox. Deliberately without account_id: a delivery is stored (and acknowledged)
# before anyone knows its account. The unique key recognises a platform's retry across replicas;
# workers pick by (status, created_at), like pending_turns.
inbound_deliveries = Table(
    "inbound_deliveries",
    metadata,
    _id(),
    Column("platform", String(32), nullable=False),
    Column("key", String(255), nullable=False),
    Column("payload", json_type(), nullable=False),
    _at("created_at"),
    Column("thread_key", String(255), nullable=True),
    Column("status", StrEnumType(InboundStatus), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_owner", String(255), nullable=True),
    _at("lease_until", nullable=True),
    _at("finished_at", nullable=True),
    Column("error", Text, nullable=True),
    UniqueConstraint("platform", "key"),
    Index(None, "status", "created_at"),
    Index(None, "thread_key", "status"),
)
