"""The in-process live-event bus (R25) and the local fan-out every bus shares.

Each subscriber owns a bounded queue. A slow subscriber loses events (counted in `dropped`) rather
than slowing the publisher: `publish` never blocks and never raises, so a bus problem can never
undo or delay the action that published (R22, R25). Events are JSON objects; they are normalised
through JSON so a subscriber sees the same shape on this bus and on the Redis one.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_MAX_QUEUE = 100


def json_default(value: Any) -> Any:
    """Datetimes as ISO 8601, sets as lists, anything else as its str()."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


def encode_event(event: dict[str, Any]) -> str:
    return json.dumps(event, default=json_default)


def normalise_event(event: dict[str, Any]) -> dict[str, Any]:
    """A JSON-shaped copy of the event, whatever bus carries it."""
    copied = json.loads(encode_event(event))
    if not isinstance(copied, dict):
        raise TypeError("an event must be a JSON object")
    return copied


class LocalSubscription:
    """One subscriber's bounded queue; implements `core.ports.services.Subscription`."""

    def __init__(self, fanout: LocalFanout, account_id: int, max_queue: int) -> None:
        self.account_id = account_id
        self._fanout = fanout
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=max(1, max_queue))
        self._dropped = 0
        self._closed = False

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def closed(self) -> bool:
        return self._closed

    def offer(self, event: dict[str, Any]) -> None:
        if self._closed:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._dropped += 1

    async def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next event, or None on timeout or once closed."""
        if self._closed:
            return None
        try:
            event = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
        return None if self._closed else event

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._fanout.remove(self)
        try:
            self._queue.put_nowait(None)  # wakes a waiting `get`
        except asyncio.QueueFull:
            pass  # nobody is waiting on a full queue

    def __enter__(self) -> LocalSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalFanout:
    """Per-account subscriber lists in this process."""

    def __init__(self) -> None:
        self._subscribers: dict[int, list[LocalSubscription]] = {}

    def subscribe(self, account_id: int, max_queue: int = DEFAULT_MAX_QUEUE) -> LocalSubscription:
        subscription = LocalSubscription(self, account_id, max_queue)
        self._subscribers.setdefault(account_id, []).append(subscription)
        return subscription

    def remove(self, subscription: LocalSubscription) -> None:
        subscribers = self._subscribers.get(subscription.account_id, [])
        if subscription in subscribers:
            subscribers.remove(subscription)
        if not subscribers:
            self._subscribers.pop(subscription.account_id, None)

    def deliver(self, account_id: int, event: dict[str, Any]) -> int:
        """Offer the event to every subscriber of the account, each its own copy so none can
        mutate what another receives; returns how many there were."""
        subscribers = list(self._subscribers.get(account_id, ()))
        for index, subscription in enumerate(subscribers):
            subscription.offer(event if index == 0 else copy.deepcopy(event))
        return len(subscribers)

    def subscriber_count(self, account_id: int | None = None) -> int:
        if account_id is not None:
            return len(self._subscribers.get(account_id, ()))
        return sum(len(subs) for subs in self._subscribers.values())

    def close_all(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription.close()


class InMemoryBus:
    """The default bus for a single process; implements `core.ports.services.EventBus`."""

    def __init__(self) -> None:
        self._fanout = LocalFanout()

    async def publish(self, account_id: int, event: dict[str, Any]) -> None:
        try:
            self._fanout.deliver(account_id, normalise_event(event))
        except Exception:  # R25: never let the bus fail the action that published
            log.exception("event bus: dropping an event for account %s that could not be delivered", account_id)

    def subscribe(self, account_id: int, *, max_queue: int = DEFAULT_MAX_QUEUE) -> LocalSubscription:
        return self._fanout.subscribe(account_id, max_queue)

    def subscriber_count(self, account_id: int | None = None) -> int:
        return self._fanout.subscriber_count(account_id)

    async def close(self) -> None:
        self._fanout.close_all()
