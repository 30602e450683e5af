"""Issue 12: the main-turn prompt stays within its stated token budget however long the session
(history folded into a digest, long text trimmed with a marker, facts counted beyond their budget),
and what it keeps stable stays a prefix from one turn to the next (R32)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.assistant import prompts
from core.assistant.budget import STANDARD, TIGHT, PromptBudget, estimate_tokens, trim_text
from core.assistant.prompts import EARLIER_OPEN, MAIN, STATE_OPEN, render_conversation
from core.assistant.tools import UPDATE_SESSION, tool_definitions
from core.assistant.types import AssistantContext, FactEntry, FixEntry, HistoryEntry, LaneEntry

LOG_LINE = "10:42:07 spooler job 17 failed: the device did not respond within the timeout\n"
BIG_LOG = LOG_LINE * (100_000 // len(LOG_LINE))


def request_tokens(messages: list[dict[str, Any]]) -> int:
    """The stated estimate of a whole main-turn input: system, tools and every text block."""
    blocks = [b["text"] for m in messages for b in m["content"]]
    fixed = estimate_tokens(MAIN) + estimate_tokens(json.dumps(tool_definitions(UPDATE_SESSION)))
    return fixed + sum(estimate_tokens(text) + prompts.PER_BLOCK_TOKENS for text in blocks)


def context(history: list[HistoryEntry], *, facts: int = 0, lane: int = 0, fact_text: str = "fact",
            earlier: tuple[HistoryEntry, ...] = (), earlier_count: int = 0, fix_text: str = "d") -> AssistantContext:  # fmt: skip
    return AssistantContext(
        session_title="Printer offline " * 40, ticket="#1",
        facts=tuple(FactEntry(label=f"F{i}", text=f"{fact_text} {i}", source="note") for i in range(1, facts + 1)),
        lane=tuple(LaneEntry(label=f"Q{i}", kind="question", text=f"question {i} " * 30,
                             status="open" if i % 3 else "promoted") for i in range(1, lane + 1)),
        active_fix=FixEntry(title="fix", description=fix_text, confidence=50, status="proposed", applied=False,
                            partial_notes=fix_text, failure_reason=fix_text),
        history=tuple(history), earlier=earlier, earlier_count=earlier_count,
    )


def engineer(text: str) -> HistoryEntry:
    return HistoryEntry(role="engineer", author="Dana", text=text)


def reply(text: str) -> HistoryEntry:
    return HistoryEntry(role="assistant", author="assistant", text=text)


def texts(rendered: Any) -> str:
    return "\n".join(b["text"] for m in rendered.messages for b in m["content"])


def test_a_pasted_log_is_trimmed_with_a_marker_keeping_head_and_tail() -> None:
    trimmed = trim_text(BIG_LOG, 21_000, prompts.TRIMMED)
    assert len(trimmed) <= 21_000
    assert trimmed.startswith(LOG_LINE[:40]) and trimmed.endswith(LOG_LINE.strip()[-40:])
    assert "characters of this text left out here" in trimmed
    assert trim_text("short", 100, prompts.TRIMMED) == "short"


def test_a_thousand_facts_and_a_big_log_stay_within_the_budget() -> None:
    history = [engineer("It stopped printing."), reply("Paste the log."), engineer(BIG_LOG)]
    for budget in (STANDARD, TIGHT):
        rendered = render_conversation(context(history, facts=1_000, lane=30, fact_text="confirmed " * 6), budget)
        assert request_tokens(rendered.messages) <= budget.total
        last = rendered.messages[-1]["content"][-1]["text"]
        assert "F1000 (note)" in last and "earlier facts not listed here" in last  # the newest, and a count
        assert "characters of this text left out here" in last


def test_unlisted_facts_are_counted() -> None:
    rendered = render_conversation(context([engineer("hi")], facts=1_000, fact_text="x" * 200), TIGHT)
    last = rendered.messages[-1]["content"][-1]["text"]
    listed = sum(1 for line in last.splitlines() if line.startswith("- F"))
    assert f"- ({1_000 - listed} earlier facts not listed here; they are still on record)" in last


def test_the_lane_lists_open_items_before_answered_ones() -> None:
    rendered = render_conversation(context([engineer("hi")], lane=30), TIGHT)
    last = rendered.messages[-1]["content"][-1]["text"]
    assert "[open]" in last and "more task-lane items not listed" in last
    assert "Q29 question [open]" in last  # the newest open item made it


def test_history_beyond_the_budget_is_folded_into_a_digest() -> None:
    history: list[HistoryEntry] = []
    for i in range(40):
        history += [engineer(f"log part {i}\n" + LOG_LINE * 60), reply(f"Reply {i}.")]
    rendered = render_conversation(context(history), STANDARD)
    first = rendered.messages[0]["content"][0]["text"]
    assert first.startswith(EARLIER_OPEN) and "earlier messages of this session are not shown in full" in first
    assert "- [Dana] log part 0" in first or "older messages not listed" in first
    assert request_tokens(rendered.messages) <= STANDARD.total
    assert rendered.messages[-1]["content"][-1]["text"].startswith(STATE_OPEN)


def test_steps_before_the_window_are_digested_and_counted() -> None:
    earlier = tuple(engineer(f"earlier message {i}") for i in range(60))
    rendered = render_conversation(context([engineer("now")], earlier=earlier, earlier_count=500))
    digest = rendered.messages[-1]["content"][0]["text"]  # nothing sent in full: the digest leads the only message
    assert digest.startswith(EARLIER_OPEN) and "500 earlier messages" in digest
    assert "- [Dana] earlier message 59" in digest and rendered.stable_count == 0
    assert rendered.messages[-1]["content"][-1]["text"].startswith(STATE_OPEN)


def test_the_folded_prefix_survives_the_next_turn() -> None:
    """The stable part depends on the history alone: the next turn's volatile part (a new big
    message, more facts) cannot move it."""
    history: list[HistoryEntry] = []
    for i in range(30):
        history += [engineer(f"part {i}\n" + LOG_LINE * 60), reply(f"Reply {i}.")]
    before = render_conversation(context(history, facts=3))
    after = render_conversation(context([*history, engineer(BIG_LOG)], facts=900))
    stable = before.messages[: before.stable_count]
    assert before.stable_count > 1 and after.messages[: before.stable_count] == stable


budgets = st.sampled_from([STANDARD, TIGHT])
sizes = st.sampled_from([0, 10, 3_000, 30_000, 100_000])


@settings(max_examples=60, deadline=None)
@given(budget=budgets, turns=st.integers(0, 45), size=sizes, newest=st.integers(0, 6), newest_size=sizes,
       facts=st.integers(0, 1_200), lane=st.integers(0, 40), earlier=st.integers(0, 2_000), fix=sizes)  # fmt: skip
def test_any_session_renders_within_its_budget(budget: PromptBudget, turns: int, size: int, newest: int,
                                               newest_size: int, facts: int, lane: int, earlier: int,
                                               fix: int) -> None:  # fmt: skip
    history: list[HistoryEntry] = []
    for i in range(turns):
        history += [engineer(f"m{i} " + "x" * size), reply("r" * min(size, 12_000))]
    history += [engineer("n " + "y" * newest_size) for _ in range(newest)]
    digestible = tuple(engineer("e" * 500) for _ in range(min(earlier, 60)))
    ctx = context(history, facts=facts, lane=lane, earlier=digestible, earlier_count=earlier, fix_text="f" * fix)
    rendered = render_conversation(ctx, budget)
    assert request_tokens(rendered.messages) <= budget.total
    roles = [m["role"] for m in rendered.messages]
    assert roles[0] == "user" and roles[-1] == "user"
    assert all(a != b for a, b in zip(roles, roles[1:], strict=False))
    assert all(b["text"].strip() for m in rendered.messages for b in m["content"])
