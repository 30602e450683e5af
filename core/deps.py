"""The engine's dependencies, wired once by `bot/bootstrap.py` (or a test)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from core.assistant.types import (
    AssistantContext,
    AssistantTurn,
    AssistantUnavailable,
    ComposedText,
    ComposeRequest,
    FactSynthesisRequest,
    ReplyListener,
)
from core.clock import SystemClock
from core.ports import UnitOfWorkFactory
from core.ports.psa import PsaProvider
from core.ports.services import Assistant, Clock, EventBus, Notifier


class SecretBox(Protocol):
    """Encryption at rest for credentials (RF_SECRET_KEY). `decrypt` raises ValueError on a wrong key."""

    def encrypt(self, plaintext: str) -> str: ...
    def decrypt(self, token: str) -> str: ...


class AssistantOff:
    """The assistant when no API key is configured (R16): every call is unavailable."""

    enabled = False

    async def respond(self, context: AssistantContext, on_text: ReplyListener | None = None) -> AssistantTurn:
        raise AssistantUnavailable("the assistant is off (no API key configured)")

    async def synthesize_fact(self, request: FactSynthesisRequest) -> str:
        raise AssistantUnavailable("the assistant is off (no API key configured)")

    async def compose(self, request: ComposeRequest) -> ComposedText:
        raise AssistantUnavailable("the assistant is off (no API key configured)")


@dataclass(frozen=True, kw_only=True)
class EngineSettings:
    """The engine's tunables, read from the environment by bot/settings.py; fixed once running."""

    history_window: int = 40
    turn_lease_seconds: float = 30.0  # renewed while the turn runs; a dead worker's turn is redone after it
    turn_concurrency: int = 16  # assistant turns one process runs at once (R37)
    turn_deadline_seconds: float = 150.0  # one assistant call, whatever the adapter does; then R16
    preview_cache_size: int = 5000
    writeback_lease_seconds: float = 120.0
    writeback_max_attempts: int = 5


class Notifiers:
    """The surfaces that hear the engine's events. The composition root adds each surface's notifier
    once it is built (a surface needs the engine first); nothing else changes the set."""

    def __init__(self, initial: Iterable[Notifier] = ()) -> None:
        self._all: list[Notifier] = list(initial)

    def add(self, notifier: Notifier) -> None:
        self._all.append(notifier)

    def __iter__(self) -> Iterator[Notifier]:
        return iter(tuple(self._all))

    def __len__(self) -> int:
        return len(self._all)


@dataclass(kw_only=True)
class Deps:
    """The ports the engine talks through, and its settings apart from them. Wired once by the
    composition root; neither the engine nor an adapter changes it (a test may swap a port)."""

    uow_factory: UnitOfWorkFactory
    bus: EventBus
    assistant: Assistant = field(default_factory=AssistantOff)
    clock: Clock = field(default_factory=SystemClock)
    notifiers: Notifiers = field(default_factory=Notifiers)
    secret_box: SecretBox | None = None
    psa: PsaProvider | None = None
    settings: EngineSettings = field(default_factory=EngineSettings)
