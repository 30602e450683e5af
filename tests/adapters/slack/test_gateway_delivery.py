"""SlackGateway's delivery rules against FakeSlack over real HTTP: a 429 closes the gate of one
(workspace, method, channel) only, every later call of that kind waits it out, 5xx and network
errors are retried with backoff, Slack's refusals are not."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from adapters.slack.gateway import SlackGateway
from tests.adapters.slack_gateways import warm_gateway
from tests.fakes.slack_api import FakeSlack


async def token_for(team_id: str) -> str | None:
    return "xoxb-test" if team_id == "T1" else None


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


@pytest.fixture
async def gateway(fake: FakeSlack) -> AsyncIterator[SlackGateway]:
    async with warm_gateway(fake, token_for, post_interval=0) as gw:
        yield gw


async def test_a_429_holds_its_channel_and_method_only(fake: FakeSlack, gateway: SlackGateway) -> None:
    fake.rate_limit_next("chat.postMessage", retry_after=2, channel="C1")
    first = asyncio.create_task(gateway.post("T1", "C1", "a1"))
    await asyncio.sleep(0.2)  # C1 is now gated
    others = await asyncio.gather(gateway.post("T1", "C2", "b1"), gateway.update("T1", "C2", "1.0", "x"),
                                  gateway.post("T1", "C1", "a2"))
    assert await first and others[0] and others[2]
    c1 = [c for c in fake.all_calls if c.args.get("channel") == "C1"]
    c2 = [c for c in fake.all_calls if c.args.get("channel") == "C2" and c.method == "chat.postMessage"]
    assert [c.status for c in c1] == [429, 200, 200]
    assert c2[0].at - c1[0].at < 0.5  # C2 went at once
    assert c1[1].at - c1[0].at >= 2.0 and c1[2].at - c1[0].at >= 2.0  # a2 waited for the gate, never hit Slack early
    assert sorted(m["text"] for m in fake.history("C1")) == ["a1", "a2"]


async def test_server_errors_are_retried_refusals_are_not(fake: FakeSlack, gateway: SlackGateway) -> None:
    fake.server_error_next("chat.postMessage", 502, times=2)
    posted = await gateway.post_outcome("T1", "C1", "after two 502s")
    assert posted.ok and [c.status for c in fake.all_calls] == [502, 502, 200]
    fake.reset()
    fake.fail_next("chat.postMessage", "not_in_channel")
    refused = await gateway.post_outcome("T1", "C1", "never")
    assert (refused.ok, refused.error, refused.transient) == (False, "not_in_channel", False)
    assert fake.count("chat.postMessage") == 1


async def test_an_unreachable_slack_is_retried_a_bounded_number_of_times() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gw = SlackGateway(token_for=token_for, api_url=f"http://127.0.0.1:{port}/api/", post_interval=0, max_retries=1)
    outcome = await gw.post_outcome("T1", "C1", "nobody listens")
    await gw.close()
    assert not outcome.ok and outcome.transient and outcome.error is not None and "network error" in outcome.error


async def test_a_status_is_skipped_while_its_gate_is_closed(fake: FakeSlack, gateway: SlackGateway) -> None:
    fake.rate_limit_next("assistant.threads.setStatus", retry_after=30, channel="C1")
    first = await gateway.set_status("T1", "C1", "1.0", "is thinking…")
    second = await gateway.set_status("T1", "C1", "1.0", "is thinking…")
    elsewhere = await gateway.set_status("T1", "C2", "1.0", "is thinking…")
    assert (first.ok, first.retry_after is not None) == (False, True)
    assert not second.ok and elsewhere.ok
    assert fake.count("assistant.threads.setStatus") == 2  # the second never left: it is only a hint
