"""The schema: one table per entity of core/models.py and core/platform.py, every row scoped by
`account_id` (R35) except the inbound inbox, which is written before the account is known.

Kept in step with migrations/versions/*.py; tests/storage/test_migrations.py compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from core.models import (
    DraftStatus,
    FactSource,
    FixAuthor,
    FixDecision,
    FixStatus,
    HandoffIntent,
    ItemKind,
    ItemStatus,
    Role,
    SessionStatus,
    StepKind,
    TurnStatus,
    WritebackStatus,
    WriteupKind,
)
from core.platform import InboundStatus
from storage.columns import StrEnumType, UTCDateTime, json_type

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _account_id() -> Column[int]:
    return Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False, index=True)


def _ref(name: str, target: str, *, nullable: bool = False) -> Column[int]:
    return Column(name, Integer, ForeignKey(f"{target}.id"), nullable=nullable)


def _at(name: str, *, nullable: bool = False) -> Column[object]:
    return Column(name, UTCDateTime(), nullable=nullable)


accounts = Table(
    "accounts",
    metadata,
    _id(),
    Column("name", String(255), nullable=False),
    _at("created_at"),
    Column("preferences", json_type(), nullable=False),
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

# The PSA outbox (R17, R19, R20). The unique key makes enqueueing the same writeup twice a Conflict;
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
    Column("marker", String(255), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    _at("created_at"),
    _ref("created_by", "members"),
    Column("target_status_id", Integer, nullable=True),
    Column("time_entry_minutes", Integer, nullable=True),
    Column("status", StrEnumType(WritebackStatus), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_owner", String(255), nullable=True),
    _at("lease_until", nullable=True),
    Column("external_note_id", String(255), nullable=True),
    _at("note_posted_at", nullable=True),
    Column("outcome", String(64), nullable=True),
    Column("detail", Text, nullable=True),
    Column("actual_status", Text, nullable=True),
    _at("finished_at", nullable=True),
    UniqueConstraint("account_id", "idempotency_key"),
    Index(None, "status", "created_at"),
    Index(None, "session_id", "created_at"),
)

# One ConnectWise connection per account; the private key is stored only encrypted (by core).
psa_connections = Table(
    "psa_connections",
    metadata,
    _id(),
    _account_id(),
    Column("site", String(255), nullable=False),
    Column("company_id", String(255), nullable=False),
    Column("public_key", String(255), nullable=False),
    Column("client_id", String(255), nullable=False),
    Column("private_key_encrypted", Text, nullable=False),
    _at("updated_at"),
    _ref("updated_by", "members"),
    Column("kind", String(32), nullable=False),
    Column("codebase", String(255), nullable=True),
    UniqueConstraint("account_id"),
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
