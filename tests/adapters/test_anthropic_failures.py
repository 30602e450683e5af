"""R16: every way the Anthropic call can fail surfaces as `AssistantUnavailable` with a short reason,
through the real SDK against the fake Messages API (retries off or tiny, short timeouts)."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from adapters.anthropic import AnthropicAssistant, failures
from core.assistant.types import (
    AssistantContext,
    AssistantUnavailable,
    ComposeRequest,
    FactSynthesisRequest,
    HistoryEntry,
    NoteBundle,
)
from tests.fakes.anthropic_api import FakeAnthropic, update_session_input

HISTORY = (HistoryEntry(role="engineer", author="Dana", text="VPN drops every ten minutes."),)
CONTEXT = AssistantContext(session_title="VPN drops", ticket=None, facts=(), lane=(), active_fix=None, history=HISTORY)
FACT_REQUEST = FactSynthesisRequest(item_kind="question", item_text="How often?", recent_history=HISTORY)
NOTE = NoteBundle(kind="resolve", session_title="VPN drops", ticket=None, facts=("It drops.",), fix=None,
                  fix_applied_at=None, fix_verified_at=None, script_runs=(), tried=())  # fmt: skip

Call = Callable[[AnthropicAssistant], Awaitable[object]]
CALLS: dict[str, Call] = {
    "respond": lambda a: a.respond(CONTEXT),  # streaming
    "synthesize_fact": lambda a: a.synthesize_fact(FACT_REQUEST),  # plain
    "compose": lambda a: a.compose(ComposeRequest(bundle=NOTE)),  # plain
}
TOOL_OF = {"respond": "update_session", "synthesize_fact": "record_fact", "compose": "write_note"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as server:
        yield server


def make(fake_or_url: FakeAnthropic | str, **options: float) -> AnthropicAssistant:
    url = fake_or_url if isinstance(fake_or_url, str) else fake_or_url.base_url
    settings: dict[str, float] = {"timeout": 0.5, "max_retries": 0, **options}
    return AnthropicAssistant(api_key="k", base_url=url, **settings)  # type: ignore[arg-type]


async def unavailable(assistant: AnthropicAssistant, call: Call) -> str:
    """The reason, asserting that nothing but AssistantUnavailable escaped."""
    try:
        await call(assistant)
    except AssistantUnavailable as error:
        return error.reason
    finally:
        await assistant.aclose()
    raise AssertionError("the call succeeded")


SCRIPTS: dict[str, tuple[Callable[[FakeAnthropic, str], None], str]] = {
    "500 api_error": (lambda f, _: f.push_error(500), failures.SERVER_ERROR),
    "503 without body type": (lambda f, _: f.push_raw(503, b"upstream unavailable", "text/plain"), failures.SERVER_ERROR),
    "529 overloaded": (lambda f, _: f.push_error(529, "overloaded_error"), failures.OVERLOADED),
    "429 with retry-after": (lambda f, _: f.push_error(429, retry_after=1), failures.RATE_LIMITED),
    "401 bad key": (lambda f, _: f.push_error(401), failures.REJECTED_KEY),
    "400 invalid request": (lambda f, _: f.push_error(400), failures.REJECTED_REQUEST),
    "hang past the timeout": (lambda f, _: f.push_hang(5), failures.TIMED_OUT),
    "text without tool_use": (lambda f, _: f.push_text("Sure, happy to help."), failures.NO_TOOL_ANSWER),
    "wrong tool": (lambda f, _: f.push_tool_use("some_other_tool", {}), failures.NO_TOOL_ANSWER),
    "invalid JSON body": (lambda f, _: f.push_raw(200, b"{not json"), failures.MALFORMED),
}  # an answer cut at max_tokens is asked again first: tests/adapters/test_anthropic_long.py


@pytest.mark.parametrize("method", list(CALLS))
@pytest.mark.parametrize("script", list(SCRIPTS))
async def test_failure_becomes_assistant_unavailable(fake, method: str, script: str) -> None:
    push, reason = SCRIPTS[script]
    push(fake, TOOL_OF[method])
    assert await unavailable(make(fake), CALLS[method]) == reason
    assert len(fake.requests) == 1  # no retries were configured


@pytest.mark.parametrize("method", list(CALLS))
async def test_malformed_tool_input_is_unavailable(fake, method: str) -> None:
    fake.push_malformed_tool_use(TOOL_OF[method])  # invalid JSON when streamed, a string when plain
    assert await unavailable(make(fake), CALLS[method]) == failures.MALFORMED


async def test_tool_input_without_a_reply_is_unusable(fake) -> None:
    fake.push_tool_use("update_session", {**update_session_input(), "reply": "   "})
    assert await unavailable(make(fake), CALLS["respond"]) == "unusable reply"


async def test_error_event_in_the_middle_of_a_stream(fake) -> None:
    fake.push_error(529, "overloaded_error", mid_stream=True)
    assert await unavailable(make(fake), CALLS["respond"]) == failures.OVERLOADED
    assert fake.requests[-1].status == 200  # the HTTP status was fine; the stream carried the error


async def test_stream_that_stalls_after_it_started(fake) -> None:
    fake.push_hang(5, mid_stream=True)
    started = time.monotonic()
    assert await unavailable(make(fake, timeout=0.3), CALLS["respond"]) == failures.TIMED_OUT
    assert time.monotonic() - started < 5  # gave up before the stall ended (a logical bound, not a budget)


@pytest.mark.parametrize("method", list(CALLS))
async def test_nothing_listening(method: str) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert await unavailable(make(f"http://127.0.0.1:{port}"), CALLS[method]) == failures.UNREACHABLE


async def test_overload_is_retried_when_retries_are_allowed(fake) -> None:
    fake.push_error(529, "overloaded_error", retry_after=0.01)
    fake.push_update("Back again.")
    assistant = make(fake, max_retries=1)
    turn = await assistant.respond(CONTEXT)
    await assistant.aclose()
    assert turn.reply == "Back again."
    assert [r.status for r in fake.requests] == [529, 200]
    assert fake.requests[1].headers["x-stainless-retry-count"] == "1"


async def test_timeout_is_retried_when_retries_are_allowed(fake) -> None:
    fake.push_hang(5)
    fake.push_update("Answered on the second attempt.")
    assistant = make(fake, timeout=0.3, max_retries=1)
    turn = await assistant.respond(CONTEXT)
    await assistant.aclose()
    assert turn.reply == "Answered on the second attempt."


async def test_a_long_retry_after_is_cut_short_by_the_deadline(fake) -> None:
    """The SDK honours any retry-after; our deadline keeps a worker from sleeping for it."""
    fake.push_error(429, retry_after=30)
    started = time.monotonic()
    reason = await unavailable(make(fake, max_retries=2, deadline=0.5), CALLS["respond"])
    assert reason == failures.TIMED_OUT
    assert time.monotonic() - started < 30  # did not sleep the retry-after (a logical bound, not a budget)
    assert len(fake.requests) == 1


async def test_connection_dropped_in_the_middle_of_a_stream(fake) -> None:
    fake.push_drop(mid_stream=True)
    assert await unavailable(make(fake), CALLS["respond"]) == failures.INTERRUPTED


@pytest.mark.parametrize("method", ["synthesize_fact", "compose"])
async def test_connection_dropped_before_any_answer(fake, method: str) -> None:
    fake.push_drop(mid_stream=False)
    assert await unavailable(make(fake), CALLS[method]) == failures.UNREACHABLE
