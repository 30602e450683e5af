"""The engine's ports to everything but storage: the assistant, the notifiers, the live-event bus
and the clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from core.assistant.types import (
    AssistantContext,
    AssistantTurn,
    ComposedText,
    ComposeRequest,
    FactSynthesisRequest,
    ReplyListener,
)
from core.events import (
    EscalationClaimed,
    EscalationCreated,
    MessagePosted,
    ReplyProgress,
    SessionResolved,
    TurnAnswered,
    TurnQueued,
    WritebackFinished,
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
    """A surface that tells people about events (Slack channel post, Teams card, console line):
    one method per event. Called after commit only (R22); failures are logged by the dispatcher
    and never undo anything. `core.notify.QuietNotifier` hears nothing: subclass it and override
    what the surface shows."""

    async def turn_queued(self, event: TurnQueued) -> None: ...
    async def reply_progress(self, event: ReplyProgress) -> None: ...
    async def turn_answered(self, event: TurnAnswered) -> None: ...
    async def message_posted(self, event: MessagePosted) -> None: ...
    async def escalation_created(self, event: EscalationCreated) -> None: ...
    async def escalation_claimed(self, event: EscalationClaimed) -> None: ...
    async def session_resolved(self, event: SessionResolved) -> None: ...
    async def writeback_finished(self, event: WritebackFinished) -> None: ...


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
