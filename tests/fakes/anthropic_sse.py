"""The fake Messages API's streaming events: moved to `bot/stand_in/sse.py` (the stand-in ships in
the wheel for `rflow demo`); this module keeps the tests' imports working."""

from __future__ import annotations

from bot.stand_in.sse import (
    DEFAULT_CHUNK_CHARS,
    Event,
    StreamTiming,
    content_events,
    encode,
    message_end,
    message_start,
    split,
)

__all__ = ["DEFAULT_CHUNK_CHARS", "Event", "StreamTiming", "content_events", "encode", "message_end", "message_start",
           "split"]  # fmt: skip
