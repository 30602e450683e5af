"""Issue 12 at the adapter: an answer cut at max_tokens is asked again with twice the budget (plain
and streamed), what is left of one still cut is kept, and a prompt the API finds too long is sent
once more shortened before the call gives up (R16). The real SDK against the fake Messages API,
which cuts answers and refuses prompts the way the API does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.anthropic import AnthropicAssistant, failures
from adapters.anthropic.client import MAX_OUTPUT_TOKENS, output_budgets
from core.assistant.budget import TIGHT
from core.assistant.types import (
    CODE_CONTEXT_TOO_LONG,
    CODE_CUT_OFF,
    AssistantContext,
    AssistantUnavailable,
    ComposeRequest,
    FactSynthesisRequest,
    HistoryEntry,
    NoteBundle,
)
from core.assistant.validation import CUT_OFF_NOTE
from tests.fakes.anthropic_api import (
    FakeAnthropic,
    ToolUseReply,
    fix_input,
    note_markdown,
    update_session_input,
)
from tests.fakes.anthropic_rules import context_refusal

LOG = "10:42:07 spooler job 17 failed: the device did not respond within the timeout\n" * 1_300  # ~100 KB
HISTORY = (HistoryEntry(role="engineer", author="Dana", text="The printer stopped.\n" + LOG),)
CONTEXT = AssistantContext(session_title="Printer offline", ticket=None, facts=(), lane=(), active_fix=None,
                           history=HISTORY)  # fmt: skip
NOTE = NoteBundle(kind="resolve", session_title="Printer offline", ticket=None, facts=("It stopped.",), fix=None,
                  fix_applied_at=None, fix_verified_at=None, script_runs=(), tried=())  # fmt: skip
SCRIPT = "Write-Output 'checking the queue'\n" * 300  # ~10k characters: more than 2048 tokens hold
REPLY = "The queue is stuck on one job. Clear it with the script and tell me whether printing resumes."


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as server:
        yield server


@pytest.fixture
async def assistant(fake: FakeAnthropic) -> AsyncIterator[AnthropicAssistant]:
    client = AnthropicAssistant(api_key="k", base_url=fake.base_url, timeout=5, max_retries=0, max_tokens=2048)
    yield client
    await client.aclose()


def long_update() -> ToolUseReply:
    """An answer of ~10k characters of JSON: cut at 2048 tokens (8k characters by the fake's count)."""
    return ToolUseReply("update_session", update_session_input(
        REPLY, questions=["Which job is first in the queue?"],
        fixes=[fix_input("Clear the stuck job", script=SCRIPT, script_language="powershell")]))


def test_output_budgets_double_once_up_to_the_cap() -> None:
    assert output_budgets(2048) == (2048, 4096)
    assert output_budgets(12_000) == (12_000, MAX_OUTPUT_TOKENS)
    assert output_budgets(MAX_OUTPUT_TOKENS) == (MAX_OUTPUT_TOKENS,)


# ---- the fake cuts answers the way the API does -------------------------------------------------
async def raw_post(fake: FakeAnthropic, body: dict[str, Any]) -> tuple[int, str]:
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.base_url}/v1/messages", data=json.dumps(body), headers=headers) as response:
            return response.status, await response.text()


def tool_body(*, stream: bool, max_tokens: int = 100) -> dict[str, Any]:
    tool = {"name": "update_session", "input_schema": {"type": "object"}}
    return {"model": "claude-sonnet-4-6", "max_tokens": max_tokens, "stream": stream, "tools": [tool],
            "tool_choice": {"type": "tool", "name": "update_session"},
            "messages": [{"role": "user", "content": "hello"}]}  # fmt: skip


async def test_the_fake_cuts_a_plain_answer_at_max_tokens(fake) -> None:
    fake.push(long_update())
    status, text = await raw_post(fake, tool_body(stream=False))
    message = json.loads(text)
    assert status == 200 and message["stop_reason"] == "max_tokens"
    [block] = message["content"]
    assert block["type"] == "tool_use" and block["input"]["reply"] == REPLY  # parsed as far as it got:
    assert "script" not in block["input"]["fixes"][0]  # the string cut mid-way is dropped


async def test_the_fake_streams_a_cut_answer_ending_in_max_tokens(fake) -> None:
    fake.push(long_update())
    status, text = await raw_post(fake, tool_body(stream=True))
    events = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    deltas = "".join(e["delta"]["partial_json"] for e in events if e["type"] == "content_block_delta")
    [end] = [e for e in events if e["type"] == "message_delta"]
    assert status == 200 and end["delta"]["stop_reason"] == "max_tokens"
    assert len(deltas) == 400 and json.dumps(long_update().input).startswith(deltas)
    assert events[-1]["type"] == "message_stop"


async def test_the_fake_refuses_a_prompt_over_the_context_window_like_the_api(fake) -> None:
    fake.context_window = 50
    fake.push_update("kept for the next request")
    status, text = await raw_post(fake, {**tool_body(stream=False), "messages": [
        {"role": "user", "content": [{"type": "text", "text": "x" * 400}]}]})
    body = json.loads(text)
    assert status == 400 and body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("prompt is too long: ") and body["error"]["message"].endswith(
        " tokens > 50 maximum")
    assert body["request_id"].startswith("req_") and len(fake.queue) == 1  # refused before any answer


# ---- max_tokens: asked again, never lost ----------------------------------------------------------
async def test_a_streamed_answer_cut_at_max_tokens_is_asked_again_with_twice_the_budget(fake, assistant) -> None:
    fake.push(long_update())  # cut at 2,048 tokens, it stays queued for the request asked again
    shown: list[str] = []
    turn = await assistant.respond(CONTEXT, on_text=shown.append)
    assert [r.body["max_tokens"] for r in fake.requests] == [2048, 4096]
    assert all(r.streamed for r in fake.requests)
    assert turn.reply == REPLY and turn.fix is not None and turn.fix.script == SCRIPT.strip("\n")
    assert turn.questions == ("Which job is first in the queue?",)
    assert shown and shown[-1] == REPLY and all(b.startswith(a) for a, b in zip(shown, shown[1:], strict=False))


