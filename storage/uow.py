"""The SQL unit of work: one AsyncSession, one transaction per user action.

Entities stay readable after the block: sessions never expire them (expire_on_commit=False), and
on rollback they are detached first, keeping their in-memory values instead of turning into
expired objects that would need IO to read (impossible under asyncio).
"""

from __future__ import annotations

import asyncio
from typing import Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

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
from storage.mapping import TrackingSession, start_mappers
from storage.repositories import (
    SqlAccountRepository,
    SqlBoardStatusRepository,
    SqlConnectCodeRepository,
    SqlDraftTemplateRepository,
    SqlFactRepository,
    SqlFixRepository,
    SqlHandoffRepository,
    SqlInboundRepository,
    SqlMemberRepository,
    SqlNotificationRepository,
    SqlPsaConnectionRepository,
    SqlPsaMemberLinkRepository,
    SqlSessionRepository,
    SqlStepRepository,
    SqlSurfaceRefRepository,
    SqlTaskItemRepository,
    SqlTenantRepository,
    SqlTurnRepository,
    SqlWritebackRepository,
    SqlWriteupRepository,
)
from storage.repositories.base import conflict_from


class SqlUnitOfWork:
    """`async with factory() as uow: ...; await uow.commit()`; leaving without commit rolls back."""

    # Annotated with the ports (Protocol attributes are invariant), which also checks statically
    # that every Sql*Repository implements its port.
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

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], gate: WriterGate | None = None) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None
        self._gate = gate
        self._holds_gate = False
        self.events: list[Event] = []
        self.committed = False

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already open; ask the factory for another")
        if self._gate is not None:
            self._holds_gate = await self._gate.acquire()
        session = self._session_factory()
        self._session = session
        self.events, self.committed = [], False
        self.accounts = SqlAccountRepository(session)
        self.members = SqlMemberRepository(session)
        self.sessions = SqlSessionRepository(session)
        self.steps = SqlStepRepository(session)
        self.items = SqlTaskItemRepository(session)
        self.facts = SqlFactRepository(session)
        self.fixes = SqlFixRepository(session)
        self.handoffs = SqlHandoffRepository(session)
        self.writeups = SqlWriteupRepository(session)
        self.turns = SqlTurnRepository(session)
        self.notifications = SqlNotificationRepository(session)
        self.drafts = SqlDraftTemplateRepository(session)
        self.writebacks = SqlWritebackRepository(session)
        self.psa_connections = SqlPsaConnectionRepository(session)
        self.board_statuses = SqlBoardStatusRepository(session)
        self.psa_members = SqlPsaMemberLinkRepository(session)
        self.tenants = SqlTenantRepository(session)
        self.inbound = SqlInboundRepository(session)
        self.surface_refs = SqlSurfaceRefRepository(session)
        self.connect_codes = SqlConnectCodeRepository(session)
        return self

    async def __aexit__(self, *exc: object) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            session.expunge_all()
            await session.rollback()
        finally:
            try:
                await session.close()
            finally:
                if self._gate is not None and self._holds_gate:
                    self._holds_gate = False
                    self._gate.release()

    async def commit(self) -> None:
        """Unique/foreign-key violations surface as core's Conflict; the block must then end."""
        try:
            await self._open().commit()
        except IntegrityError as error:
            raise conflict_from(error) from error
        self.committed = True

    async def rollback(self) -> None:
        session = self._open()
        session.expunge_all()
        await session.rollback()

    def _open(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._session


class WriterGate:
    """SQLite has one writer at a time; contending transactions otherwise sleep in SQLite's busy
    handler (1, 2, 5, 10… ms). Queuing this process's units of work in order is far faster. Other
    processes on the same file still meet the busy timeout. A unit of work opened inside another in
    the same task passes the gate (waiting would be on itself); it may read, and a write there meets
    SQLite's own lock as before."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None

    async def acquire(self) -> bool:
        """True when this call took the gate (and must release it)."""
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            return False
        await self._lock.acquire()
        self._owner = task
        return True

    def release(self) -> None:
        self._owner = None
        self._lock.release()


class SqlUnitOfWorkFactory:
    """What bootstrap hands to core as its `UnitOfWorkFactory`."""

    def __init__(self, engine: AsyncEngine) -> None:
        start_mappers()
        self.engine = engine
        self._session_factory = async_sessionmaker(
            engine, expire_on_commit=False, sync_session_class=TrackingSession
        )
        self._gate = WriterGate() if engine.dialect.name == "sqlite" else None

    @property
    def gated(self) -> bool:
        """True on SQLite: this process's units of work run one at a time (see WriterGate)."""
        return self._gate is not None

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._session_factory, self._gate)
