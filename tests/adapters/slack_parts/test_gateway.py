"""SlackGateway against FakeSlack over real HTTP (127.0.0.1, port 0): per-channel pacing, the 429
retry handler honouring Retry-After, failures reported instead of raised, the users.info cache,
and answers through a response_url."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator

import pytest

from adapters.slack.gateway import ChannelPacer, SlackGateway
from tests.adapters.slack_gateways import warm_gateway
from tests.fakes.slack_api import FakeSlack

# Arrival times are taken by the fake, after each request crossed the loopback; one request may
# take a few milliseconds longer than the next, so spacing is checked with this much slack.
JITTER = 0.02


async def token_for(team_id: str) -> str | None:
    return {"T1": "xoxb-test", "T2": "xoxb-revoked"}.get(team_id)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


@pytest.fixture
async def gateway(fake: FakeSlack) -> AsyncIterator[SlackGateway]:
    async with warm_gateway(fake, token_for, post_interval=0.3) as gw:
        yield gw


# ---- pacing -----------------------------------------------------------------------------------


async def test_posts_to_one_channel_are_spaced_by_the_interval_and_keep_their_order(
        fake: FakeSlack, gateway: SlackGateway) -> None:
    results = await asyncio.gather(*(gateway.post("T1", "C1", f"message {n}") for n in range(3)))
    assert all(results) and len(set(results)) == 3
    times = fake.call_times("chat.postMessage", "C1")
    assert len(times) == 3
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert all(gap >= 0.3 - JITTER for gap in gaps), gaps
    assert [m["text"] for m in fake.history("C1")] == ["message 0", "message 1", "message 2"]


async def test_posts_to_two_channels_are_not_serialized(fake: FakeSlack, gateway: SlackGateway) -> None:
    """C1's second post waits its 0.3 s; C2's posts are queued behind it yet must not wait for it."""
    await asyncio.gather(gateway.post("T1", "C1", "a1"), gateway.post("T1", "C1", "a2"),
                         gateway.post("T1", "C2", "b1"), gateway.post("T1", "C2", "b2"))
    c1, c2 = fake.call_times("chat.postMessage", "C1"), fake.call_times("chat.postMessage", "C2")
    assert len(c1) == len(c2) == 2
    assert abs(c2[0] - c1[0]) < 0.2  # b1 did not wait for a2's pause
    assert abs(c2[1] - c1[1]) < 0.2
    assert c1[1] - c1[0] >= 0.3 - JITTER and c2[1] - c2[0] >= 0.3 - JITTER
    assert [m["text"] for m in fake.history("C1")] == ["a1", "a2"]
    assert [m["text"] for m in fake.history("C2")] == ["b1", "b2"]


async def test_the_pacer_lets_the_first_post_through_at_once_and_remembers_the_channel() -> None:
    pacer = ChannelPacer(0.2)
    started = time.monotonic()
    await pacer.wait("C1")
    await pacer.wait("C2")
    assert time.monotonic() - started < 0.1
    await pacer.wait("C1")
    assert time.monotonic() - started >= 0.2


# ---- rate limits ------------------------------------------------------------------------------


async def test_a_429_is_retried_after_retry_after_and_stored_once(fake: FakeSlack, gateway: SlackGateway) -> None:
    fake.rate_limit_next("chat.postMessage", retry_after=1)
    started = time.monotonic()
    ts = await gateway.post("T1", "C1", "after the limit")
    elapsed = time.monotonic() - started
    assert ts is not None
    assert fake.count("chat.postMessage") == 2
    assert [call.status for call in fake.all_calls] == [429, 200]
    assert [m["text"] for m in fake.history("C1")] == ["after the limit"]
    assert fake.history("C1")[0]["ts"] == ts
    assert elapsed >= 1.0
    times = fake.call_times("chat.postMessage")
    assert times[1] - times[0] >= 1.0 - JITTER


async def test_rate_limits_beyond_the_retries_give_none_and_nothing_raises(
        fake: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    gw = SlackGateway(token_for=token_for, api_url=fake.base_url, post_interval=0, max_rate_limit_retries=1)
    fake.rate_limit_next("chat.postMessage", retry_after=0, times=2)
    with caplog.at_level(logging.WARNING, logger="rflow.slack"):
        assert await gw.post("T1", "C1", "never lands") is None
    await gw.close()
    assert fake.count("chat.postMessage") == 2
    assert fake.history("C1") == []
    assert "ratelimited" in caplog.text


# ---- failures ---------------------------------------------------------------------------------


async def test_a_failed_update_returns_false_and_is_logged(fake: FakeSlack, gateway: SlackGateway,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    ts = await gateway.post("T1", "C1", "v1")
    assert ts is not None
    fake.fail_next("chat.update", "message_not_found")
    with caplog.at_level(logging.WARNING, logger="rflow.slack"):
        assert await gateway.update("T1", "C1", ts, "v2") is False
    assert "message_not_found" in caplog.text
    assert fake.message("C1", ts)["text"] == "v1"  # type: ignore[index]
    assert await gateway.update("T1", "C1", ts, "v3") is True
    assert fake.message("C1", ts)["text"] == "v3"  # type: ignore[index]
    assert fake.count("chat.update") == 2


async def test_an_unknown_or_revoked_workspace_gives_none_and_nothing_raises(
        fake: FakeSlack, gateway: SlackGateway) -> None:
    assert await gateway.post("T404", "C1", "no token") is None
    assert fake.count("chat.postMessage") == 0  # no token: never sent
    assert await gateway.post("T2", "C1", "bad token") is None
    assert [call.error for call in fake.all_calls] == ["invalid_auth"]
    assert await gateway.update("T2", "C1", "1.0", "x") is False
    assert await gateway.ephemeral("T404", "C1", "U1", "x") is False
    assert await gateway.dm("T2", "U1", "x") is None
    assert fake.history("C1") == []


# ---- users.info -------------------------------------------------------------------------------


async def test_users_info_is_cached(fake: FakeSlack, gateway: SlackGateway) -> None:
    fake.add_user("U1", "Ada Lovelace", email="ada@acme.test", is_admin=True)
    fake.add_user("U2", "Bob Byte", is_owner=True)
    first = await gateway.user("T1", "U1")
    second = await gateway.user("T1", "U1")
    assert first == second
    assert fake.count("users.info") == 1
    assert (first.id, first.team_id, first.name, first.email) == ("U1", "T1", "Ada", "ada@acme.test")
    assert first.is_admin and not first.is_bot
    bob = await gateway.user("T1", "U2")
    assert bob.is_admin and bob.email is None  # owners count as admins; no email was seeded
    assert fake.count("users.info") == 2


async def test_a_failed_users_info_falls_back_to_the_id_and_is_not_cached(
        fake: FakeSlack, gateway: SlackGateway) -> None:
    ghost = await gateway.user("T1", "U404")
    assert (ghost.name, ghost.email, ghost.is_admin) == ("U404", None, False)
    fake.add_user("U404", "Gus Ghost", email="gus@acme.test")
    found = await gateway.user("T1", "U404")
    assert (found.name, found.email) == ("Gus", "gus@acme.test")
    assert fake.count("users.info") == 2


async def test_no_email_without_the_email_scope() -> None:
    async with FakeSlack(email_scope=False) as fake:
        fake.add_user("U1", "Ada Lovelace", email="ada@acme.test")
        gw = SlackGateway(token_for=token_for, api_url=fake.base_url)
        user = await gw.user("T1", "U1")
        await gw.close()
    assert user.email is None
    assert user.name == "Ada"


# ---- response_url -----------------------------------------------------------------------------


async def test_respond_posts_an_ephemeral_answer_to_the_response_url(fake: FakeSlack, gateway: SlackGateway) -> None:
    url = fake.response_url("cmd")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*done*"}}]
    assert await gateway.respond(url, "done", blocks=blocks) is True
    assert len(fake.responses) == 1
    answer = fake.responses[0]
    assert answer["path"].startswith("/hooks/cmd/")
    assert answer["text"] == "done"
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False
    assert answer["blocks"] == blocks
    assert fake.count("chat.postEphemeral") == 0  # the response_url, not the Web API


async def test_a_refused_or_unreachable_response_url_gives_false(fake: FakeSlack, gateway: SlackGateway) -> None:
    assert await gateway.respond(fake.response_url(), "") is False  # the fake answers 400 no_text
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert await gateway.respond(f"http://127.0.0.1:{port}/hooks/x", "hello") is False
