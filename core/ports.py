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
    ReplyListener,
)
from core.models import (
    Account,
    DraftTemplate,
    Fact,
    Fix,
    Handoff,
    ItemKind,
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
from core.platform import ConnectCode, InboundDelivery, SurfaceRef, TenantLink


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

    async def get_by_email(self, *, account_id: int, email: str) -> Member | None:
        """Case-insensitive match on a verified email (cross-platform matching, never by name)."""
        ...

    async def identities(self, *, account_id: int, member_id: int) -> list[MemberIdentity]:
        """The member's platform identities, oldest first: how a surface reaches a member it did not
        hear from (a DM to an escalation's target)."""
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

    async def allocate_seq(self, *, account_id: int, session_id: int, kind: ItemKind, count: int = 1) -> int:
        """The first of `count` new consecutive seqs of `kind` in the session (Q3, Q4…), taken
        atomically in this transaction: concurrent writers never get the same one, a rollback
        gives them back. The counter row stays locked until commit, so take it before locking
        the session row (bump). NotFound for a session of another account (R35)."""
        ...


class FactRepository(Protocol):
    async def add(self, fact: Fact) -> Fact: ...
    async def get(self, *, account_id: int, fact_id: int) -> Fact | None: ...
    async def list(
        self, *, account_id: int, session_id: int, include_deleted: bool = False
    ) -> list[Fact]:
        """Ordered by seq."""
        ...

    async def allocate_seq(self, *, account_id: int, session_id: int, count: int = 1) -> int:
        """The first of `count` new consecutive fact seqs (F5, F6…), as TaskItemRepository's.
        Soft-deleted facts keep theirs: a label is never reused."""
        ...


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

    async def waiting_accounts(self, *, now: datetime) -> list[int]:
        """Accounts with a claimable turn in a session where no turn runs, longest waiting first."""
        ...

    async def claim_session(
        self, *, account_id: int, worker_id: str, now: datetime, lease_until: datetime
    ) -> list[PendingTurn]:
        """Of the account's idle sessions, the one waiting longest: all its claimable turns (oldest
        first), taken at once so one assistant call answers them (R37). Never two running batches
        for one session. Empty when another worker won."""
        ...

    async def renew(self, *, turn_ids: Sequence[int], worker_id: str, lease_until: datetime) -> bool:
        """Extend a running batch's lease; False when it is no longer this worker's."""
        ...

    async def finish_batch(
        self, *, turn_ids: Sequence[int], worker_id: str, status: str, now: datetime, error: str | None = None
    ) -> bool:
        """`finish` for every turn of a batch; True only when all were this worker's."""
        ...

    async def cancel_open(self, *, account_id: int, session_id: int, now: datetime) -> list[int]:
        """End the session's pending and running turns as cancelled; their ids."""
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


class TenantRepository(Protocol):
    async def add(self, link: TenantLink) -> TenantLink:
        """A workspace or tenant already linked (to any account) raises Conflict."""
        ...

    async def find(self, *, platform: str, external_id: str) -> TenantLink | None:
        """Not scoped by account: this is how a platform request finds its account (R35 starts here)."""
        ...

    async def list(self, *, account_id: int) -> list[TenantLink]: ...


class InboundRepository(Protocol):
    """The durable inbox. Unscoped by design: deliveries are stored before their account is known."""

    async def accept(self, delivery: InboundDelivery) -> bool:
        """INSERT unless (platform, key) is already there; False for a retried delivery. Race-safe
        across processes and replicas (the unique key decides)."""
        ...

    async def accept_many(self, deliveries: Sequence[InboundDelivery]) -> list[bool]:
        """`accept` for several deliveries in one statement (the inbox's group commit): one flag
        per delivery, in order; within the batch, a repeated (platform, key) is False after the first."""
        ...

    async def get(self, *, delivery_id: int) -> InboundDelivery | None: ...
    async def claim_next(
        self, *, worker_id: str, now: datetime, lease_until: datetime
    ) -> InboundDelivery | None:
        """Like TurnRepository.claim_next."""
        ...

    async def finish(
        self, *, delivery_id: int, worker_id: str, status: str, now: datetime, error: str | None = None
    ) -> bool:
        """Conditional on the lease, like TurnRepository.finish; 'pending' hands it back."""
        ...

    async def count_open(self) -> int: ...
    async def prune(self, *, finished_before: datetime) -> int:
        """Delete finished deliveries older than the platforms' retry window; returns how many."""
        ...


class SurfaceRefRepository(Protocol):
    async def put(self, ref: SurfaceRef) -> SurfaceRef:
        """Insert, or replace `ref`, `session_id` and `updated_at` of the row with the same
        (account_id, surface, key)."""
        ...

    async def get(self, *, account_id: int, surface: str, key: str) -> SurfaceRef | None: ...
    async def list(self, *, account_id: int, key_prefix: str, surface: str | None = None) -> list[SurfaceRef]:
        """Rows whose key starts with `key_prefix`, oldest first (by id)."""
        ...

    async def find_any(self, *, surface: str, key: str) -> SurfaceRef | None:
        """Across accounts, the row with this surface and key: how a platform conversation id finds
        its account. Keys used this way embed the platform's own unique ids."""
        ...


class ConnectCodeRepository(Protocol):
    async def add(self, code: ConnectCode) -> ConnectCode: ...
    async def redeem(
        self, *, code_hash: str, now: datetime, platform: str, tenant: str
    ) -> ConnectCode | None:
        """One conditional UPDATE: mark the code used if it exists, is unused and not expired.
        The row for the single winner, None otherwise (unknown, used or expired)."""
        ...

    async def find(self, *, code_hash: str) -> ConnectCode | None:
        """Unscoped: a code is typed on the other platform, before its account is known."""
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
    tenants: TenantRepository
    inbound: InboundRepository
    surface_refs: SurfaceRefRepository
    connect_codes: ConnectCodeRepository

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

    async def respond(self, context: AssistantContext, on_text: ReplyListener | None = None) -> AssistantTurn:
        """`on_text` hears the reply text as it arrives (streaming); structured parts (lane, facts,
        fix) are only in the returned turn, complete and validated."""
        ...

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
