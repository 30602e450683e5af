"""A session and what it accumulates: steps, task items, facts and fixes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from core.models import Fact, Fix, ItemKind, Session, SessionStatus, Step, TaskItem


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
