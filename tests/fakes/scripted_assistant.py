"""A scripted stand-in for the assistant port, for unit tests of core (the HTTP-level fake of the
Anthropic API is tests/fakes/anthropic_api.py, used by adapter and end-to-end tests)."""

from __future__ import annotations

import asyncio
from collections import deque

from core.assistant.types import (
    AssistantContext,
    AssistantTurn,
    AssistantUnavailable,
    ComposedText,
    ComposeRequest,
    FactSynthesisRequest,
    ReplyListener,
)


def growing_prefixes(text: str, steps: int) -> list[str]:
    """`text` in up to `steps` growing prefixes, the last being `text`: cut after words when it has
    enough of them, else after characters."""
    if not text:
        return []
    steps = max(1, steps)
    words = text.split(" ")
    if len(words) >= steps:
        cuts = sorted({max(1, round(len(words) * i / steps)) for i in range(1, steps + 1)})
        return [" ".join(words[:cut]) for cut in cuts]
    cuts = sorted({max(1, round(len(text) * i / steps)) for i in range(1, steps + 1)})
    return [text[:cut] for cut in cuts]


class ScriptedAssistant:
    """Pops scripted turns. With `on_text` it first streams the reply in `progress_steps` growing
    prefixes, `step_delay` seconds apart (0: just a yield to the loop), recorded in `progress`."""

    enabled = True

    def __init__(self, *, progress_steps: int = 3, step_delay: float = 0.0) -> None:
        self.progress_steps = progress_steps
        self.step_delay = step_delay
        self.progress: list[str] = []
        self.turns: deque[AssistantTurn | AssistantUnavailable] = deque()
        self.facts: deque[str | AssistantUnavailable] = deque()
        self.notes: deque[str | AssistantUnavailable] = deque()
        self.contexts: list[AssistantContext] = []
        self.compose_calls = 0

    async def respond(self, context: AssistantContext, on_text: ReplyListener | None = None) -> AssistantTurn:
        self.contexts.append(context)
        item = self.turns.popleft() if self.turns else AssistantTurn(reply="Noted.")
        if isinstance(item, AssistantUnavailable):
            raise item
        if on_text is not None:
            for prefix in growing_prefixes(item.reply, self.progress_steps):
                await asyncio.sleep(self.step_delay)
                self.progress.append(prefix)
                on_text(prefix)
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
