"""Staying inside Teams' per-conversation rate limits, and retrying what Teams says to retry.

Teams documents per bot per thread: 7 operations per 1 s, 8 per 2 s, 60 per 30 s, 1800 per hour, and
asks bots to retry 429, 412, 502 and 504 with exponential backoff and jitter
(learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import aiohttp

log = logging.getLogger(__name__)

T = TypeVar("T")

TEAMS_THREAD_WINDOWS: tuple[tuple[float, int], ...] = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))
RETRYABLE_STATUSES = frozenset({412, 429, 502, 504})


class ConversationPacer:
    """Sliding-window limits per conversation; `acquire` waits until the next call is allowed.

    Slots are reserved under a per-conversation lock and waited for outside it, so concurrent
    senders to one conversation queue up in order while other conversations are not held back.
    """

    def __init__(self, windows: tuple[tuple[float, int], ...] = TEAMS_THREAD_WINDOWS) -> None:
        self._windows = windows
        self._horizon = max(span for span, _ in windows)
        self._keep = max(limit for _, limit in windows)
        self._history: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def acquire(self, conversation_id: str) -> None:
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        async with lock:
            history = self._history.setdefault(conversation_id, deque(maxlen=self._keep))
            now = time.monotonic()
            at = now
            for span, limit in self._windows:
                if len(history) >= limit:
                    # The call `limit` places back must have left this window before we go.
                    at = max(at, history[-limit] + span)
            history.append(at)
        if at > now:
            await asyncio.sleep(at - now)
        self._forget_idle(time.monotonic())

    def _forget_idle(self, now: float) -> None:
        if len(self._history) < 1000:
            return
        for key in [k for k, h in self._history.items() if not h or now - h[-1] > self._horizon]:
            lock = self._locks.get(key)
            if lock is None or not lock.locked():
                self._history.pop(key, None)
                self._locks.pop(key, None)


class TeamsApiError(Exception):
    """The connector refused a call for good (or asked us to wait longer than we are willing to)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 30.0  # a longer Retry-After goes back to the caller's queue
    statuses: frozenset[int] = field(default=RETRYABLE_STATUSES)

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for attempt 1, 2, ..."""
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


async def call_with_retries(operation: Callable[[], Awaitable[T]], *, what: str, policy: RetryPolicy,
                            pace: Callable[[], Awaitable[None]] | None = None) -> T:
    """Run `operation`, pacing every attempt, retrying the statuses Teams marks as transient."""
    attempt = 0
    while True:
        attempt += 1
        if pace is not None:
            await pace()
        try:
            return await operation()
        except aiohttp.ClientResponseError as exc:
            retry_after = _retry_after_s(exc.headers.get("Retry-After") if exc.headers else None)
            if exc.status not in policy.statuses or attempt >= policy.attempts:
                raise TeamsApiError(f"{what} failed: HTTP {exc.status}", status=exc.status,
                                    retry_after_s=retry_after) from exc
            if retry_after is not None and retry_after > policy.max_retry_after_s:
                raise TeamsApiError(f"{what} throttled for {retry_after:.0f}s", status=exc.status,
                                    retry_after_s=retry_after) from exc
            delay = policy.backoff(attempt) if retry_after is None else retry_after + random.uniform(0, 0.25)
            log.info("%s: HTTP %s, retry %d in %.2fs", what, exc.status, attempt, delay)
        except aiohttp.ClientConnectorError as exc:
            # Nothing reached the connector, so a retry cannot duplicate a message.
            if attempt >= policy.attempts:
                raise TeamsApiError(f"{what} failed: cannot connect") from exc
            delay = policy.backoff(attempt)
            log.info("%s: cannot connect, retry %d in %.2fs", what, attempt, delay)
        await asyncio.sleep(delay)


def _retry_after_s(value: str | None) -> float | None:
    """Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
