"""Names for the people and channels a Slack text refers to (R38), against FakeSlack over HTTP: the
member the account knows comes first, then users.info's display name, else the raw id; a label-less
channel is asked of conversations.info; answers (misses too) are cached, within a bound."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.slack.gateway import SlackGateway
from adapters.slack.names import MentionNames
from tests.adapters.slack_gateways import warm_gateway
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import channel_ref, user_ref, wire

MEMBERS = {("T1", "UDANA"): "Dana Whitfield"}  # what the engine knows, by Slack identity


async def token_for(team_id: str) -> str | None:
    return "xoxb-test" if team_id == "T1" else None


async def known(team: str, user: str) -> str | None:
    return MEMBERS.get((team, user))


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        server.add_user("UDANA", "Dana W")
        server.add_user("USAM", "Sam Senior")
        server.add_channel("C1", "helpdesk")
        yield server


@pytest.fixture
async def gateway(fake: FakeSlack) -> AsyncIterator[SlackGateway]:
    async with warm_gateway(fake, token_for, post_interval=0.0) as gw:
        yield gw


async def test_known_member_then_display_name_then_the_id(fake: FakeSlack, gateway: SlackGateway) -> None:
    names = MentionNames(known=known, gateway=gateway)
    text = wire(user_ref("UDANA"), " asked ", user_ref("USAM"), " and ", user_ref("UGONE"), " in ", channel_ref("C1"))
    assert await names.decode("T1", text) == "@Dana Whitfield asked @Sam and @UGONE in #helpdesk"
    assert [c["user"] for c in fake.calls("users.info")] == ["UGONE", "USAM"]  # Dana was known: no call
    assert fake.count("conversations.info") == 1

    await names.decode("T1", text)  # the same names again: all from the cache, the miss included
    assert fake.count("users.info") == 2 and fake.count("conversations.info") == 1


async def test_a_workspace_slack_will_not_answer_for_shows_ids(fake: FakeSlack, gateway: SlackGateway) -> None:
    names = MentionNames(known=known, gateway=gateway)
    assert await names.decode("T9", wire(user_ref("USAM"), " in ", channel_ref("C1"))) == "@USAM in #C1"


async def test_the_cache_is_bounded(fake: FakeSlack, gateway: SlackGateway) -> None:
    names = MentionNames(known=known, gateway=gateway, max_entries=2)
    for user in ("U1", "U2", "U3", "U1"):
        await names.decode("T1", wire(user_ref(user)))
    assert len(names._cache) == 2
    assert [c["user"] for c in fake.calls("users.info")] == ["U1", "U2", "U3", "U1"]  # U1 had been evicted
