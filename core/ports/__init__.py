"""The ports the engine talks through. Storage, the assistant, notifiers and the bus implement them.

Every repository method takes `account_id` (R35): a row of another account is simply not found.
Entities returned by a repository are live: mutating them inside a unit of work and committing
persists the change. Methods that must be race-safe are single conditional statements.

The repositories are declared by area (people, session, handoff, queues, platform); the assistant,
notifiers, bus and clock in `services`. The unit of work, which holds one of each repository, is here.
"""

from __future__ import annotations

from typing import Protocol, Self

from core.events import Event
from core.ports.handoff import DraftTemplateRepository, HandoffRepository, NotificationRepository, WriteupRepository
from core.ports.people import AccountRepository, MemberRepository
from core.ports.platform import (
    BoardStatusRepository,
    ConnectCodeRepository,
    PsaConnectionRepository,
    PsaMemberLinkRepository,
    SurfaceRefRepository,
    TenantRepository,
)
from core.ports.queues import InboundRepository, TurnRepository, WritebackRepository
from core.ports.session import FactRepository, FixRepository, SessionRepository, StepRepository, TaskItemRepository


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
    board_statuses: BoardStatusRepository
    psa_members: PsaMemberLinkRepository
    tenants: TenantRepository
    inbound: InboundRepository
    surface_refs: SurfaceRefRepository
    connect_codes: ConnectCodeRepository
    # The action's events (core.notify.record), published once it committed (core.notify.publish).
    events: list[Event]
    committed: bool

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
