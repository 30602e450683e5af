"""The reply text of a forced tool call, read while its input JSON streams in (R37).

The answer is `update_session` input, so the chat reply is a string field inside a JSON object
that arrives as `input_json_delta` chunks. jiter (the SDK's own partial-JSON parser) in
'trailing-strings' mode reads an unfinished string as far as it goes, and drops an escape or
surrogate pair cut in half, so every snapshot is a prefix of the final value. Only the growing
text comes out of here: tool input is applied from the final message alone (R33).
"""

from __future__ import annotations

import logging
from typing import Any

from jiter import from_json

from core.assistant.types import ReplyListener

log = logging.getLogger("rflow.assistant")


class PartialField:
    """The growing value of one top-level string field of a JSON object fed in chunks."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.value = ""
        self.done = False  # the field is complete (a later key started) or can no longer be read
        self._buffer = bytearray()

    def feed(self, chunk: str) -> str | None:
        """The value so far when this chunk made it grow, else None."""
        if self.done or not chunk:
            return None
        self._buffer += chunk.encode("utf-8")
        try:
            parsed = from_json(bytes(self._buffer), partial_mode="trailing-strings")
        except ValueError:
            self.done = True  # malformed: the final message decides what happens (MALFORMED)
            return None
        if not isinstance(parsed, dict) or self.name not in parsed:
            return None
        value = parsed[self.name]
        if not isinstance(value, str):
            self.done = True
            return None
        if next(reversed(parsed)) != self.name:
            self.done = True  # a later key has begun, so the string is closed: stop re-parsing
        if len(value) > len(self.value) and value.startswith(self.value):
            self.value = value
            return value
        return None


class GrowingPrefix:
    """Passes on only text that extends what the listener was already shown. An answer asked again
    (a larger output budget, a shorter prompt) streams from the start and may word things
    differently: the shown reply then waits instead of shrinking or jumping, and the final reply
    replaces it as always (R37)."""

    def __init__(self, listener: ReplyListener | None) -> None:
        self.listener = listener
        self.shown = ""

    def offer(self, text: str) -> None:
        if self.listener is not None and len(text) > len(self.shown) and text.startswith(self.shown):
            self.shown = text
            self.listener(text)


class ReplyStream:
    """Watches the SDK's stream events for one tool's input and tells `on_text` the reply so far.
    `reply` keeps the text so far even without a listener: of an answer cut at its output limit,
    it is what can still be shown.

    The listener is the engine's and must not block; if it raises, the error is logged once and
    the listener is dropped, so the stream (and the turn) carry on."""

    def __init__(self, *, tool: str, on_text: ReplyListener | None, field: str = "reply") -> None:
        self.tool = tool
        self.field_name = field
        self._on_text = on_text
        self._index: int | None = None
        self._field: PartialField | None = None

    @property
    def reply(self) -> str:
        return self._field.value if self._field is not None else ""

    def on_event(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == "content_block_start":
            block = getattr(event, "content_block", None)
            is_ours = getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == self.tool
            if self._index is None and is_ours:
                self._index = event.index
                self._field = PartialField(self.field_name)
        elif kind == "content_block_delta" and self._field is not None and event.index == self._index:
            delta = event.delta
            if getattr(delta, "type", None) == "input_json_delta":
                grown = self._field.feed(delta.partial_json)
                if grown is not None and self._on_text is not None:
                    self._notify(grown)

    def _notify(self, text: str) -> None:
        assert self._on_text is not None
        try:
            self._on_text(text)
        except Exception:  # noqa: BLE001 - a listener bug must not break the turn
            log.exception("assistant reply listener failed; no more progress for this turn")
            self._on_text = None
