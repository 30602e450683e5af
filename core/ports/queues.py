"""The durable queues workers lease across accounts and processes: assistant turns, PSA
writebacks and the inbound inbox. Claims and finishes are conditional on the lease."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from core.models import PendingTurn, Writeback
from core.platform import InboundDelivery


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

    async def record_step(self, *, writeback_id: int, worker_id: str, values: dict[str, object]) -> bool:
        """Set step columns (note_*, time_*, status_outcome, actual_status, detail) in one
        conditional UPDATE, only while worker_id holds the running row's lease (R39)."""
        ...

    async def renew_lease(self, *, entity_id: int, worker_id: str, lease_until: datetime) -> bool:
        """Extend the lease of a running row this worker holds; False when it is no longer its."""
        ...

    async def count_open(self, *, account_id: int | None = None) -> int: ...


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

    async def renew_lease(self, *, entity_id: int, worker_id: str, lease_until: datetime) -> bool:
        """Extend the lease of a delivery being handled; False when it is no longer this worker's."""
        ...

    async def count_open(self) -> int: ...
    async def prune(self, *, finished_before: datetime) -> int:
        """Delete finished deliveries older than the platforms' retry window; returns how many."""
        ...
