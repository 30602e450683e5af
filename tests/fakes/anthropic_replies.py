"""What the fake Messages API answers with: moved to `bot/stand_in/replies.py` (the stand-in ships
in the wheel for `rflow demo`); this module keeps the tests' imports working."""

from __future__ import annotations

from bot.stand_in.replies import (
    ErrorReply,
    HangReply,
    RawReply,
    RepliesByTool,
    Reply,
    TextReply,
    ToolUseReply,
    context_limit_message,
    default_reply,
    fact_input,
    fix_input,
    note_markdown,
    outcome_input,
    prompt_too_long_message,
    update_session_input,
)

__all__ = ["ErrorReply", "HangReply", "RawReply", "RepliesByTool", "Reply", "TextReply", "ToolUseReply",
           "context_limit_message", "default_reply", "fact_input", "fix_input", "note_markdown", "outcome_input",
           "prompt_too_long_message", "update_session_input"]  # fmt: skip
