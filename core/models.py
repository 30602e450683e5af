"""Domain entities. Plain dataclasses: storage maps them to tables, the engine mutates them.

Every entity carries `account_id` so that every query can be scoped by tenant (R35).
Ids are integers assigned by the repository on `add`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.psa_models import BoardStatus as BoardStatus  # the PSA's own entities, re-exported
from core.psa_models import PsaConnection as PsaConnection
from core.psa_models import PsaMemberLink as PsaMemberLink
from core.psa_models import StatusRole as StatusRole


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    ENGINEER = "engineer"
    VIEWER = "viewer"


class SessionStatus(StrEnum):
    ACTIVE = "active"
    PARKED = "parked"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


class StepKind(StrEnum):
    ENGINEER_MESSAGE = "engineer_message"
    ASSISTANT_REPLY = "assistant_reply"
    ACTION = "action"


class ItemKind(StrEnum):
    QUESTION = "question"
    CHECK = "check"
    FACT = "proposed_fact"  # a fact the assistant proposes (R6): a fact only once a member confirms it


ITEM_PREFIXES = {ItemKind.QUESTION: "Q", ItemKind.CHECK: "C", ItemKind.FACT: "P"}


class ItemStatus(StrEnum):
    OPEN = "open"
    PROMOTED = "promoted"
    DISMISSED = "dismissed"  # a member turned the proposal down
    RETIRED = "retired"  # the assistant stopped proposing it (core.lane); shown no more, reopened if re-proposed


class FactSource(StrEnum):
    NOTE = "note"
    QUESTION = "question"
    CHECK = "check"
    ASSISTANT = "assistant"


class FixStatus(StrEnum):
    PROPOSED = "proposed"
    APPLIED_SUCCESS = "applied_success"
    APPLIED_FAILED = "applied_failed"
    APPLIED_PARTIAL = "applied_partial"
    DISMISSED = "dismissed"


class FixDecision(StrEnum):
    ONE_OFF = "one_off"
    DRAFT_TEMPLATE = "draft_template"
    BUILD_TEMPLATE = "build_template"
    DISMISSED = "dismissed"


class FixAuthor(StrEnum):
    ASSISTANT = "assistant"
    ENGINEER = "engineer"


class HandoffIntent(StrEnum):
    ESCALATE = "escalate"
    PARK = "park"


class WriteupKind(StrEnum):
    RESOLVE = "resolve"
    ESCALATE = "escalate"


class TurnStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"  # the engineer stopped it; its messages are kept


class DraftStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(eq=False, kw_only=True)
class Account:
    """`time_zone`: the IANA zone its notes and packages write dates in (core.time_zones)."""

    name: str
    created_at: datetime
    preferences: dict[str, Any] = field(default_factory=dict)
    time_zone: str = "UTC"
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class Member:
    account_id: int
    name: str
    role: Role
    created_at: datetime
    email: str | None = None
    active: bool = True
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class MemberIdentity:
    """A platform identity of a member: ('console', name), ('slack', 'T1:U1'), ('teams', aad id)."""

    account_id: int
    member_id: int
    platform: str
    external_id: str
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class Session:
    account_id: int
    title: str
    status: SessionStatus
    created_by: int
    handler_id: int
    created_at: datetime
    updated_at: datetime
    surface: str = "console"
    thread_ref: str | None = None
    ticket_ref: str | None = None
    ticket_info: dict[str, Any] = field(default_factory=dict)
    state_version: int = 0
    resolved_at: datetime | None = None
    resolved_by: int | None = None
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class Step:
    """One entry of a session's history. `text` is already redacted (R14)."""

    account_id: int
    session_id: int
    kind: StepKind
    text: str
    created_at: datetime
    author_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class TaskItem:
    """A question or diagnostic check on the task lane. `seq` gives it a stable label (Q1, C2; R3)."""

    account_id: int
    session_id: int
    kind: ItemKind
    seq: int
    text: str
    created_at: datetime
    status: ItemStatus = ItemStatus.OPEN
    source_ref: int | None = None  # a proposed fact that answers a question or check: that item's id
    id: int | None = None

    @property
    def label(self) -> str:
        return f"{ITEM_PREFIXES[self.kind]}{self.seq}"


