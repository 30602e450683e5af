"""The Slack fakes answer the real slack_sdk client and feed a real Bolt app the way Slack does, so the
adapter tests that lean on them mean something."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from hypothesis import assume, given
from hypothesis import strategies as st
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import (
    SlackClient,
    app_home_opened,
    app_mention,
    block_action,
    event_callback,
    message_event,  # fmt: skip
    sign,
    slash_command,
    url_verification,
    view_submission,
)

SECRET = "s3cr3t-signing"
TS = re.compile(r"^\d{10}\.\d{6}$")
MODAL = {"type": "modal", "callback_id": "escalate", "title": {"type": "plain_text", "text": "Escalate"},
         "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Why?"}}]}  # fmt: skip
HOME = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Your sessions"}}]}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        server.add_user("U1", "Dana Tech", email="dana@acme.test", is_admin=True)
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.base_url)


# ---- the Web API, through slack_sdk ------------------------------------------------------------


async def test_post_then_update_keeps_the_ts_and_the_thread(fake: FakeSlack, client: AsyncWebClient) -> None:
    assert fake.base_url.endswith("/api/")
    first = await client.chat_postMessage(channel="C1", text="Working on it", blocks=[section("Step 1")])
    second = await client.chat_postMessage(channel="C1", text="a reply", thread_ts=first["ts"])
    assert TS.match(first["ts"]) and float(second["ts"]) > float(first["ts"])
    assert first["channel"] == "C1" and first["message"]["blocks"] == [section("Step 1")]
    assert second["message"]["thread_ts"] == first["ts"]
    updated = await client.chat_update(channel="C1", ts=first["ts"], text="Done")
    assert updated["ts"] == first["ts"] and updated["message"]["text"] == "Done"
    assert [m["text"] for m in fake.history("C1")] == ["Done", "a reply"]
    parent = fake.message("C1", first["ts"])
    assert parent is not None and parent["blocks"] == [section("Step 1")] and parent["reply_count"] == 1
    assert await error_of(client.chat_update(channel="C1", ts="1699999999.000001", text="x")) == "message_not_found"
    assert await error_of(client.chat_postMessage(channel="C1", text="x", blocks=[section("x")] * 51)) == "invalid_blocks"
    assert await error_of(client.api_call("chat.postMessage", json={"channel": "C1"})) == "no_text"
    ephemeral = await client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert TS.match(ephemeral["message_ts"]) and fake.ephemerals[0]["user"] == "U1"
    await client.chat_delete(channel="C1", ts=second["ts"])
    assert fake.thread("C1", first["ts"]) == [parent] and fake.deleted == [("C1", second["ts"])]


async def test_form_bodies_have_their_json_fields_decoded(fake: FakeSlack, client: AsyncWebClient) -> None:
    await client.api_call("chat.postMessage", data={"channel": "C2", "text": "t", "blocks": json.dumps([section("a")])})
    assert fake.calls("chat.postMessage") == [{"channel": "C2", "text": "t", "blocks": [section("a")]}]
    assert fake.history("C2")[0]["blocks"] == [section("a")]


@pytest.mark.parametrize("scope", [True, False])
async def test_users_info_shows_the_email_only_with_the_scope(fake: FakeSlack, client: AsyncWebClient, scope: bool) -> None:
    fake.email_scope = scope
    user = (await client.users_info(user="U1"))["user"]
    assert user["is_admin"] and not user["is_owner"] and user["team_id"] == "T1"
    assert user["profile"].get("email") == ("dana@acme.test" if scope else None)
    assert await error_of(client.users_info(user="U404")) == "user_not_found"


async def test_views_need_live_triggers_and_matching_hashes(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.expired_trigger_ids.add("1.2.expired")
    assert await error_of(client.views_open(trigger_id="1.2.expired", view=MODAL)) == "expired_trigger_id"
    trigger = fake.trigger_id()
    opened = (await client.views_open(trigger_id=trigger, view=MODAL))["view"]
    assert opened["id"].startswith("V") and opened["hash"] and opened["callback_id"] == "escalate"
    assert await error_of(client.views_open(trigger_id=trigger, view=MODAL)) == "exchanged_trigger_id"
    changed = {**MODAL, "blocks": [section("Sent")]}
    updated = (await client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed))["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert fake.views[opened["id"]]["blocks"] == [section("Sent")]
    assert await error_of(client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)) == "hash_conflict"
    fake.trigger_ttl = 0.05
    late = fake.trigger_id()
    await asyncio.sleep(0.1)
    assert await error_of(client.views_open(trigger_id=late, view=MODAL)) == "expired_trigger_id"
    first = (await client.views_publish(user_id="U1", view=HOME))["view"]
    again = (await client.views_publish(user_id="U1", view=HOME))["view"]
    assert first["id"] == again["id"] and fake.home_views["U1"]["type"] == "home"


async def test_a_429_is_retried_after_retry_after(fake: FakeSlack) -> None:
    fake.rate_limit_next("chat.postMessage", retry_after=1)
    handler = AsyncRateLimitErrorRetryHandler(max_retry_count=1)
    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[handler])
    assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"]
    assert fake.count("chat.postMessage") == 2 and len(fake.history("C1")) == 1
    assert [(c.status, c.error) for c in fake.all_calls] == [(429, "ratelimited"), (200, None)]
    first, second = fake.call_times("chat.postMessage", channel="C1")
    assert 1.0 <= second - first < 2.5  # int(Retry-After) + random()
    fake.rate_limit_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        await AsyncWebClient(token="xoxb-test", base_url=fake.base_url).chat_postMessage(channel="C1", text="x")
    assert raised.value.response.status_code == 429 and raised.value.response.headers["Retry-After"] == "7"


async def test_files_upload_v2_round_trip(fake: FakeSlack, client: AsyncWebClient) -> None:
    reply = await client.files_upload_v2(channel="C1", thread_ts="1700000000.000100", content="Get-Service spooler\n",
                                         filename="fix.ps1", title="Fix script")  # fmt: skip
    upload = fake.uploads[reply["file"]["id"]]
    assert upload.content == b"Get-Service spooler\n" and upload.completed and upload.title == "Fix script"
    assert (upload.channel_id, upload.thread_ts, upload.filename) == ("C1", "1700000000.000100", "fix.ps1")
    methods = [c.method for c in fake.all_calls]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert await error_of(client.files_completeUploadExternal(files=[{"id": "F404"}], channel_id="C1")) == "file_not_found"


async def test_tokens_methods_and_injected_faults(fake: FakeSlack, client: AsyncWebClient) -> None:
    assert await error_of(AsyncWebClient(token="xoxb-wrong", base_url=fake.base_url).auth_test()) == "invalid_auth"
    assert fake.all_calls[0].token == "xoxb-wrong"
    me = await client.auth_test()
    assert (me["team_id"], me["user_id"], me["bot_id"]) == ("T1", "UBOT", "BBOT")
    assert await error_of(client.api_call("nope.nothing")) == "unknown_method"
    fake.fail_next("chat.postMessage", "not_in_channel")
    assert await error_of(client.chat_postMessage(channel="C1", text="x")) == "not_in_channel"
    assert fake.history("C1") == []
    await client.chat_postMessage(channel="C1", text="x")
    fake.delay("chat.postMessage", 0.3)
    started = time.monotonic()
    await client.chat_postMessage(channel="C1", text="y")
    await client.chat_postMessage(channel="C9", text="z")
    assert time.monotonic() - started >= 0.6
    assert len(fake.call_times("chat.postMessage", channel="C1")) == 3 and fake.count("chat.postMessage") == 4
    arrivals = fake.call_times("chat.postMessage")
    assert arrivals[-1] - arrivals[-2] >= 0.3  # the C9 post was sent only once the delayed C1 answer came
    fake.reset()
    assert fake.all_calls == [] and fake.count("chat.postMessage") == 0 and len(fake.history("C1")) == 2


async def test_conversations_and_team(fake: FakeSlack, client: AsyncWebClient) -> None:
    dm = (await client.conversations_open(users="U1"))["channel"]["id"]
    again = await client.conversations_open(users="U1")
    other = (await client.conversations_open(users="U2"))["channel"]["id"]
    assert dm.startswith("D") and again["channel"]["id"] == dm and again["already_open"] and other != dm
    info = (await client.conversations_info(channel=dm))["channel"]
    assert info["is_im"] and info["user"] == "U1"
    assert (await client.chat_postMessage(channel="U1", text="hi"))["channel"] == dm
    fake.add_channel("C7", "escalations")
    assert (await client.conversations_info(channel="C7"))["channel"]["name"] == "escalations"
    assert await error_of(client.conversations_info(channel="C404")) == "channel_not_found"
    assert (await client.team_info())["team"] == {"id": "T1", "name": "Acme MSP", "domain": "t1",
                                                   "email_domain": "", "icon": {}}  # fmt: skip


async def test_oauth_v2_access_installs_a_working_token(fake: FakeSlack) -> None:
    fake.oauth_client, fake.oauth_codes = ("cid", "csecret"), {"code-1"}
    fake.set_oauth_reply(team_id="T9", team_name="Beta IT", bot_token="xoxb-beta", authed_user_id="U9")
    anonymous = AsyncWebClient(base_url=fake.base_url)
    wrong = anonymous.oauth_v2_access(client_id="cid", client_secret="nope", code="code-1")
    assert await error_of(wrong) == "bad_client_secret"
    reply = await anonymous.oauth_v2_access(client_id="cid", client_secret="csecret", code="code-1")
    assert reply["team"] == {"id": "T9", "name": "Beta IT"} and reply["authed_user"] == {"id": "U9"}
    assert (reply["token_type"], reply["bot_user_id"], reply["enterprise"]) == ("bot", "UBOT", None)
    assert "users:read.email" in reply["scope"].split(",")
    again = anonymous.oauth_v2_access(client_id="cid", client_secret="csecret", code="code-1")
    assert await error_of(again) == "invalid_code"
    assert (await AsyncWebClient(token="xoxb-beta", base_url=fake.base_url).auth_test())["team_id"] == "T9"


# ---- signing -----------------------------------------------------------------------------------


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_sign_matches_slacks_published_example() -> None:
    body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")  # fmt: skip
    headers = sign(body, "8f742231b10e8888abcd99yyyzzz85a5", 1531420618)
    assert headers == {"X-Slack-Request-Timestamp": "1531420618",
                       "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"}  # fmt: skip


@given(body=st.text(), secret=st.text(min_size=1).filter(str.strip), timestamp=st.integers(1_500_000_000, 2_000_000_000),
       suffix=st.text(min_size=1))  # fmt: skip
def test_sign_verifies_with_slack_sdk_and_a_changed_body_does_not(body: str, secret: str, timestamp: int, suffix: str) -> None:
    verifier = SignatureVerifier(secret, clock=FixedClock(timestamp + 10))
    headers = sign(body.encode(), secret, timestamp)
    assert verifier.is_valid_request(body.encode(), headers)
    tampered = (body + suffix).encode()
    assume(tampered != body.encode())
    assert not verifier.is_valid_request(tampered, headers)


# ---- a real Bolt app fed by SlackClient ----------------------------------------------------------


@pytest.fixture
async def bolt(fake: FakeSlack) -> AsyncIterator[tuple[SlackClient, list[Any]]]:
    """Bolt behind aiohttp on port 0, its Web API pointed at the fake: what our endpoint will be."""
    seen: list[Any] = []
    app = AsyncApp(client=AsyncWebClient(token="xoxb-test", base_url=fake.base_url), signing_secret=SECRET,
                   process_before_response=True)  # fmt: skip

    @app.event("app_mention")
    async def mention(event: dict[str, Any], say: Any, request: Any) -> None:
        seen.append(("retry", request.headers.get("x-slack-retry-num"), request.headers.get("x-slack-retry-reason")))
        await say(text="On it", thread_ts=event["ts"])

    @app.event("message")
    async def message(event: dict[str, Any]) -> None:
        seen.append(("message", event["text"]))

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.views_publish(user_id=event["user"], view=HOME)

    @app.command("/rf")
    async def command(ack: Any, command: dict[str, Any]) -> None:
        await ack(f"new: {command['text']}")

    @app.action("pick_up")
    async def pick_up(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen.append(("action", body["actions"][0]["value"], body["container"]["message_ts"]))

    @app.view("escalate")
    async def submitted(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        seen.append(("view", view["private_metadata"], view["state"]["values"]["why"]["text"]["value"]))

    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    async with SlackClient(f"http://{host}:{port}", SECRET) as slack:
        yield slack, seen
    await runner.cleanup()


async def test_bolt_accepts_every_kind_of_request_the_client_sends(fake: FakeSlack, bolt: tuple[SlackClient, list[Any]]) -> None:
    slack, seen = bolt
    challenge = await slack.post_event(url_verification("chal-42"))
    assert challenge.status == 200 and challenge.json()["challenge"] == "chal-42"
    mention = event_callback("T1", app_mention("U1", "C1", "<@UBOT> printer down", "1700000001.000100"))
    reply = await slack.post_event(mention, retry_num=1, retry_reason="http_timeout")
    assert reply.status == 200 and reply.elapsed < 3
    said = fake.calls("chat.postMessage")[-1]
    assert (said["channel"], said["thread_ts"], said["text"]) == ("C1", "1700000001.000100", "On it")
    own = message_event("UBOT", "C1", "On it", "1700000001.000200", bot_id="BBOT")
    human = message_event("U1", "C1", "still down", "1700000001.000300", thread_ts="1700000001.000100")
    assert (await slack.post_event(event_callback("T1", own))).status == 200
    assert (await slack.post_event(event_callback("T1", human))).status == 200
    command = await slack.post_command(slash_command("T1", "U1", text="printer jam"))
    assert command.status == 200 and command.body == "new: printer jam"
    press = block_action("T1", "U1", "pick_up", "session-7", channel="C1", message_ts="1700000001.000100")
    assert (await slack.post_interaction(press)).status == 200
    values = {"why": {"text": {"type": "plain_text_input", "value": "needs a senior"}}}
    submit = view_submission("T1", "U1", "escalate", "meta-9", values, "V0FAKE1")
    assert (await slack.post_interaction(submit)).status == 200
    assert (await slack.post_event(event_callback("T1", app_home_opened("U1")))).status == 200
    assert seen == [("retry", ["1"], ["http_timeout"]), ("message", "still down"),
                    ("action", "session-7", "1700000001.000100"), ("view", "meta-9", "needs a senior")]  # fmt: skip
    assert fake.home_views["U1"]["blocks"] == HOME["blocks"]


@pytest.mark.parametrize("tamper", ["signature", "stale"])
async def test_bolt_refuses_bad_signatures_and_stale_requests(fake: FakeSlack, bolt: tuple[SlackClient, list[Any]],
                                                              tamper: str) -> None:  # fmt: skip
    slack, seen = bolt
    mention = event_callback("T1", app_mention("U1", "C1", "<@UBOT> hi", "1700000002.000100"))
    reply = await (slack.post_event(mention, bad_signature=True) if tamper == "signature"
                   else slack.post_event(mention, timestamp=int(time.time()) - 301))  # fmt: skip
    assert reply.status == 401 and seen == [] and fake.count("chat.postMessage") == 0
    assert (await slack.post_event(mention)).status == 200 and fake.count("chat.postMessage") == 1
