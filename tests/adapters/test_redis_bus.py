"""R25 across replicas: the Redis bus against a real Redis, and with Redis gone."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from adapters.redisbus.bus import DEFAULT_CHANNEL_PREFIX, RedisBus
from tests.services import redis_url_or_skip


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique_prefix() -> str:
    """Pub/sub channels ignore the database number: keep parallel runs from hearing each other."""
    return f"rflow-test-{uuid.uuid4().hex[:8]}:account:"


# --- Redis unreachable ----------------------------------------------------------------------


async def test_publish_with_a_dead_redis_does_not_raise_and_still_reaches_local_subscribers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = RedisBus(f"redis://127.0.0.1:{closed_port()}/0", publish_timeout=0.5)
    try:
        assert await bus.start(ready_timeout=0.3) is False
        assert not bus.listening
        sub = bus.subscribe(1)
        started = asyncio.get_running_loop().time()
        with caplog.at_level(logging.WARNING, logger="adapters.redisbus.bus"):
            await bus.publish(1, {"type": "escalation_created", "handoff_id": 4})
        assert asyncio.get_running_loop().time() - started < 1.0
        assert bus.publish_failures == 1
        assert "publish for account 1 failed" in caplog.text
        assert await sub.get(timeout=1) == {"type": "escalation_created", "handoff_id": 4}
    finally:
        await bus.close()


async def test_a_bad_event_is_dropped_without_raising() -> None:
    bus = RedisBus(f"redis://127.0.0.1:{closed_port()}/0")
    sub = bus.subscribe(1)
    await bus.publish(1, ["not", "an", "object"])  # type: ignore[arg-type]
    assert await sub.get(timeout=0.05) is None
    await bus.close()


async def test_local_drop_policy_is_the_same_as_in_memory() -> None:
    bus = RedisBus(f"redis://127.0.0.1:{closed_port()}/0", publish_timeout=0.2)
    sub = bus.subscribe(1, max_queue=1)
    for n in range(3):
        await bus.publish(1, {"n": n})
    assert sub.dropped == 2 and await sub.get(timeout=1) == {"n": 0}
    await bus.close()


# --- a real Redis ---------------------------------------------------------------------------


@pytest.fixture
async def redis_url() -> str:
    return redis_url_or_skip()


@pytest.fixture
async def replicas(redis_url: str) -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    prefix = unique_prefix()
    one, two = RedisBus(redis_url, channel_prefix=prefix), RedisBus(redis_url, channel_prefix=prefix)
    assert await one.start() and await two.start()
    yield one, two
    await one.close()
    await two.close()


@pytest.mark.redis
async def test_a_publish_on_one_replica_reaches_subscribers_on_both(replicas: tuple[RedisBus, RedisBus]) -> None:
    one, two = replicas
    here, there, elsewhere = one.subscribe(7), two.subscribe(7), two.subscribe(8)
    await one.publish(7, {"type": "escalation_claimed", "by": "Sam"})
    assert await there.get(timeout=2) == {"type": "escalation_claimed", "by": "Sam"}
    assert await here.get(timeout=2) == {"type": "escalation_claimed", "by": "Sam"}
    assert await here.get(timeout=0.2) is None  # its own echo from Redis is not delivered twice
    assert await elsewhere.get(timeout=0.2) is None  # another account hears nothing
    assert two.received == 1 and one.received == 0


@pytest.mark.redis
async def test_fan_out_and_drop_when_full_across_replicas(replicas: tuple[RedisBus, RedisBus]) -> None:
    one, two = replicas
    roomy, tight = two.subscribe(3, max_queue=50), two.subscribe(3, max_queue=2)
    for n in range(5):
        await one.publish(3, {"n": n})
    got = [await roomy.get(timeout=2) for _ in range(5)]
    assert got == [{"n": n} for n in range(5)]
    assert tight.dropped == 3
    assert [await tight.get(timeout=1), await tight.get(timeout=1)] == [{"n": 0}, {"n": 1}]


@pytest.mark.redis
async def test_default_channel_name_and_wire_format(redis_url: str) -> None:
    account = 900_000_000 + uuid.uuid4().int % 1_000_000
    raw = redis.Redis.from_url(redis_url)
    pubsub = raw.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(f"rflow:account:{account}")
    bus = RedisBus(redis_url)
    try:
        assert bus.channel_prefix == DEFAULT_CHANNEL_PREFIX == "rflow:account:"
        await bus.publish(account, {"type": "session_resolved", "session_id": 12})
        message = None
        for _ in range(20):
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message:
                break
        assert message is not None
        envelope = json.loads(message["data"])
        assert envelope["event"] == {"type": "session_resolved", "session_id": 12}
        assert envelope["origin"] == bus.origin
    finally:
        await bus.close()
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await raw.aclose()


@pytest.mark.redis
async def test_malformed_messages_are_skipped_and_the_listener_survives(redis_url: str) -> None:
    prefix = unique_prefix()
    bus = RedisBus(redis_url, channel_prefix=prefix)
    raw = redis.Redis.from_url(redis_url)
    try:
        assert await bus.start()
        sub = bus.subscribe(5)
        await raw.publish(f"{prefix}5", b"not json")
        await raw.publish(f"{prefix}five", json.dumps({"origin": "x", "event": {"a": 1}}))
        await raw.publish(f"{prefix}5", json.dumps({"origin": "x", "event": [1]}))
        await raw.publish(f"{prefix}5", json.dumps({"origin": "other-replica", "event": {"ok": True}}))
        assert await sub.get(timeout=2) == {"ok": True}
        assert await sub.get(timeout=0.2) is None
    finally:
        await bus.close()
        await raw.aclose()


@pytest.mark.redis
async def test_listener_reconnects_after_its_connection_is_killed(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = unique_prefix()
    bus = RedisBus(redis_url, channel_prefix=prefix)
    other = RedisBus(redis_url, channel_prefix=prefix)
    admin = redis.Redis.from_url(redis_url)
    try:
        assert await bus.start()
        sub = bus.subscribe(1)
        listeners = [c for c in await admin.client_list(_type="pubsub") if c.get("name") == bus.client_name]
        assert len(listeners) == 1
        with caplog.at_level(logging.WARNING, logger="adapters.redisbus.bus"):
            await admin.client_kill_filter(_id=listeners[0]["id"])
            for _ in range(50):  # the listener notices, backs off, and subscribes again
                await asyncio.sleep(0.1)
                await other.publish(1, {"n": "after"})
                if (event := await sub.get(timeout=0.05)) is not None:
                    break
            else:
                pytest.fail("the listener never came back")
        assert event == {"n": "after"} and bus.listening
        assert "listener lost Redis" in caplog.text
    finally:
        await bus.close()
        await other.close()
        await admin.aclose()


@pytest.mark.redis
async def test_close_stops_listening_and_closes_subscriptions(redis_url: str) -> None:
    bus = RedisBus(redis_url, channel_prefix=unique_prefix())
    assert await bus.start()
    sub = bus.subscribe(1)
    await bus.close()
    assert not bus.listening and sub.closed
    assert await sub.get(timeout=0.01) is None
