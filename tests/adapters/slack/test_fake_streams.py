"""The fake Slack Web API's thread status, streamed messages and per-channel faults, driven by the
real slack_sdk client (including its own chat_stream helper), so the feedback tests lean on
something that answers like Slack."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlack

THREAD = "1700000000.000001"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        server.add_user("U1", "Dana Tech")
        server.add_channel("C1", "helpdesk")
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.base_url)


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])


async def test_set_status_shows_clears_and_a_post_in_the_thread_clears_it(fake: FakeSlack, client: AsyncWebClient) -> None:
    assert (await client.assistant_threads_setStatus(channel_id="C1", thread_ts=THREAD, status="is thinking…"))["ok"]
    assert fake.status("C1", THREAD) == "is thinking…"
    await client.chat_postMessage(channel="C1", text="elsewhere")  # not in the thread: it stays
    assert fake.status("C1", THREAD) == "is thinking…"
    await client.chat_postMessage(channel="C1", text="the answer", thread_ts=THREAD)
    assert fake.status("C1", THREAD) == ""
    await client.assistant_threads_setStatus(channel_id="C1", thread_ts=THREAD, status="is thinking…")
    await client.assistant_threads_setStatus(channel_id="C1", thread_ts=THREAD, status="")
    assert fake.status("C1", THREAD) == ""
    causes = [(c.status, c.cause) for c in fake.statuses("C1", THREAD)]
    assert causes == [("is thinking…", "assistant.threads.setStatus"), ("", "chat.postMessage"),
                      ("is thinking…", "assistant.threads.setStatus"), ("", "assistant.threads.setStatus")]
    assert all(a.at <= b.at for a, b in zip(fake.status_log, fake.status_log[1:]))
    assert await error_of(client.api_call("assistant.threads.setStatus", json={"channel_id": "C1", "status": "x"})) \
        == "invalid_arguments"


async def test_a_stream_needs_its_recipient_outside_dms(fake: FakeSlack, client: AsyncWebClient) -> None:
    assert await error_of(client.chat_startStream(channel="C1", thread_ts=THREAD, markdown_text="hi")) \
        == "missing_recipient_team_id"
    assert await error_of(client.chat_startStream(channel="C1", thread_ts=THREAD, markdown_text="hi",
                                                  recipient_team_id="T1")) == "missing_recipient_user_id"
    dm = (await client.conversations_open(users="U1"))["channel"]["id"]
    started = await client.chat_startStream(channel=dm, thread_ts=THREAD, markdown_text="hi")
    assert started["ok"] and started["channel"] == dm and started["ts"]
    assert fake.count("chat.startStream") == 3  # failed calls are recorded too, with their answers
    assert [c.error for c in fake.all_calls if c.method == "chat.startStream"] == [
        "missing_recipient_team_id", "missing_recipient_user_id", None]


async def test_start_append_stop_build_one_message_and_a_stopped_stream_takes_no_more(
        fake: FakeSlack, client: AsyncWebClient) -> None:
    await client.assistant_threads_setStatus(channel_id="C1", thread_ts=THREAD, status="is thinking…")
    started = await client.chat_startStream(channel="C1", thread_ts=THREAD, markdown_text="Check the ",
                                            recipient_team_id="T1", recipient_user_id="U1")
    ts = started["ts"]
    assert fake.status("C1", THREAD) == ""  # the streamed message is a post in the thread
    appended = await client.chat_appendStream(channel="C1", ts=ts, markdown_text="spooler")
    assert (appended["channel"], appended["ts"]) == ("C1", ts)
    stopped = await client.chat_stopStream(channel="C1", ts=ts, markdown_text=".",
                                           blocks=[{"type": "context", "elements": [{"type": "mrkdwn", "text": "AI"}]}])
    message = stopped["message"]
    assert (message["text"], message["streaming_state"], message["thread_ts"]) == ("Check the spooler.", "completed", THREAD)
    assert message["blocks"][-1]["type"] == "context"
    assert fake.message("C1", ts)["recipient_user_id"] == "U1"  # type: ignore[index]
    assert await error_of(client.chat_appendStream(channel="C1", ts=ts, markdown_text="more")) \
        == "message_not_in_streaming_state"
    assert await error_of(client.chat_appendStream(channel="C1", ts="1.2", markdown_text="x")) == "message_not_found"
    assert await error_of(client.chat_startStream(channel="C1", thread_ts=THREAD, markdown_text="x" * 12_001,
                                                  recipient_team_id="T1", recipient_user_id="U1")) == "msg_too_long"
    updated = await client.chat_update(channel="C1", ts=ts, text="rewritten")  # the fallback after a stream
    assert updated["ok"] and fake.message("C1", ts)["text"] == "rewritten"  # type: ignore[index]


async def test_slack_sdks_chat_stream_helper_works_against_the_fake(fake: FakeSlack, client: AsyncWebClient) -> None:
    """slack_sdk 3.48's AsyncChatStream sends `chunks`, not markdown_text (web/async_chat_stream.py)."""
    streamer = await client.chat_stream(channel="C1", thread_ts=THREAD, recipient_team_id="T1",
                                        recipient_user_id="U1", buffer_size=5)
    await streamer.append(markdown_text="**hello wo")
    await streamer.append(markdown_text="rld!**")
    await streamer.stop()
    assert streamer.ts is not None
    assert fake.message("C1", streamer.ts)["text"] == "**hello world!**"  # type: ignore[index]
    assert [c.method for c in fake.all_calls] == ["chat.startStream", "chat.appendStream", "chat.stopStream"]


async def test_a_stream_expires_like_slacks(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.stream_ttl = 0.2
    ts = (await client.chat_startStream(channel="C1", thread_ts=THREAD, markdown_text="so far",
                                        recipient_team_id="T1", recipient_user_id="U1"))["ts"]
    await asyncio.sleep(0.25)
    assert await error_of(client.chat_stopStream(channel="C1", ts=ts, markdown_text="!")) == "message_not_in_streaming_state"
    assert fake.message("C1", ts)["text"] == "so far"  # type: ignore[index]


async def test_rate_limits_and_server_errors_can_target_one_channel(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.rate_limit_next("chat.postMessage", retry_after=8, channel="C1")
    fake.server_error_next("chat.update", 503, channel="C2")
    assert (await client.chat_postMessage(channel="C2", text="b"))["ok"]  # another channel: untouched
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel="C1", text="a")
    assert limited.value.response.status_code == 429 and limited.value.response.headers["Retry-After"] == "8"
    assert (await client.chat_postMessage(channel="C1", text="a"))["ok"]  # once only
    ts = fake.history("C2")[0]["ts"]
    with pytest.raises(SlackApiError) as broken:
        await client.chat_update(channel="C2", ts=ts, text="b2")
    assert broken.value.response.status_code == 503
    assert fake.history("C2")[0]["text"] == "b"  # unapplied
    assert [(c.method, c.status) for c in fake.all_calls] == [
        ("chat.postMessage", 200), ("chat.postMessage", 429), ("chat.postMessage", 200), ("chat.update", 503)]
