"""The Messages API's streaming events for one answer, and when the fake sends them.

The sequence is the real one (https://platform.claude.com/docs/en/build-with-claude/streaming,
formerly docs.anthropic.com/en/docs/build-with-claude/streaming, "Event types" and "Streaming
request with tool use"; consumed by anthropic-sdk-python `src/anthropic/lib/streaming/_messages.py`
`accumulate_event`): `message_start` (content empty, stop_reason null), then per content block
`content_block_start` / `content_block_delta`... / `content_block_stop` (a `ping` after the first
start; a tool_use block starts with `input: {}` and an empty `input_json_delta`, then the input JSON
as `partial_json` slices), then `message_delta` (stop_reason, cumulative usage) and `message_stop`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

DEFAULT_CHUNK_CHARS = 40  # without a timing: slices of this size, sent back to back


@dataclass(frozen=True)
class StreamTiming:
    """How slowly an answer streams, measured from the request's arrival at the fake.

    `message_start` and the first content slice go out at `first_token` seconds; the remaining
    slices follow evenly, the last at `total` seconds. Each content block (the tool input JSON,
    a text block) is cut into `chunks` slices of about equal length. A non-streaming request is
    answered after `total` seconds."""

    first_token: float = 0.5
    total: float = 4.0
    chunks: int = 40

    def offsets(self, count: int) -> list[float]:
        """Send times (seconds after arrival) of `count` content slices."""
        last = max(self.total, self.first_token)
        if count <= 1:
            return [self.first_token] * count
        step = (last - self.first_token) / (count - 1)
        return [self.first_token + i * step for i in range(count)]

    def as_dict(self) -> dict[str, float | int]:
        return {"first_token": self.first_token, "total": self.total, "chunks": self.chunks}


def split(text: str, *, parts: int | None = None, size: int = DEFAULT_CHUNK_CHARS) -> list[str]:
    """`text` in `parts` slices of about equal length (or slices of `size`); never an empty list.
    Slices may cut an escape sequence in half, as the API's do."""
    if parts is not None:
        size = max(1, math.ceil(len(text) / max(1, parts)))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


@dataclass(frozen=True)
class Event:
    name: str
    data: dict[str, Any]
    content: bool = False  # a slice of generated content: paced by the timing, recorded


def encode(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps({'type': event, **data})}\n\n".encode()


def message_start(message: dict[str, Any]) -> Event:
    start = {**message, "content": [], "stop_reason": None, "usage": {**message["usage"], "output_tokens": 1}}
    return Event("message_start", {"message": start})


def content_events(message: dict[str, Any], timing: StreamTiming | None) -> list[Event]:
    """Everything between `message_start` and `message_delta`, in order."""
    parts = timing.chunks if timing is not None else None
    events: list[Event] = []
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            events.append(Event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}}))
            if index == 0:
                events.append(Event("ping", {}))
            for piece in split(block["text"], parts=parts):
                delta = {"type": "text_delta", "text": piece}
                events.append(Event("content_block_delta", {"index": index, "delta": delta}, content=True))
        else:
            raw = block["input"] if isinstance(block["input"], str) else json.dumps(block["input"])
            events.append(Event("content_block_start", {"index": index, "content_block": {**block, "input": {}}}))
            if index == 0:
                events.append(Event("ping", {}))
            empty = {"type": "input_json_delta", "partial_json": ""}
            events.append(Event("content_block_delta", {"index": index, "delta": empty}))
            for piece in split(raw, parts=parts):
                delta = {"type": "input_json_delta", "partial_json": piece}
                events.append(Event("content_block_delta", {"index": index, "delta": delta}, content=True))
        events.append(Event("content_block_stop", {"index": index}))
    return events


def message_end(message: dict[str, Any]) -> list[Event]:
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    return [
        Event("message_delta", {"delta": delta, "usage": {"output_tokens": message["usage"]["output_tokens"]}}),
        Event("message_stop", {}),
    ]
