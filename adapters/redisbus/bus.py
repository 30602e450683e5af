"""The live-event bus across replicas (R25): Redis pub/sub on `rflow:account:<id>`.

A publish is delivered to this process's subscribers directly and sent to Redis for the other
replicas; each replica pattern-subscribes to every account channel and skips its own echoes (the
envelope names its origin). Subscribers get the same bounded queues and drop policy as the
in-memory bus. A Redis failure is logged and swallowed: `publish` never raises, and is bounded by
`publish_timeout` so it never holds up the action that published. The listener reconnects with
backoff until `close()`.

Wire format: `{"origin": "<replica id>", "event": {...}}` as UTF-8 JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from core.bus import DEFAULT_MAX_QUEUE, LocalFanout, LocalSubscription, json_default

log = logging.getLogger(__name__)

DEFAULT_CHANNEL_PREFIX = "rflow:account:"


class RedisBus:
    """Implements `core.ports.services.EventBus`; call `start()` once and `close()` at shutdown."""

    def __init__(
        self,
        url: str,
        *,
        channel_prefix: str = DEFAULT_CHANNEL_PREFIX,
        publish_timeout: float = 1.0,
        connect_timeout: float = 1.0,
        max_backoff: float = 5.0,
    ) -> None:
        self.channel_prefix = channel_prefix
        self.origin = uuid.uuid4().hex
        self.client_name = f"rflow-bus-{self.origin[:12]}"  # visible in CLIENT LIST
        self.publish_timeout = publish_timeout
        self.max_backoff = max_backoff
        self._fanout = LocalFanout()
        # No client-side retries: a dead Redis must fail fast, the listener loop does the retrying.
        self._client = redis.Redis.from_url(
            url,
            socket_connect_timeout=connect_timeout,
            socket_timeout=None,
            retry=Retry(NoBackoff(), 0),
            client_name=self.client_name,
        )
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._closing = False
        self.received = 0
        self.publish_failures = 0

    def channel(self, account_id: int) -> str:
        return f"{self.channel_prefix}{account_id}"

    @property
    def listening(self) -> bool:
        """True while the pattern subscription is live (for health checks)."""
        return self._ready.is_set()

    async def start(self, *, ready_timeout: float = 2.0) -> bool:
        """Start listening; waits up to `ready_timeout` for the subscription. Never raises: with
        Redis down the bot still runs on local delivery and the listener keeps retrying."""
        if self._listener is None:
            self._closing = False
            self._listener = asyncio.create_task(self._listen(), name="redisbus-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), ready_timeout)
        return self.listening

    async def close(self) -> None:
        self._closing = True
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        self._ready.clear()
        self._fanout.close_all()
        with contextlib.suppress(Exception):
            await self._client.aclose()

    def subscribe(self, account_id: int, *, max_queue: int = DEFAULT_MAX_QUEUE) -> LocalSubscription:
        return self._fanout.subscribe(account_id, max_queue)

    def subscriber_count(self, account_id: int | None = None) -> int:
        return self._fanout.subscriber_count(account_id)

    async def publish(self, account_id: int, event: dict[str, Any]) -> None:
        try:
            payload = json.dumps({"origin": self.origin, "event": event}, default=json_default)
            local = json.loads(payload)["event"]
        except Exception:
            log.exception("redis bus: event for account %s is not JSON; dropped", account_id)
            return
        if not isinstance(local, dict):
            log.error("redis bus: event for account %s is not a JSON object; dropped", account_id)
            return
        self._fanout.deliver(account_id, local)
        try:
            await asyncio.wait_for(self._client.publish(self.channel(account_id), payload), self.publish_timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # R25: a bus failure never fails the action that published
            self.publish_failures += 1
            log.warning("redis bus: publish for account %s failed (%s); other replicas miss it",
                        account_id, type(exc).__name__)

    async def _listen(self) -> None:
        backoff = 0.1
        while not self._closing:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(f"{self.channel_prefix}*")
                self._ready.set()
                if backoff > 0.1:
                    log.info("redis bus: listening again on %s*", self.channel_prefix)
                backoff = 0.1
                while not self._closing:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None:
                        self._on_message(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._ready.clear()
                log.warning("redis bus: listener lost Redis (%s); retrying in %.1fs", type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _on_message(self, message: dict[str, Any]) -> None:
        """Decode one pub/sub message; anything malformed is logged and skipped, never fatal."""
        try:
            channel = _text(message.get("channel"))
            account_id = int(channel.removeprefix(self.channel_prefix))
            envelope = json.loads(_text(message.get("data")))
            event = envelope["event"]
            if not isinstance(event, dict):
                raise ValueError("event is not an object")
        except Exception as exc:
            log.warning("redis bus: ignoring a malformed message (%s)", type(exc).__name__)
            return
        if envelope.get("origin") == self.origin:
            return  # already delivered locally by `publish`
        self.received += 1
        self._fanout.deliver(account_id, event)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return value
    raise TypeError(f"unexpected {type(value).__name__}")
