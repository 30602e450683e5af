"""Core unit tests: the real engine over the in-memory fake storage and a scripted assistant."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from core.access import Actor
from core.bus import InMemoryBus
from core.deps import Deps, Notifiers
from core.engine import Engine
from core.events import EscalationClaimed, EscalationCreated, SessionResolved
from core.models import Role
from core.notify import QuietNotifier
from tests.fakes.clock import FakeClock
from tests.fakes.memory_uow import MemoryStore, memory_uow_factory
from tests.fakes.scripted_assistant import ScriptedAssistant


@dataclass
class RecordingNotifier(QuietNotifier):
    events: list[object] = field(default_factory=list)
    fail: bool = False

    async def _record(self, event: object) -> None:
        if self.fail:
            raise RuntimeError("channel down")
        self.events.append(event)

    async def escalation_created(self, event: EscalationCreated) -> None:
        await self._record(event)

    async def escalation_claimed(self, event: EscalationClaimed) -> None:
        await self._record(event)

    async def session_resolved(self, event: SessionResolved) -> None:
        await self._record(event)


@dataclass
class World:
    engine: Engine
    assistant: ScriptedAssistant
    clock: FakeClock
    notifier: RecordingNotifier
    store: MemoryStore

    async def member(self, name: str, role: Role | None = None, account: str = "Acme") -> Actor:
        actor, _, _ = await self.engine.accounts.sign_in(account_name=account, platform="test",
                                                         external_id=name.lower(), name=name, role=role)
        return actor


@pytest.fixture
async def world() -> World:
    """Account Acme with its owner Olive already signed in (a new account's first member owns it)."""
    store = MemoryStore()
    assistant = ScriptedAssistant()
    clock = FakeClock()
    notifier = RecordingNotifier()
    deps = Deps(uow_factory=memory_uow_factory(store), bus=InMemoryBus(), assistant=assistant, clock=clock,
                notifiers=Notifiers([notifier]))
    world = World(engine=Engine(deps), assistant=assistant, clock=clock, notifier=notifier, store=store)
    await world.member("Olive")
    return world
