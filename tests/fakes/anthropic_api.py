"""The fake Anthropic Messages API the tests and benches use. It lives in `bot/stand_in/` now
(`messages_api.py`, with `sse.py`, `rules.py`, `replies.py`), so the same server ships in the wheel
as the scripted assistant of `rflow demo` (`python -m bot.stand_in`); this module re-exports it so
`from tests.fakes.anthropic_api import FakeAnthropic, ...` keeps working.

Standalone, as before: `python -m tests.fakes.anthropic_api --port N --first-token 0.5 --total 4
[--chunks 40] [--reply TEXT]` prints `listening on http://127.0.0.1:N` and serves until
SIGINT/SIGTERM (the `/_fake/...` endpoints: see bot/stand_in/messages_api.py).
"""

from __future__ import annotations

from bot.stand_in import sse
from bot.stand_in.messages_api import ERROR_TYPES, FakeAnthropic, RecordedRequest, main, max_concurrency, serve
from bot.stand_in.replies import (
    ErrorReply,
    HangReply,
    RawReply,
    Reply,
    TextReply,
    ToolUseReply,
    default_reply,
    fact_input,
    fix_input,
    note_markdown,
    outcome_input,
    prompt_too_long_message,
    update_session_input,
)
from bot.stand_in.rules import (
    CONTEXT_WINDOW,
    DEFAULT_MIN_CACHEABLE_TOKENS,
    InvalidRequest,
    PromptCache,
    context_refusal,
    tokens,
    validate,
)
from bot.stand_in.sse import StreamTiming

__all__ = ["FakeAnthropic", "StreamTiming", "ToolUseReply", "TextReply", "ErrorReply", "HangReply", "RawReply", "Reply",
           "RecordedRequest", "update_session_input", "fact_input", "fix_input", "outcome_input", "note_markdown",
           "default_reply", "max_concurrency", "InvalidRequest", "PromptCache", "validate",
           "ERROR_TYPES", "CONTEXT_WINDOW", "DEFAULT_MIN_CACHEABLE_TOKENS", "context_refusal", "prompt_too_long_message",
           "tokens", "sse", "serve", "main"]  # fmt: skip

if __name__ == "__main__":
    main()
