"""The engine's ports to everything but storage: the assistant, the notifiers, the live-event bus
and the clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from core.assistant.types import (
    AssistantContext,
    AssistantTurn,
    ComposeRequest,
    ComposedText,
    FactSynthesisRequest,
    ReplyListener,
)


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