async def test_plain_answers_cut_at_max_tokens_are_asked_again(fake, assistant) -> None:
    long_note = note_markdown("resolve", "Stated from the provided facts. " * 80)  # ~10k characters of JSON
    fake.push(ToolUseReply("write_note", {"markdown": long_note}))
    composed = await assistant.compose(ComposeRequest(bundle=NOTE))
    assert composed.markdown == long_note.strip()
    small = AnthropicAssistant(api_key="k", base_url=fake.base_url, timeout=5, max_retries=0, max_tokens=100)
    fake.push(ToolUseReply("record_fact", {"fact": "The printer stopped at ten. " * 20}))  # ~570 characters
    try:
        fact = await small.synthesize_fact(FactSynthesisRequest(item_kind="question", item_text="When?",
                                                                recent_history=HISTORY))  # fmt: skip
    finally:
        await small.aclose()
    assert fact is not None and fact.startswith("The printer stopped at ten.") and not fake.queue
    assert [(r.body["tool_choice"]["name"], r.body["max_tokens"], r.streamed) for r in fake.requests] == [
        ("write_note", 2048, False), ("write_note", 4096, False), ("record_fact", 100, False),
        ("record_fact", 200, False)]  # fmt: skip


async def test_a_streamed_answer_cut_twice_keeps_its_reply_and_changes_nothing(fake, assistant) -> None:
    cut = ToolUseReply("update_session", long_update().input, cut_at=len('{"reply": "') + 60)
    fake.push(cut, cut)
    turn = await assistant.respond(CONTEXT)
    assert turn.reply.startswith(REPLY[:60].strip()) and turn.reply.endswith(CUT_OFF_NOTE)
    assert turn.questions == () and turn.checks == () and turn.fix is None and turn.facts == ()
    assert turn.dropped and len(fake.requests) == 2


async def test_an_answer_cut_before_any_reply_is_unavailable_with_its_own_code(fake, assistant) -> None:
    cut = ToolUseReply("update_session", long_update().input, cut_at=5)
    fake.push(cut, cut)
    with pytest.raises(AssistantUnavailable) as raised:
        await assistant.respond(CONTEXT)
    assert raised.value.reason == failures.CUT_OFF and raised.value.code == CODE_CUT_OFF
    fake.push(ToolUseReply("write_note", {"markdown": "## Problem\n" + "x" * 9_000}, cut_at=9_000),
              ToolUseReply("write_note", {"markdown": "## Problem\n" + "x" * 9_000}, cut_at=9_000))
    with pytest.raises(AssistantUnavailable) as raised:
        await assistant.compose(ComposeRequest(bundle=NOTE))
    assert raised.value.code == CODE_CUT_OFF


# ---- the context window -------------------------------------------------------------------------
async def test_a_prompt_too_long_for_the_model_is_sent_again_shortened(fake, assistant) -> None:
    fake.push_update(REPLY)
    fake.context_window = 8_000  # fake tokens: the standard prompt is ~8,900, the tight one ~4,700 (+2,048 out)
    turn = await assistant.respond(CONTEXT)
    first, second = fake.requests
    assert first.status == 400 and second.status == 200 and turn.reply == REPLY
    assert len(json.dumps(second.body["messages"])) < len(json.dumps(first.body["messages"])) / 2
    sent = json.dumps(second.body["messages"])
    assert len(sent) / 3.5 <= TIGHT.total and "characters of this text left out here" in sent


async def test_a_prompt_still_too_long_makes_the_assistant_unavailable_for_the_turn(fake, assistant) -> None:
    fake.push_context_window_error(prompt_tokens=215_000)
    fake.push_context_window_error(prompt_tokens=201_000)
    with pytest.raises(AssistantUnavailable) as raised:
        await assistant.respond(CONTEXT)
    assert raised.value.reason == failures.CONTEXT_TOO_LONG and raised.value.code == CODE_CONTEXT_TOO_LONG
    assert len(fake.requests) == 2


async def test_a_prompt_plus_max_tokens_over_the_window_is_a_context_error_too(fake, assistant) -> None:
    fake.context_window = 6_000  # the tight prompt fits, but not with its 2,048 output tokens
    with pytest.raises(AssistantUnavailable) as raised:
        await assistant.respond(CONTEXT)
    assert raised.value.code == CODE_CONTEXT_TOO_LONG and [r.status for r in fake.requests] == [400, 400]
    refusals = [context_refusal(r.body, 6_000) or "" for r in fake.requests]
    assert refusals[0].startswith("prompt is too long") and refusals[1].startswith(
        "input length and `max_tokens` exceed context limit")


async def test_a_reply_that_filled_the_context_window_is_asked_again_shortened(fake, assistant) -> None:
    fake.push(ToolUseReply("update_session", update_session_input("Half"), stop_reason="model_context_window_exceeded"))
    fake.push_update(REPLY)
    turn = await assistant.respond(CONTEXT)
    assert turn.reply == REPLY and len(fake.requests) == 2
    assert len(json.dumps(fake.requests[1].body)) < len(json.dumps(fake.requests[0].body))


async def test_other_400s_are_still_rejected_requests(fake, assistant) -> None:
    fake.push_error(400, message="messages.0.content: field required")
    with pytest.raises(AssistantUnavailable) as raised:
        await assistant.respond(CONTEXT)
    assert raised.value.reason == failures.REJECTED_REQUEST and len(fake.requests) == 1
