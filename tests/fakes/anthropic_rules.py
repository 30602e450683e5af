"""What the fake Messages API checks and how it caches: moved to `bot/stand_in/rules.py` (the
stand-in ships in the wheel for `rflow demo`); this module keeps the tests' imports working."""

from __future__ import annotations

from bot.stand_in.rules import (
    CONTEXT_WINDOW,
    DEFAULT_MIN_CACHEABLE_TOKENS,
    LOOKBACK_BLOCKS,
    MAX_BREAKPOINTS,
    InvalidRequest,
    PromptCache,
    context_refusal,
    prompt_tokens,
    tokens,
    validate,
)

__all__ = ["CONTEXT_WINDOW", "DEFAULT_MIN_CACHEABLE_TOKENS", "LOOKBACK_BLOCKS", "MAX_BREAKPOINTS", "InvalidRequest",
           "PromptCache", "context_refusal", "prompt_tokens", "tokens", "validate"]  # fmt: skip
