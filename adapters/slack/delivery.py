"""How one Web API call went, and when the next call of its kind may leave (R37; issue 10 §2).

Slack limits each method per workspace, and chat.postMessage also per channel, answering 429 with
`Retry-After` (api.slack.com/docs/rate-limits). slack_sdk's own retry handler sleeps inside the call
and then gives up; here a 429 closes a gate for that (workspace, method, channel) only, so other
channels go on at once and every later call of that kind waits the gate out instead of hammering.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

# `ok: false` errors worth another try. internal_error and fatal_error are not among them: Slack
# says part of the operation may have happened, and a second post would show the reply twice.
TRANSIENT_ERRORS = frozenset({"ratelimited", "service_unavailable", "request_timeout"})
DEFAULT_RETRY_AFTER = 1.0
JITTER = 0.1  # seconds added to a Retry-After, so calls waiting on one gate do not all leave at once

GateKey = tuple[str, str, str]  # (workspace, method, channel or "")


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """A call's result: the response, or Slack's error and whether trying again can help."""

    response: Any = None
    error: str | None = None
    retry_after: float | None = None  # set on a 429
    transient: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def get(self, key: str) -> Any:
        return None if self.response is None else self.response.get(key)


def failed(exc: Exception) -> Outcome:
    """What a SlackApiError (or a network error) means for trying again."""
    if not isinstance(exc, SlackApiError):
        return Outcome(error=f"network error: {type(exc).__name__} {exc}".strip(), transient=True)
    response = exc.response
    status = int(getattr(response, "status_code", 200) or 200)
    data = getattr(response, "data", None)
    error = str(data.get("error") or "") if isinstance(data, dict) else ""
    if status == 429:
        return Outcome(error=error or "ratelimited", retry_after=retry_after_of(response), transient=True)
    if status >= 500:
        return Outcome(error=error or f"HTTP {status}", transient=True)
    return Outcome(error=error or f"HTTP {status}", transient=error in TRANSIENT_ERRORS)


def retry_after_of(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(0.0, float(str(value))) if value is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


def backoff(failures: int, *, base: float = 0.5, cap: float = 20.0) -> float:
    """Exponential, with jitter: 0.5, 1, 2, 4… seconds, at most `cap`."""
    return min(cap, base * 2.0 ** max(0, failures - 1)) * (1 + random.random() * 0.2)


class RateGates:
    """Until when Slack asked us to leave one kind of call alone."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[GateKey, float] = {}

    def hold(self, key: GateKey, seconds: float) -> None:
        until = self._clock() + seconds + random.random() * JITTER
        self._until[key] = max(until, self._until.get(key, 0.0))

    def remaining(self, key: GateKey) -> float:
        until = self._until.get(key)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            del self._until[key]  # the map does not grow with every channel ever limited
            return 0.0
        return left

    async def wait(self, key: GateKey) -> None:
        while (left := self.remaining(key)) > 0:
            await asyncio.sleep(left)
