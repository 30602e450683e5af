"""R37: the reply text streams out of `AnthropicAssistant.respond` while the forced tool call's input
arrives; the turn itself still comes only from the final, validated message (R33). Timing claims
are checked against the times the fake Messages API recorded, not wall-clock bounds."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.anthropic import AnthropicAssistant, failures
from adapters.anthropic.streaming import PartialField
from core.assistant.types import AssistantContext, AssistantUnavailable, HistoryEntry
from tests.fakes.anthropic_api import FakeAnthropic, StreamTiming, fix_input, max_concurrency

HISTORY = (HistoryEntry(role="engineer", author="Dana", text="Outlook keeps asking for a password."),)
CONTEXT = AssistantContext(
    session_title="Outlook password prompts", ticket=None, facts=(), lane=(), active_fix=None, history=HISTORY
)
REPLY = (
    "That prompt usually means Outlook holds a stale token. Sign out of every Office app, clear the "
    "Office entries in Credential Manager, then sign in again and tell me whether it still asks."
)


# ---- the partial-reply parser ---------------------------------------------------------------
def snapshots(document: str, cuts: list[int]) -> list[str]:
    field = PartialField("reply")
    found = []
    points = sorted({c % (len(document) + 1) for c in cuts} | {len(document)})
    start = 0
    for point in points:
        grown = field.feed(document[start:point])
        start = point
        if grown is not None:
            found.append(grown)
    return found


others = st.dictionaries(
    st.sampled_from(["questions", "checks", "facts", "outcome"]),
    st.one_of(st.none(), st.lists(st.text(max_size=20), max_size=3), st.text(max_size=30)),
)


@settings(max_examples=300, deadline=None)
@given(
    reply=st.text(max_size=200),
    before=others,
    after=others,
    ascii_only=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40),
)
def test_snapshots_are_growing_prefixes_ending_in_the_reply(reply, before, after, ascii_only, cuts) -> None:
    document = json.dumps({**before, "reply": reply, **after}, ensure_ascii=ascii_only)
    found = snapshots(document, cuts)
    assert all(reply.startswith(text) for text in found)
    assert all(len(a) < len(b) for a, b in zip(found, found[1:]))
    assert found[-1:] == ([reply] if reply else [])


def test_chunks_cut_inside_escapes_and_surrogate_pairs_never_show_half_a_character() -> None:
    document = json.dumps({"reply": 'Tab\there, "quoted" \u00e9 \U0001f600 done', "questions": []})
    found = snapshots(document, list(range(len(document))))  # one character at a time
    assert found[-1] == 'Tab\there, "quoted" \u00e9 \U0001f600 done'
    assert not any(text.endswith("\\") or "\ud83d" in text for text in found)


def test_reading_stops_once_the_reply_is_closed() -> None:
    field = PartialField("reply")
    assert field.feed('{"reply": "Hi') == "Hi"
    assert field.feed(' there", "ques') == "Hi there"  # jiter drops a half key
    assert field.feed('tions": [') is None and field.done  # the next key has begun: the value is final
    assert field.feed('"Why?"]}') is None and field.value == "Hi there"


def test_malformed_input_stops_reading_without_raising() -> None:
    field = PartialField("reply")
    assert field.feed('{"reply": "ok"') == "ok"
    assert field.feed(",, }") is None and field.done  # the final message reports it (MALFORMED)
    assert field.feed('"more": 1}') is None and field.value == "ok"


# ---- through the SDK against the fake -------------------------------------------------------
@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as server:
        yield server


@pytest.fixture
async def assistant(fake: FakeAnthropic) -> AsyncIterator[AnthropicAssistant]:
    client = AnthropicAssistant(api_key="test-key", base_url=fake.base_url, timeout=5, max_retries=0)
    yield client
    await client.aclose()


class Listener:
    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []

    def __call__(self, text: str) -> None:
        self.calls.append((time.monotonic(), text))

    @property
    def texts(self) -> list[str]:
        return [text for _, text in self.calls]


async def test_reply_streams_in_growing_prefixes_after_the_first_token(fake, assistant) -> None:
    fix = fix_input("Reset the Office credentials")
    timing = StreamTiming(first_token=0.3, total=1.2, chunks=30)
    fake.push_update(REPLY, questions=["Is MFA enabled?"], fixes=[fix], timing=timing)
    listener = Listener()

    turn = await assistant.respond(CONTEXT, on_text=listener)

    record = fake.requests[-1]
    assert record.streamed and record.first_token_at is not None and record.finished_at is not None
    assert record.first_token_at - record.received_at >= timing.first_token
    assert len(listener.texts) >= 5
    assert all(b.startswith(a) and len(b) > len(a) for a, b in zip(listener.texts, listener.texts[1:]))
    assert listener.texts[-1] == REPLY == turn.reply
    assert listener.calls[0][0] >= record.first_token_at  # nothing shows before the model spoke
    assert listener.calls[-1][0] < record.finished_at  # the reply is done before the whole answer
    # the structured part comes from the final message only
    assert turn.questions == ("Is MFA enabled?",) and turn.fix is not None and turn.fix.title == fix["title"]


async def test_streaming_without_a_listener_answers_as_before(fake, assistant) -> None:
    fake.push_update(REPLY, timing=StreamTiming(first_token=0.05, total=0.2, chunks=10))
    assert (await assistant.respond(CONTEXT)).reply == REPLY


async def test_a_failing_listener_is_logged_once_and_the_turn_still_answers(fake, assistant, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="rflow.assistant")
    calls = []

    def broken(text: str) -> None:
        calls.append(text)
        raise RuntimeError("surface went away")

    fake.push_update(REPLY, timing=StreamTiming(first_token=0.0, total=0.2, chunks=20))
    turn = await assistant.respond(CONTEXT, on_text=broken)
    assert turn.reply == REPLY
    assert len(calls) == 1 and len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1


async def test_malformed_streamed_input_is_still_unavailable_after_progress(fake, assistant) -> None:
    fake.push_malformed_tool_use("update_session", '{"reply": "Half an answer", "questions": [,,]}')
    listener = Listener()
    with pytest.raises(AssistantUnavailable) as raised:
        await assistant.respond(CONTEXT, on_text=listener)
    assert raised.value.reason == failures.MALFORMED
    assert listener.texts == ["Half an answer"]  # shown while streaming; the final text decides


async def test_two_turns_stream_at_the_same_time(fake, assistant) -> None:
    fake.timing = StreamTiming(first_token=0.2, total=0.8, chunks=10)
    first, second = Listener(), Listener()
    await asyncio.gather(assistant.respond(CONTEXT, on_text=first), assistant.respond(CONTEXT, on_text=second))
    assert max_concurrency(fake.requests) == 2
    a, b = fake.requests
    assert a.first_token_at is not None and b.first_token_at is not None and a.finished_at is not None
    assert b.first_token_at < a.finished_at and a.first_token_at < b.finished_at  # type: ignore[operator]
    assert first.texts and second.texts