@dataclass(eq=False, kw_only=True)
class Fact:
    account_id: int
    session_id: int
    seq: int
    text: str
    source: FactSource
    created_at: datetime
    created_by: int | None = None
    source_ref: int | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    id: int | None = None

    @property
    def label(self) -> str:
        return f"F{self.seq}"


@dataclass(eq=False, kw_only=True)
class Fix:
    account_id: int
    session_id: int
    title: str
    description: str
    confidence: int
    author: FixAuthor
    created_at: datetime
    status: FixStatus = FixStatus.PROPOSED
    decision: FixDecision | None = None
    script: str | None = None
    script_language: str | None = None
    script_params: list[dict[str, Any]] = field(default_factory=list)
    template_id: int | None = None
    applied_at: datetime | None = None
    verified_at: datetime | None = None
    superseded_at: datetime | None = None
    decided_at: datetime | None = None
    partial_notes: str | None = None
    failure_reason: str | None = None
    outcome_proposal: dict[str, Any] | None = None
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class Handoff:
    account_id: int
    session_id: int
    intent: HandoffIntent
    reason: str
    created_by: int
    created_at: datetime
    target_member_id: int | None = None
    package_markdown: str | None = None
    claimed_by: int | None = None
    claimed_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class Writeup:
    """A resolution note or escalation package as posted (R13, R18), with its outcome code."""

    account_id: int
    session_id: int
    kind: WriteupKind
    markdown: str
    summary: str
    outcome: str
    created_by: int
    created_at: datetime
    composed_by: str = "assistant"
    state_version: int = 0
    external_ref: str | None = None
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class PendingTurn:
    """The durable queue of assistant turns: committed with the engineer's message, answered once."""

    account_id: int
    session_id: int
    step_id: int
    created_at: datetime
    status: TurnStatus = TurnStatus.PENDING
    attempts: int = 0
    lease_owner: str | None = None
    lease_until: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class Notification:
    account_id: int
    member_id: int
    kind: str
    text: str
    created_at: datetime
    session_id: int | None = None
    handoff_id: int | None = None
    read_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class DraftTemplate:
    """A script queued to become a team template after the session resolves (R29)."""

    account_id: int
    session_id: int
    fix_id: int
    name: str
    body: str
    created_by: int
    created_at: datetime
    language: str = "powershell"
    parameters: list[dict[str, Any]] = field(default_factory=list)
    status: DraftStatus = DraftStatus.PENDING
    id: int | None = None


class WritebackStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(eq=False, kw_only=True)
class Writeback:
    """The PSA outbox (R17, R19, R20, R39): recorded in the same transaction as the resolve or
    escalate, delivered by a worker in three steps (note, time entry, status), each done once and
    retried alone. Nothing of ours is written into the ticket: before each write the step records
    when it was attempted, so after a timeout or a crash the worker looks for what it may already
    have written (same text or same entry, since that moment) instead of writing again."""

    account_id: int
    session_id: int
    writeup_id: int
    kind: WriteupKind
    ticket_id: int
    note_kind: str
    text: str
    idempotency_key: str
    created_at: datetime
    created_by: int
    time_entry_minutes: int | None = None
    time_started_at: datetime | None = None
    status: WritebackStatus = WritebackStatus.PENDING
    attempts: int = 0
    lease_owner: str | None = None
    lease_until: datetime | None = None
    note_attempted_at: datetime | None = None
    external_note_id: str | None = None
    note_posted_at: datetime | None = None
    time_attempted_at: datetime | None = None
    time_entry_id: str | None = None
    time_outcome: str | None = None
    time_detail: str | None = None
    status_outcome: str | None = None
    outcome: str | None = None
    detail: str | None = None
    actual_status: str | None = None
    finished_at: datetime | None = None
    id: int | None = None
