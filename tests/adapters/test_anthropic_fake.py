"""The fake Messages API rejects what the real one rejects and caches the way it caches, so that
tests passing against it mean something. Raw HTTP here: the SDK would refuse some of these bodies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.anthropic_api import FakeAnthropic

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
