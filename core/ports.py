"""The ports the engine talks through. Storage, the assistant, notifiers and the bus implement them.

Every repository method takes `account_id` (R35): a row of another account is simply not found.
Entities returned by a repository are live: mutating them inside a unit of work and committing
persists the change. Methods that must be race-safe are single conditional statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, Self

from core.assistant.types import (
    AssistantContext,
    AssistantTurn,
    ComposeRequest,
    ComposedText,
    FactSynthesisRequest,
)
from core.models import (
    Account,
    DraftTemplate,
    Fact,
    Fix,
    Handoff,
    Member,
    MemberIdentity,
    Notification,
    PendingTurn,
    PsaConnection,
    Session,
    SessionStatus,
    Step,
    TaskItem,
    Writeback,
    Writeup,
)


class AccountRepository(Protocol):
    async def add(self, account: Account) -> Account: ...
    async def get(self, *, account_id: int) -> Account | None: ...
    async def get_by_name(self, *, name: str) -> Account | None: ...


class MemberRepository(Protocol):
    async def add(self, member: Member) -> Member: ...
    async def get(self, *, account_id: int, member_id: int) -> Member | None: ...
    async def get_by_name(self, *, account_id: int, name: str) -> Member | None:
        """Case-insensitive match on the display name."""
        ...

    async def list(self, *, account_id: int, active_only: bool = True) -> list[Member]: ...
    async def add_identity(self, identity: MemberIdentity) -> MemberIdentity: ...
    async def find_by_identity(
        self, *, account_id: int, platform: str, external_id: str
    ) -> Member | None: ...


class SessionRepository(Protocol):
    async def add(self, session: Session) -> Session: ...
    async def get(self, *, account_id: int, session_id: int) -> Session | None: ...
    async def list(
        self,
        *,
        account_id: int,
        statuses: Sequence[SessionStatus] | None = None,
        handler_id: int | None = None,
        limit: int = 50,
    ) -> list[Session]:
        """Newest first (by updated_at, then id)."""
        ...

    async def find_by_thread(self, *, account_id: int, thread_ref: str) -> Session | None: ...
    async def version_for_member(self, *, account_id: int, session_id: int, member_id: int) -> int | None:
        """The session's state_version when the session is in the account and the member is an
        active member of it; None otherwise. One read: the cached-preview fast path (R2)."""
        ...

    async def bump_state_version(self, *, account_id: int, session_id: int) -> int:
        """Atomically `state_version = state_version + 1`; returns the new value (R1)."""
        ...

    async def compare_and_set_status(
        self,
        *,
        account_id: int,
        session_id: int,
        expected: Sequence[SessionStatus],
        new: SessionStatus,
        now: datetime,
        values: dict[str, Any] | None = None,
    ) -> bool:
        """One conditional UPDATE: set status=new (and `values`, updated_at=now) only if the
        current status is in `expected`. False when another transaction got there first."""
        ...


class StepRepository(Protocol):
    async def add(self, step: Step) -> Step: ...
    async def get(self, *, account_id: int, step_id: int) -> Step | None: ...
    async def list(self, *, account_id: int, session_id: int, limit: int | None = None) -> list[Step]:
        """Oldest first. With `limit`, the newest `limit` steps (still oldest first)."""
        ...

    async def first_after(
        self, *, account_id: int, session_id: int, after: datetime
    ) -> Step | None:
        """The earliest step with created_at strictly after `after` (R26)."""
        ...

    async def count(self, *, account_id: int, session_id: int, up_to_id: int | None = None) -> int:
        """How many steps the session has (with `up_to_id`, those with id <= it)."""
        ...


class TaskItemRepository(Protocol):
    async def add(self, item: TaskItem) -> TaskItem: ...
    async def get(self, *, account_id: int, item_id: int) -> TaskItem | None: ...
    async def list(self, *, account_id: int, session_id: int) -> list[TaskItem]:
        """Ordered by kind then seq."""
        ...



class FactRepository(Protocol):
    async def add(self, fact: Fact) -> Fact: ...
    async def get(self, *, account_id: int, fact_id: int) -> Fact | None: ...
    async def list(
        self, *, account_id: int, session_id: int, include_deleted: bool = False
    ) -> list[Fact]:
        """Ordered by seq."""
        ...

    async def next_seq(self, *, account_id: int, session_id: int) -> int: ...


class FixRepository(Protocol):
    async def add(self, fix: Fix) -> Fix: ...
    async def get(self, *, account_id: int, fix_id: int) -> Fix | None: ...
    async def list(self, *, account_id: int, session_id: int) -> list[Fix]:
        """Oldest first."""
        ...

    async def active(self, *, account_id: int, session_id: int) -> Fix | None:
        """The one fix with superseded_at NULL (R7), if any."""
        ...


class HandoffRepository(Protocol):
    async def add(self, handoff: Handoff) -> Handoff: ...
    async def get(self, *, account_id: int, handoff_id: int) -> Handoff | None: ...
    async def latest_for_session(
        self, *, account_id: int, session_id: int, intent: str | None = None
    ) -> Handoff | None: ...
    async def list_awaiting_pickup(self, *, account_id: int) -> list[Handoff]:
        """Escalations not yet claimed, oldest first."""
        ...

    async def claim(
        self, *, account_id: int, handoff_id: int, member_id: int, now: datetime
    ) -> bool:
        """One conditional UPDATE ... WHERE claimed_by IS NULL (R23). True for the single winner."""
        ...

    async def list_claimed_since(self, *, account_id: int, since: datetime) -> list[Handoff]: ...
    async def claimant_name(self, *, account_id: int, session_id: int) -> str | None:
        """Who picked up the session's latest escalation, in one read; None while unclaimed.
        Lets the many late clicks on Pick up be told at once (R23)."""
        ...



class WriteupRepository(Protocol):
    async def add(self, writeup: Writeup) -> Writeup: ...
    async def list(self, *, account_id: int, session_id: int) -> list[Writeup]: ...


class TurnRepository(Protocol):
    async def add(self, turn: PendingTurn) -> PendingTurn: ...
    async def get(self, *, account_id: int, turn_id: int) -> PendingTurn | None: ...
    async def claim_next(
        self, *, worker_id: str, now: datetime, lease_until: datetime
    ) -> PendingTurn | None:
        """Across all accounts: the oldest turn that is pending, or running with an expired lease,
        taken with a conditional UPDATE (status=running, lease_owner, lease_until, attempts+1).
        None when there is nothing to do or another worker won the race."""
        ...

    async def finish(
        self, *, turn_id: int, worker_id: str, status: str, now: datetime, error: str | None = None
    ) -> bool:
        """Conditional on lease_owner == worker_id and status == running: a turn is answered once."""
        ...

    async def count_open(self, *, account_id: int | None = None) -> int:
        """Pending or running turns."""
        ...


class NotificationRepository(Protocol):
    async def add(self, notification: Notification) -> Notification: ...
    async def list_for_member(
        self, *, account_id: int, member_id: int, unread_only: bool = False
    ) -> list[Notification]: ...


class DraftTemplateRepository(Protocol):
    async def add(self, draft: DraftTemplate) -> DraftTemplate: ...
    async def list(self, *, account_id: int, session_id: int) -> list[DraftTemplate]: ...


class WritebackRepository(Protocol):
    async def add(self, writeback: Writeback) -> Writeback: ...
    async def get(self, *, account_id: int, writeback_id: int) -> Writeback | None: ...
    async def find_by_key(self, *, account_id: int, idempotency_key: str) -> Writeback | None: ...
    async def list(self, *, account_id: int, session_id: int) -> list[Writeback]:
        """Oldest first."""
        ...

    async def claim_next(
        self, *, worker_id: str, now: datetime, lease_until: datetime
    ) -> Writeback | None:
        """Like TurnRepository.claim_next: the oldest pending one, or running with an expired lease."""
        ...

    async def finish(
        self, *, writeback_id: int, worker_id: str, status: str, now: datetime
    ) -> bool:
        """Conditional on lease_owner == worker_id and status == running. status 'pending' hands it
        back (lease cleared) for a retry; 'done'/'failed' set finished_at."""
        ...

    async def count_open(self, *, account_id: int | None = None) -> int: ...


class PsaConnectionRepository(Protocol):
    async def get(self, *, account_id: int) -> PsaConnection | None: ...
    async def put(self, connection: PsaConnection) -> PsaConnection:
        """Insert, or replace the account's existing connection (one per account)."""
        ...


