"""The fake Messages API rejects what the real one rejects, caches the way it caches and streams the
events it streams, at a pace tests choose, so that tests passing against it mean something. Raw
HTTP here: the SDK would refuse some of these bodies."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.anthropic_api import FakeAnthropic, RecordedRequest, StreamTiming, max_concurrency

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json"}
BIG = "Stable guidance. " * 600  # ~10k characters: above the caching minimum


def request(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "claude-sonnet-4-6", "max_tokens": 64,
                            "messages": [{"role": "user", "content": "hello"}]}  # fmt: skip
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as server:
        yield server


async def post(fake: FakeAnthropic, body: Any, headers: dict[str, str] = HEADERS) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.base_url}/v1/messages", data=json.dumps(body), headers=headers) as response:
            return response.status, await response.json()


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (request(max_tokens=None), "max_tokens"),
        (request(model=None), "model"),
        (request(messages=[]), "at least one message"),
        (request(messages=[{"role": "assistant", "content": "hi"}]), "first message"),
        (request(messages=[{"role": "user", "content": [{"type": "text", "text": "  "}]}]), "non-whitespace"),
        (request(tool_choice={"type": "tool", "name": "missing"}), "not found in tools"),
        (request(system=[{"type": "text", "text": f"s{i}", "cache_control": {"type": "ephemeral"}} for i in range(5)]),
         "maximum of 4"),
        (request(system=[{"type": "text", "text": "s", "cache_control": {"type": "forever"}}]), "cache_control"),
    ],
)
async def test_invalid_requests_get_400_invalid_request_error(fake, body, complaint) -> None:
    status, payload = await post(fake, body)
    assert status == 400
    assert payload["type"] == "error" and payload["error"]["type"] == "invalid_request_error"
    assert complaint in payload["error"]["message"]


async def test_missing_key_gets_401(fake) -> None:
    status, payload = await post(fake, request(), {k: v for k, v in HEADERS.items() if k != "x-api-key"})
    assert status == 401 and payload["error"]["type"] == "authentication_error"


async def test_cache_is_written_then_read_and_small_prefixes_are_not_cached(fake) -> None:
    cached = request(system=[{"type": "text", "text": BIG, "cache_control": {"type": "ephemeral"}}])
    small = request(system=[{"type": "text", "text": "short", "cache_control": {"type": "ephemeral"}}])
    usages = []
    for body in (cached, cached, small, small):
        status, payload = await post(fake, body)
        assert status == 200
        usages.append(payload["usage"])
    assert usages[0]["cache_creation_input_tokens"] > 2048 and usages[0]["cache_read_input_tokens"] == 0
    assert usages[1]["cache_read_input_tokens"] == usages[0]["cache_creation_input_tokens"]
    assert usages[1]["cache_creation_input_tokens"] == 0
    assert all(u["cache_read_input_tokens"] == u["cache_creation_input_tokens"] == 0 for u in usages[2:])


async def test_cache_is_per_model(fake) -> None:
    system = [{"type": "text", "text": BIG, "cache_control": {"type": "ephemeral"}}]
    await post(fake, request(system=system))
    _, payload = await post(fake, request(system=system, model="claude-haiku-4-5"))
    assert payload["usage"]["cache_read_input_tokens"] == 0


async def test_default_responder_answers_the_forced_tool(fake) -> None:
    tool = {"name": "update_session", "input_schema": {"type": "object"}}
    _, payload = await post(fake, request(tools=[tool], tool_choice={"type": "tool", "name": "update_session"}))
    block = payload["content"][0]
    assert block["type"] == "tool_use" and block["name"] == "update_session" and block["input"]["reply"]
    assert fake.requests[-1].status == 200 and fake.requests[-1].usage is not None


# ---- streaming: the real event sequence, paced, with recorded times -------------------------
STREAM_BODY = request(
    stream=True,
    tools=[{"name": "update_session", "input_schema": {"type": "object"}}],
    tool_choice={"type": "tool", "name": "update_session"},
)


async def sse_events(base_url: str, body: Any) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) in arrival order, parsed from the raw SSE."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base_url}/v1/messages", data=json.dumps(body), headers=HEADERS) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            raw = (await response.read()).decode()
    events = []
    for frame in filter(None, raw.split("\n\n")):
        lines = dict(line.split(": ", 1) for line in frame.splitlines())
        data = json.loads(lines["data"])
        assert data["type"] == lines["event"]
        events.append((lines["event"], data))
    return events


async def test_tool_use_streams_the_api_event_sequence_at_the_configured_pace(fake) -> None:
    timing = StreamTiming(first_token=0.3, total=0.9, chunks=12)
    fake.push_update("A reply long enough to be cut into a dozen slices of JSON.", timing=timing)
    events = await sse_events(fake.base_url, STREAM_BODY)

    names = [name for name, _ in events]
    deltas = [data["delta"] for name, data in events if name == "content_block_delta"]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[3:-3]) == {"content_block_delta"}
    assert events[0][1]["message"]["content"] == [] and events[0][1]["message"]["stop_reason"] is None
    assert events[1][1]["content_block"]["type"] == "tool_use" and events[1][1]["content_block"]["input"] == {}
    assert all(d["type"] == "input_json_delta" for d in deltas) and deltas[0]["partial_json"] == ""
    assert json.loads("".join(d["partial_json"] for d in deltas))["reply"].startswith("A reply long")
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use" and events[-2][1]["usage"]["output_tokens"] > 0

    record = fake.requests[-1]
    assert len(record.chunk_times) == len(deltas) - 1 == 12  # the empty opening delta is no content
    assert record.first_token_at == record.chunk_times[0]
    assert record.first_token_at - record.received_at >= timing.first_token
    assert record.chunk_times[-1] - record.received_at >= timing.total - 0.005
    gaps = [b - a for a, b in zip(record.chunk_times, record.chunk_times[1:])]
    assert min(gaps) > 0.02  # spread out, not sent in one burst
    assert record.finished_at is not None and record.finished_at >= record.chunk_times[-1]


async def test_server_default_timing_paces_unscripted_and_plain_answers(fake) -> None:
    fake.timing = StreamTiming(first_token=0.1, total=0.3, chunks=5)
    await sse_events(fake.base_url, STREAM_BODY)  # the default responder's answer
    status, _ = await post(fake, request())  # not streamed: answered after `total`
    streamed, plain = fake.requests
    assert status == 200 and len(streamed.chunk_times) == 5
    assert streamed.first_token_at is not None and streamed.first_token_at - streamed.received_at >= 0.1
    assert plain.first_token_at is None and plain.finished_at is not None
    assert plain.finished_at - plain.received_at >= 0.3


async def test_without_timing_the_stream_is_immediate_and_text_blocks_stream_too(fake) -> None:
    fake.push_text("Plain text answer " * 5)
    events = await sse_events(fake.base_url, request(stream=True))
    texts = [d["delta"]["text"] for n, d in events if n == "content_block_delta"]
    assert "".join(texts) == "Plain text answer " * 5 and len(texts) == 3  # 40-character slices
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"


async def test_a_client_that_leaves_mid_stream_is_recorded(fake) -> None:
    fake.push_update("Slow " * 40, timing=StreamTiming(first_token=0.05, total=5.0, chunks=50))
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.base_url}/v1/messages", data=json.dumps(STREAM_BODY), headers=HEADERS) as response:
            await response.content.readuntil(b"partial_json")
    for _ in range(100):
        if fake.requests[-1].finished_at is not None:
            break
        await asyncio.sleep(0.05)
    record = fake.requests[-1]
    assert record.disconnected and record.finished_at is not None and len(record.chunk_times) < 50


def test_max_concurrency_counts_overlapping_requests() -> None:
    def rec(start: float, end: float) -> RecordedRequest:
        return RecordedRequest("/v1/messages", {}, {}, received_at=start, finished_at=end)

    assert max_concurrency([rec(0, 2), rec(1, 3), rec(2, 4), rec(5, 6)]) == 2  # 0-2 ends as 2-4 starts
    assert max_concurrency([]) == 0


async def test_standalone_server_paces_and_reports_over_http() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.anthropic_api", "--port", "0", "--first-token", "0.2", "--total", "0.5",
        "--chunks", "8", "--reply", "From the standalone fake.",
        stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
        base_url = line.removeprefix("listening on ")
        events = await sse_events(base_url, STREAM_BODY)
        streamed = "".join(d["delta"]["partial_json"] for n, d in events if n == "content_block_delta")
        assert json.loads(streamed)["reply"] == "From the standalone fake."
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base_url}/_fake/requests") as response:
                (record,) = await response.json()
            async with http.post(f"{base_url}/_fake/timing", json={"first_token": 0, "total": 0, "chunks": 2}) as r:
                assert (await r.json())["chunks"] == 2
            async with http.post(f"{base_url}/_fake/reset") as r:
                assert r.status == 200
            async with http.get(f"{base_url}/_fake/requests") as response:
                assert await response.json() == []
        assert record["stream"] and record["tool"] == "update_session" and len(record["chunk_times"]) == 8
        assert record["first_token_at"] - record["received_at"] >= 0.2
        assert record["finished_at"] >= record["chunk_times"][-1] >= record["received_at"] + 0.5 - 0.005
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0
