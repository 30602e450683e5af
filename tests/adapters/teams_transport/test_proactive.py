"""Proactive Teams sends through the Agents SDK against the fake Bot Connector over real HTTP:
send, update, new reply chains in a channel, personal chats, member lookup, retries, pacing, and the
`adaptiveCard/action` invoke answered with our card."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st
from microsoft_agents.activity import Activity, InvokeResponse

from adapters.teams.auth import TeamsAuthSettings
from adapters.teams.pacing import RetryPolicy, TeamsApiError, _retry_after_s
from adapters.teams.proactive import TeamsSender
from adapters.teams.transport import (
    IncomingActivity,
    TeamsTransport,
    card_invoke_response,
    conversation_reference,
    reference_from_dict,
)
from tests.fakes.bot_connector import FakeBotConnector

APP_ID = "00000000-1111-2222-3333-444444444444"
TENANT = "11111111-2222-3333-4444-555555555555"
CHANNEL = "19:escalations@thread.tacv2"
CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Escalated: VPN down"}]}
FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05)


def inbound(service_url: str, conversation: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "message", "id": "1700000000000", "serviceUrl": service_url, "channelId": "msteams",
            "from": {"id": "29:senior", "name": "Sam Senior", "aadObjectId": "aad-sam"},
            "recipient": {"id": f"28:{APP_ID}", "name": "ResolutionFlow"},
            "conversation": conversation, "channelData": {"tenant": {"id": TENANT}}, **extra}


def stored(activity: dict[str, Any]) -> dict[str, Any]:
    """The reference as our database would hand it back: through JSON text."""
    return json.loads(json.dumps(conversation_reference(Activity.model_validate(activity))))


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    fake = FakeBotConnector()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def sender() -> TeamsSender:
    # An app id but no password: the SDK's proactive path with no token, as against the emulator.
    return TeamsSender(TeamsAuthSettings(app_id=APP_ID), retry=FAST)


@pytest.fixture
def chain_ref(connector: FakeBotConnector) -> dict[str, Any]:
    return stored(inbound(connector.base_url, {"id": f"{CHANNEL};messageid=1700000000000", "isGroup": True,
                                               "conversationType": "channel", "tenantId": TENANT}))


async def test_send_posts_into_the_reply_chain_without_a_token(sender: TeamsSender, connector: FakeBotConnector,
                                                               chain_ref: dict[str, Any]) -> None:
    first = await sender.send(chain_ref, text="Working on it")
    second = await sender.send(chain_ref, card=CARD)
    assert first != second
    assert [(s.conversation_id, s.activity_id, s.reply_to) for s in connector.sent] == [
        (f"{CHANNEL};messageid=1700000000000", first, None), (f"{CHANNEL};messageid=1700000000000", second, None)]
    assert connector.sent[0].activity["text"] == "Working on it"
    [attachment] = connector.sent[1].activity["attachments"]
    assert attachment == {"contentType": "application/vnd.microsoft.card.adaptive", "content": CARD}
    assert connector.sent[1].activity["from"]["id"] == f"28:{APP_ID}"
    assert [r.authorization for r in connector.requests] == [None, None]


async def test_anonymous_sender_works_too(connector: FakeBotConnector, chain_ref: dict[str, Any]) -> None:
    activity_id = await TeamsSender(TeamsAuthSettings()).send(chain_ref, text="hi")
    assert [s.activity_id for s in connector.sent] == [activity_id]


async def test_update_replaces_the_card(sender: TeamsSender, connector: FakeBotConnector,
                                        chain_ref: dict[str, Any]) -> None:
    activity_id = await sender.send(chain_ref, card=CARD)
    claimed = {**CARD, "body": [{"type": "TextBlock", "text": "Picked up by Sam"}]}
    await sender.update(chain_ref, activity_id, card=claimed)
    [update] = connector.updated
    assert (update.conversation_id, update.activity_id) == (f"{CHANNEL};messageid=1700000000000", activity_id)
    assert update.activity["id"] == activity_id and update.activity["type"] == "message"
    assert update.activity["attachments"][0]["content"] == claimed


async def test_update_of_an_unknown_message_fails_without_retrying(sender: TeamsSender, connector: FakeBotConnector,
                                                                   chain_ref: dict[str, Any]) -> None:
    with pytest.raises(TeamsApiError) as error:
        await sender.update(chain_ref, "424242", text="nope")
    assert error.value.status == 404
    assert len(connector.calls("PUT")) == 1


async def test_send_to_channel_starts_a_new_reply_chain(sender: TeamsSender, connector: FakeBotConnector,
                                                        chain_ref: dict[str, Any]) -> None:
    new_ref, activity_id = await sender.send_to_channel(chain_ref, CARD)
    [created] = connector.created
    assert created.params["isGroup"] is True
    assert created.params["channelData"]["channel"] == {"id": CHANNEL}  # the channel, not the old chain
    assert created.params["activity"]["attachments"][0]["content"] == CARD
    assert created.params["bot"]["id"] == f"28:{APP_ID}"
    assert new_ref["conversation"]["id"] == f"{CHANNEL};messageid={activity_id}"
    assert new_ref["activityId"] == activity_id and new_ref["serviceUrl"] == connector.base_url
    # The new reference is storable and addresses the new chain.
    reply = await sender.send(json.loads(json.dumps(new_ref)), text="Sam is on it")
    await sender.update(new_ref, activity_id, card=CARD)
    assert connector.sent[-1].conversation_id == f"{CHANNEL};messageid={activity_id}"
    assert connector.sent[-1].activity_id == reply
    assert connector.updated[0].activity_id == activity_id


async def test_create_personal_chat_then_send(sender: TeamsSender, connector: FakeBotConnector) -> None:
    ref = await sender.create_personal_chat(connector.base_url, TENANT, "29:senior")
    again = await sender.create_personal_chat(connector.base_url, TENANT, "29:senior")
    assert ref["conversation"]["id"] == again["conversation"]["id"]
    assert ref["conversation"]["tenantId"] == TENANT and ref["user"] == {"id": "29:senior"}
    created = connector.created[0].params
    assert created["members"] == [{"id": "29:senior"}] and created["tenantId"] == TENANT
    assert created.get("isGroup") is False
    await sender.send(ref, text="Handoff: VPN down, here is what we know")
    assert connector.sent[0].conversation_id == ref["conversation"]["id"]


async def test_get_member_returns_email_and_ids(sender: TeamsSender, connector: FakeBotConnector,
                                                chain_ref: dict[str, Any]) -> None:
    connector.add_member(CHANNEL, id="29:senior", name="Sam Senior", email="sam@msp.example",
                         user_principal_name="sam@msp.example", aad_object_id="aad-sam", tenant_id=TENANT)
    connector.add_member(CHANNEL, id="29:guest", name="Gus Guest", user_principal_name="gus@partner.example")
    member = await sender.get_member(chain_ref, "29:senior")
    assert member is not None
    assert (member.id, member.name, member.email, member.aad_object_id) == (
        "29:senior", "Sam Senior", "sam@msp.example", "aad-sam")
    assert (await sender.get_member(chain_ref, "aad-sam")) == member  # Teams accepts the AAD object id
    guest = await sender.get_member(chain_ref, "29:guest")
    assert guest is not None and guest.email == "gus@partner.example"  # no email: the UPN stands in
    assert await sender.get_member(chain_ref, "29:stranger") is None
    assert connector.calls("GET")[0].path == f"/v3/conversations/{CHANNEL}/members/29:senior"


async def test_429_is_retried_after_retry_after(sender: TeamsSender, connector: FakeBotConnector,
                                                chain_ref: dict[str, Any]) -> None:
    connector.fail_next(1, 429, retry_after="1")
    started = time.monotonic()
    activity_id = await sender.send(chain_ref, text="hello")
    elapsed = time.monotonic() - started
    assert elapsed >= 1.0
    assert [r.status for r in connector.calls("POST")] == [429, 201]
    assert [s.activity_id for s in connector.sent] == [activity_id]
    gap = connector.requests[1].at - connector.requests[0].at
    assert gap >= 1.0


@pytest.mark.parametrize("status", [412, 502, 504])
async def test_transient_statuses_are_retried_with_backoff(status: int, sender: TeamsSender,
                                                           connector: FakeBotConnector,
                                                           chain_ref: dict[str, Any]) -> None:
    connector.fail_next(2, status)
    await sender.send(chain_ref, text="hello")
    assert [r.status for r in connector.calls("POST")] == [status, status, 201]
    assert len(connector.sent) == 1


async def test_retries_give_up_after_the_last_attempt(connector: FakeBotConnector, chain_ref: dict[str, Any]) -> None:
    sender = TeamsSender(TeamsAuthSettings(app_id=APP_ID), retry=RetryPolicy(attempts=3, base_delay_s=0.01))
    connector.fail_next(5, 502)
    with pytest.raises(TeamsApiError) as error:
        await sender.send(chain_ref, text="hello")
    assert error.value.status == 502
    assert len(connector.calls("POST")) == 3 and connector.sent == []


async def test_a_long_retry_after_goes_back_to_the_caller(sender: TeamsSender, connector: FakeBotConnector,
                                                          chain_ref: dict[str, Any]) -> None:
    connector.fail_next(1, 429, retry_after="120")
    started = time.monotonic()
    with pytest.raises(TeamsApiError) as error:
        await sender.send(chain_ref, text="hello")
    assert time.monotonic() - started < 60  # it did not sleep the 120 s (a logical bound, not a timing budget)
    assert (error.value.status, error.value.retry_after_s) == (429, 120.0)
    assert len(connector.calls("POST")) == 1


async def test_other_errors_are_not_retried(sender: TeamsSender, connector: FakeBotConnector,
                                            chain_ref: dict[str, Any]) -> None:
    connector.fail_next(1, 403)
    with pytest.raises(TeamsApiError) as error:
        await sender.send(chain_ref, text="hello")
    assert error.value.status == 403 and len(connector.calls("POST")) == 1


async def test_sends_to_one_conversation_are_paced(sender: TeamsSender, connector: FakeBotConnector,
                                                   chain_ref: dict[str, Any]) -> None:
    other = {**chain_ref, "conversation": {**chain_ref["conversation"], "id": f"{CHANNEL};messageid=1"}}
    started = time.monotonic()
    await asyncio.gather(*(sender.send(chain_ref, text=f"m{i}") for i in range(8)))
    paced = time.monotonic() - started
    assert paced >= 0.95
    # Teams' per-thread limit: never more than 7 calls to one conversation inside one second. Measured
    # where they arrive, so the first call's connection set-up may eat into the gap; unpaced, all
    # eight would arrive within a few milliseconds.
    times = sorted(r.at for r in connector.requests)
    assert all(times[i + 7] - times[i] >= 0.8 for i in range(len(times) - 7))
    # Another conversation is not held back by the first one's budget.
    started = time.monotonic()
    await sender.send(other, text="elsewhere")
    assert time.monotonic() - started < 0.5
    assert sorted(s.activity["text"] for s in connector.sent[:8]) == [f"m{i}" for i in range(8)]


async def test_adaptive_card_action_invoke_is_answered_with_our_card(connector: FakeBotConnector) -> None:
    refreshed = {**CARD, "body": [{"type": "TextBlock", "text": "Fact added"}]}
    seen: list[IncomingActivity] = []

    async def on_activity(incoming: IncomingActivity) -> InvokeResponse | None:
        seen.append(incoming)
        if incoming.is_invoke and incoming.name == "adaptiveCard/action":
            return card_invoke_response(refreshed)
        return None

    transport = TeamsTransport(TeamsAuthSettings(), on_activity)
    app = web.Application()
    app.router.add_post("/api/messages", transport.handle)
    invoke = inbound(connector.base_url, {"id": "a:personal-1", "conversationType": "personal", "tenantId": TENANT},
                     type="invoke", name="adaptiveCard/action",
                     value={"action": {"type": "Action.Execute", "verb": "rf_add_fact", "data": {"session": 7}}})
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        async with client.post("/api/messages", json=invoke) as resp:
            assert resp.status == 200
            assert await resp.json() == {"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive",
                                         "value": refreshed}
        message = {k: v for k, v in invoke.items() if k not in ("name", "value")} | {"type": "message", "text": "hi"}
        async with client.post("/api/messages", json=message) as resp:
            assert resp.status == 202
    await transport.close()
    assert [(s.type, s.value and s.value["action"]["verb"]) for s in seen] == [
        ("invoke", "rf_add_fact"), ("message", None)]
    assert connector.requests == []  # answering an invoke sends nothing through the connector


@given(conversation_id=st.text(min_size=1, max_size=120).filter(str.strip),
       user=st.text(min_size=1, max_size=40).filter(str.strip),
       tenant=st.none() | st.uuids().map(str), is_group=st.booleans())
def test_references_survive_a_json_round_trip(conversation_id: str, user: str, tenant: str | None,
                                             is_group: bool) -> None:
    conversation: dict[str, Any] = {"id": conversation_id, "isGroup": is_group}
    if tenant:
        conversation["tenantId"] = tenant
    activity = Activity.model_validate(inbound("https://smba.trafficmanager.net/emea/", conversation,
                                               **{"from": {"id": user}}))
    ref = json.loads(json.dumps(conversation_reference(activity)))
    back = reference_from_dict(ref)
    assert back.conversation.id == conversation_id and back.user.id == user
    assert back.conversation.tenant_id == tenant and back.service_url == activity.service_url
    assert conversation_reference(back.get_continuation_activity())["conversation"] == ref["conversation"]


def test_a_reference_without_a_service_url_is_refused() -> None:
    with pytest.raises(ValueError):
        reference_from_dict({"conversation": {"id": "a:1"}, "channelId": "msteams"})


@given(seconds=st.integers(min_value=0, max_value=10**6))
def test_retry_after_seconds_parse(seconds: int) -> None:
    assert _retry_after_s(str(seconds)) == seconds


@given(junk=st.text(max_size=40))
def test_retry_after_never_raises_or_goes_negative(junk: str) -> None:
    value = _retry_after_s(junk)
    assert value is None or value >= 0


def test_retry_after_http_date() -> None:
    value = _retry_after_s(time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30)))
    assert value is not None and 25 <= value <= 31