class UnitOfWork(Protocol):
    """One transaction per user action: `async with uow_factory() as uow: ...; await uow.commit()`.
    Leaving the block without commit rolls back."""

    accounts: AccountRepository
    members: MemberRepository
    sessions: SessionRepository
    steps: StepRepository
    items: TaskItemRepository
    facts: FactRepository
    fixes: FixRepository
    handoffs: HandoffRepository
    writeups: WriteupRepository
    turns: TurnRepository
    notifications: NotificationRepository
    drafts: DraftTemplateRepository
    writebacks: WritebackRepository
    psa_connections: PsaConnectionRepository

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class Assistant(Protocol):
    """The LLM. Every method raises `AssistantUnavailable` on any failure (R16)."""

    @property
    def enabled(self) -> bool: ...

    async def respond(self, context: AssistantContext) -> AssistantTurn: ...
    async def synthesize_fact(self, request: FactSynthesisRequest) -> str: ...
    async def compose(self, request: ComposeRequest) -> ComposedText: ...


class Notifier(Protocol):
    """A surface that tells people about events (Slack channel post, Teams card, console line).
    Called after commit only (R22); failures are logged by the caller and never undo anything.
    It handles an event kind by having an async method of that name (`escalation_created`,
    `escalation_claimed`, `session_resolved`, `turn_answered`, `writeback_finished`, see
    core/events.py); kinds it has no method for pass it by."""


class EventBus(Protocol):
    """Per-account live events (R25). `publish` never raises."""

    async def publish(self, account_id: int, event: dict[str, Any]) -> None: ...
    def subscribe(self, account_id: int, *, max_queue: int = 100) -> Subscription: ...


class Subscription(Protocol):
    async def get(self, timeout: float | None = None) -> dict[str, Any] | None: ...
    def close(self) -> None: ...

    @property
    def dropped(self) -> int: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
