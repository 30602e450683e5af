"""AnthropicAssistant through the real SDK against the fake Messages API: answers, request shape,
prompt caching (R32) and usage logging."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from adapters.anthropic import AnthropicAssistant
from core.assistant.prompts import COMPOSE_ESCALATION, COMPOSE_RESOLUTION, FACT_SYNTHESIS, MAIN, STATE_OPEN
from core.assistant.types import (
    AssistantContext,
    AssistantUnavailable,
    ComposeRequest,
    FactEntry,
    FactSynthesisRequest,
    FixEntry,
    HistoryEntry,
    LaneEntry,
    NoteBundle,
)
from tests.fakes.anthropic_api import FakeAnthropic, fact_input, fix_input, note_markdown, outcome_input

E = "engineer"


def entry(role: str, text: str) -> HistoryEntry:
    return HistoryEntry(role=role, author="Dana" if role == E else "ResolutionFlow", text=text)  # type: ignore[arg-type]


def context(*history: HistoryEntry, **overrides: object) -> AssistantContext:
    values: dict[str, object] = {
        "session_title": "Shared printer offline",
        "ticket": "#4821",
        "facts": (FactEntry(label="F1", text="Only the third floor is affected.", source="note"),),
        "lane": (LaneEntry(label="Q1", kind="question", text="When did it start?", status="open"),),
        "active_fix": None,
        "history": history,
    }
    values.update(overrides)
    return AssistantContext(**values)  # type: ignore[arg-type]


TURN_1 = (entry(E, "Nobody on the third floor can print since this morning."),)
TURN_2 = TURN_1 + (entry("assistant", "Is the queue paused?"), entry(E, "The queue shows 40 stuck jobs."))
TURN_3 = TURN_2 + (entry("assistant", "Clear the queue and retry."), entry(E, "Cleared, it prints again!"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as server:
        yield server


@pytest.fixture
async def assistant(fake: FakeAnthropic) -> AsyncIterator[AnthropicAssistant]:
    client = AnthropicAssistant(api_key="test-key", base_url=fake.base_url, timeout=5, max_retries=0, max_tokens=2048)
    yield client
    await client.aclose()


def breakpoints(body: dict) -> list[tuple[str, int]]:
    """(where, index) of every block that carries cache_control."""
    found = [("system", i) for i, b in enumerate(body["system"]) if "cache_control" in b]
    for m, message in enumerate(body["messages"]):
        found += [(f"messages[{m}]", i) for i, b in enumerate(message["content"]) if "cache_control" in b]
    return found


async def test_respond_streams_forced_update_session_and_parses_the_turn(fake, assistant) -> None:
    fake.push_update(
        "The stuck jobs point at the spooler.",
        questions=["Which driver version is installed?", "  which driver version is installed? "],
        checks=["Restart the spooler service and watch the queue."],
        facts=[fact_input("The print queue held 40 stuck jobs.", "The queue shows 40 stuck jobs.", "q1")],
        fixes=[fix_input("Clear the queue", confidence=55), fix_input("Restart the spooler", confidence=140)],
    )
    turn = await assistant.respond(context(*TURN_2))

    assert turn.reply == "The stuck jobs point at the spooler."
    assert turn.questions == ("Which driver version is installed?",)  # deduplicated, trimmed
    assert turn.checks == ("Restart the spooler service and watch the queue.",)
    assert turn.facts[0].item_label == "Q1" and turn.facts[0].evidence == "The queue shows 40 stuck jobs."
    assert turn.fix is not None and turn.fix.title == "Restart the spooler" and turn.fix.confidence == 100  # R7
    assert any("superseded" in reason for reason in turn.dropped)
    body = fake.requests[-1].body
    assert body["stream"] is True
    assert body["model"] == "claude-sonnet-4-6" and body["max_tokens"] == 2048
    assert body["tool_choice"]["type"] == "tool" and body["tool_choice"]["name"] == "update_session"
    assert [t["name"] for t in body["tools"]] == ["update_session"] and body["tools"][0]["strict"] is True
    headers = fake.requests[-1].headers
    # SDK 2.x sends the key as a bearer token; older ones as x-api-key. The fake accepts both.
    assert "test-key" in (headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer "))
    assert headers["anthropic-version"]


async def test_outcome_proposal_comes_through(fake, assistant) -> None:
    fake.push_update("Great, confirm the outcome?", outcome=outcome_input("success", "Cleared, it prints again!"))
    turn = await assistant.respond(context(*TURN_3))
    assert turn.outcome is not None and turn.outcome.outcome == "worked"


async def test_cache_breakpoints_on_system_and_last_stable_history_message(fake, assistant) -> None:
    await assistant.respond(context(*TURN_2))
    body = fake.requests[-1].body
    assert body["system"] == [{"type": "text", "text": MAIN, "cache_control": {"type": "ephemeral"}}]
    # TURN_2 renders as: [engineer msg] [assistant reply]* [state + newest engineer msg]
    assert breakpoints(body) == [("system", 0), ("messages[1]", 0)]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    last = body["messages"][-1]["content"][0]["text"]
    assert last.startswith(STATE_OPEN) and "The queue shows 40 stuck jobs." in last
    assert "Only the third floor is affected." in last and "When did it start?" in last
    assert "Only the third floor" not in str(body["messages"][:-1])  # volatile state stays out of the prefix


async def test_first_turn_has_only_the_system_breakpoint(fake, assistant) -> None:
    await assistant.respond(context(*TURN_1))
    body = fake.requests[-1].body
    assert breakpoints(body) == [("system", 0)]
    assert len(body["messages"]) == 1


async def test_each_turn_reads_the_previous_turns_history_prefix(fake, assistant) -> None:
    await assistant.respond(context(*TURN_1))
    first = fake.requests[-1].usage
    await assistant.respond(context(*TURN_2, facts=()))  # changed state must not break the prefix
    second = fake.requests[-1].usage
    await assistant.respond(context(*TURN_3))
    third = fake.requests[-1].usage

    assert first["cache_read_input_tokens"] == 0 and first["cache_creation_input_tokens"] > 2048
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert second["cache_creation_input_tokens"] > 0  # the history up to the assistant reply
    expected = second["cache_read_input_tokens"] + second["cache_creation_input_tokens"]
    assert third["cache_read_input_tokens"] == expected


async def test_usage_and_cache_tokens_are_logged_per_call(fake, assistant, caplog) -> None:
    caplog.set_level(logging.INFO, logger="rflow.assistant")
    await assistant.respond(context(*TURN_1))
    await assistant.respond(context(*TURN_1))
    reported = fake.requests[-1].usage
    records = [r for r in caplog.records if r.name == "rflow.assistant" and r.levelno == logging.INFO]
    assert len(records) == 2
    logged = records[-1].assistant_usage  # type: ignore[attr-defined]
    assert logged["model"] == "claude-sonnet-4-6"
    assert logged["cache_read_input_tokens"] == reported["cache_read_input_tokens"] > 0
    assert logged["cache_creation_input_tokens"] == reported["cache_creation_input_tokens"]
    assert logged["input_tokens"] == reported["input_tokens"] and logged["output_tokens"] > 0
    message = records[-1].getMessage()
    assert f"cache_read_input_tokens={reported['cache_read_input_tokens']}" in message
    assert "cache_creation_input_tokens=" in message and "input_tokens=" in message


async def test_no_warning_while_the_cache_is_read(fake, assistant, caplog) -> None:
    caplog.set_level(logging.INFO, logger="rflow.assistant")
    for _ in range(4):
        await assistant.respond(context(*TURN_1))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert assistant.cache_watch.zero_read_streak == 0


async def test_warns_on_third_consecutive_call_with_zero_cache_reads(caplog) -> None:
    caplog.set_level(logging.INFO, logger="rflow.assistant")
    async with FakeAnthropic(min_cacheable_tokens=10**9) as fake:  # nothing is ever cached
        client = AnthropicAssistant(api_key="k", base_url=fake.base_url, timeout=5, max_retries=0)
        warnings_after = []
        for _ in range(3):
            await client.respond(context(*TURN_1))
            warnings_after.append(sum(r.levelno == logging.WARNING for r in caplog.records))
        await client.aclose()
    assert warnings_after == [0, 0, 1]
    warning = next(r for r in caplog.records if r.levelno == logging.WARNING)
    assert "0 tokens from the cache" in warning.getMessage() and "3 consecutive" in warning.getMessage()


async def test_uncached_calls_never_count_towards_the_warning(fake, assistant, caplog) -> None:
    fact_request = FactSynthesisRequest(item_kind="question", item_text="When did it start?", recent_history=TURN_2)
    for _ in range(3):
        await assistant.synthesize_fact(fact_request)
    assert assistant.cache_watch.zero_read_streak == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert all(breakpoints(r.body) == [] for r in fake.requests)


async def test_synthesize_fact_uses_the_fast_model_without_streaming(fake, assistant) -> None:
    fake.push_tool_use("record_fact", {"fact": "  The problem started this morning.  "})
    request = FactSynthesisRequest(item_kind="question", item_text="When did it start?", recent_history=TURN_1)
    assert await assistant.synthesize_fact(request) == "The problem started this morning."
    body = fake.requests[-1].body
    assert body["model"] == "claude-haiku-4-5" and not body.get("stream")
    assert body["tool_choice"]["name"] == "record_fact" and body["system"][0]["text"] == FACT_SYNTHESIS
    text = body["messages"][0]["content"][0]["text"]
    assert "When did it start?" in text and "since this morning" in text


async def test_synthesis_that_confirms_nothing_returns_empty_text(fake, assistant) -> None:
    fake.push_tool_use("record_fact", {"fact": None})
    request = FactSynthesisRequest(item_kind="check", item_text="Check the driver version.", recent_history=TURN_1)
    assert await assistant.synthesize_fact(request) == ""


def bundle(kind: str) -> NoteBundle:
    fix = FixEntry(title="Clear the queue", description="Purge stuck jobs.", confidence=80,
                   status="applied_success", applied=True)  # fmt: skip
    return NoteBundle(kind=kind, session_title="Shared printer offline", ticket="#4821",  # type: ignore[arg-type]
                      facts=("The queue held 40 stuck jobs.",), fix=fix, fix_applied_at="2026-11-20 10:02",
                      fix_verified_at="2026-11-20 10:15", script_runs=(), tried=("Cleared the queue",),
                      reason="needs a driver rollout" if kind == "escalate" else None)  # fmt: skip


@pytest.mark.parametrize(("kind", "system"), [("resolve", COMPOSE_RESOLUTION), ("escalate", COMPOSE_ESCALATION)])
async def test_compose_returns_the_note_with_its_sections(fake, assistant, kind, system) -> None:
    fake.push_tool_use("write_note", {"markdown": "Here you go:\n\n" + note_markdown(kind)})
    composed = await assistant.compose(ComposeRequest(bundle=bundle(kind)))
    assert composed.composed_by == "assistant"
    assert composed.markdown.startswith("## Problem")  # preamble removed
    body = fake.requests[-1].body
    assert body["system"][0]["text"] == system and body["model"] == "claude-sonnet-4-6" and not body.get("stream")
    text = body["messages"][0]["content"][0]["text"]
    assert "The queue held 40 stuck jobs." in text and "applied_success" in text


async def test_compose_without_required_sections_is_unavailable(fake, assistant) -> None:
    fake.push_tool_use("write_note", {"markdown": "## Problem\nPrinting.\n\n## Resolution\nFixed."})
    with pytest.raises(AssistantUnavailable, match="What we confirmed"):
        await assistant.compose(ComposeRequest(bundle=bundle("resolve")))


async def test_without_a_key_nothing_is_sent(fake) -> None:
    client = AnthropicAssistant(api_key=None, base_url=fake.base_url)
    assert client.enabled is False
    with pytest.raises(AssistantUnavailable, match="no API key"):
        await client.respond(context(*TURN_1))
    assert fake.requests == []
    assert AnthropicAssistant(api_key="k", base_url=fake.base_url).enabled is True


async def test_strict_can_be_switched_off_for_models_without_it(fake) -> None:
    client = AnthropicAssistant(api_key="k", base_url=fake.base_url, max_retries=0, strict_tools=False)
    await client.respond(context(*TURN_1))
    await client.aclose()
    tool = fake.requests[-1].body["tools"][0]
    assert "strict" not in tool and tool["input_schema"]["additionalProperties"] is False


def test_tool_schemas_are_already_in_the_sdks_strict_form() -> None:
    """The SDK's own strict-schema transform leaves our schemas as they are: nothing the API's
    grammar compiler would refuse (type lists, numeric or length bounds) is in them."""
    from anthropic.lib._parse._transform import transform_schema

    from core.assistant.tools import ALL_TOOLS

    for tool in ALL_TOOLS:
        schema = tool["input_schema"]
        assert transform_schema(schema) == schema, tool["name"]
