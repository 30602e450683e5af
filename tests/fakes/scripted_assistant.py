"""A scripted stand-in for the assistant port, for unit tests of core (the HTTP-level fake of the
Anthropic API is tests/fakes/anthropic_api.py, used by adapter and end-to-end tests)."""

from __future__ import annotations

from collections import deque

from core.assistant.types import (
    AssistantContext,
    AssistantTurn,
    AssistantUnavailable,
    ComposeRequest,
    ComposedText,
    FactSynthesisRequest,
)


class ScriptedAssistant:
    enabled = True

    def __init__(self) -> None:
        self.turns: deque[AssistantTurn | AssistantUnavailable] = deque()
        self.facts: deque[str | AssistantUnavailable] = deque()
        self.notes: deque[str | AssistantUnavailable] = deque()
        self.contexts: list[AssistantContext] = []
        self.compose_calls = 0

    async def respond(self, context: AssistantContext) -> AssistantTurn:
        self.contexts.append(context)
        item = self.turns.popleft() if self.turns else AssistantTurn(reply="Noted.")
        if isinstance(item, AssistantUnavailable):
            raise item
        return item

    async def synthesize_fact(self, request: FactSynthesisRequest) -> str:
        item = self.facts.popleft() if self.facts else AssistantUnavailable("nothing scripted")
        if isinstance(item, AssistantUnavailable):
            raise item
        return item

    async def compose(self, request: ComposeRequest) -> ComposedText:
        self.compose_calls += 1
        item = self.notes.popleft() if self.notes else AssistantUnavailable("nothing scripted")
        if isinstance(item, AssistantUnavailable):
            raise item
        return ComposedText(markdown=item, composed_by="assistant")
