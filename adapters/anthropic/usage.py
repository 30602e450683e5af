"""Per-call token accounting and the prompt-cache watchdog (R32).

Below a model's caching minimum the API silently caches nothing, so the only signal that caching
broke (a prompt edit made the prefix too short, or something volatile crept into it) is cache reads
staying at zero. The watchdog warns on the third consecutive cacheable call without a read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("rflow.assistant")

ZERO_READ_STREAK_WARNING = 3


@dataclass(frozen=True, kw_only=True)
class CallUsage:
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int

    @classmethod
    def from_sdk(cls, model: str, usage: Any) -> CallUsage:
        def count(name: str) -> int:
            value = getattr(usage, name, None)
            return value if isinstance(value, int) else 0

        return cls(
            model=model,
            input_tokens=count("input_tokens"),
            output_tokens=count("output_tokens"),
            cache_read_input_tokens=count("cache_read_input_tokens"),
            cache_creation_input_tokens=count("cache_creation_input_tokens"),
        )


class CacheWatch:
    """Counts consecutive cacheable calls that read nothing from the cache."""

    def __init__(self, threshold: int = ZERO_READ_STREAK_WARNING) -> None:
        self.threshold = threshold
        self.zero_read_streak = 0

    def record(self, *, purpose: str, usage: CallUsage, duration_ms: int, cacheable: bool) -> None:
        log.info(
            "assistant %s: model=%s input_tokens=%d output_tokens=%d cache_read_input_tokens=%d "
            "cache_creation_input_tokens=%d duration_ms=%d",
            purpose,
            usage.model,
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_input_tokens,
            usage.cache_creation_input_tokens,
            duration_ms,
            extra={"assistant_purpose": purpose, "assistant_usage": usage.__dict__, "duration_ms": duration_ms},
        )
        if not cacheable:
            return
        if usage.cache_read_input_tokens > 0:
            self.zero_read_streak = 0
            return
        self.zero_read_streak += 1
        if self.zero_read_streak % self.threshold == 0:
            log.warning(
                "prompt cache: %d consecutive %s calls on %s sent a cacheable prefix and read 0 "
                "tokens from the cache (the prefix may be below the model's caching minimum, or "
                "change between calls)",
                self.zero_read_streak,
                purpose,
                usage.model,
            )
