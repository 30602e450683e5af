"""R33/R7/R16: raw model output is validated before it touches state; bad elements are dropped and
logged, a missing reply is the only fatal case, and nothing but AssistantUnavailable escapes."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.assistant.types import AssistantTurn, AssistantUnavailable, FactPromotion, FixSuggestion, OutcomeProposal
from core.assistant.validation import (
    ESCALATION_SECTIONS,
    MAX_ITEMS_PER_LIST,
    RESOLUTION_SECTIONS,
    parse_fact,
    parse_note,
    parse_turn,
)


def fix(title: str = "Restart the service", confidence: Any = 60, **extra: Any) -> dict[str, Any]:
    return {"title": title, "description": "Restart it and re-test.", "confidence": confidence, "script": None,
            "script_language": None, "parameters": [], **extra}  # fmt: skip


def turn(**fields: Any) -> AssistantTurn:
    return parse_turn({"reply": "Next, check the logs.", **fields})


# ---- the reply -----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [None, "text", [], {}, {"reply": ""}, {"reply": "   \n"}, {"reply": 5}])
def test_no_usable_reply_is_unavailable(raw: object) -> None:
    with pytest.raises(AssistantUnavailable, match="unusable reply"):
        parse_turn(raw)


def test_reply_is_trimmed_and_unknown_keys_are_ignored() -> None:
    result = parse_turn({"reply": "  Check the queue.  ", "mood": "cheerful"})
    assert result.reply == "Check the queue." and result.dropped == ()


# ---- questions and checks -----------------------------------------------------------------------
def test_lane_items_are_trimmed_deduplicated_and_non_text_dropped() -> None:
    result = turn(questions=["  When did it start? ", "when did it   start?", 7, "", "Who is affected?"])
    assert result.questions == ("When did it start?", "Who is affected?")
    assert sorted(result.dropped) == ["questions[1]: duplicate", "questions[2]: not text", "questions[3]: empty"]


def test_too_many_lane_items_are_capped() -> None:
    result = turn(checks=[f"Check number {i}" for i in range(MAX_ITEMS_PER_LIST + 2)])
    assert len(result.checks) == MAX_ITEMS_PER_LIST and len(result.dropped) == 2


def test_a_lone_string_where_a_list_was_expected_is_kept() -> None:
    assert turn(questions="Is it every user?").questions == ("Is it every user?",)


# ---- facts --------------------------------------------------------------------------------------
def test_fact_needs_evidence_and_label_is_normalised() -> None:
    result = turn(facts=[
        {"text": "The queue held stuck jobs.", "evidence": "queue shows stuck jobs", "item_label": "c2"},
        {"text": "It is the driver.", "evidence": "", "item_label": None},
        {"text": "Only one floor.", "evidence": "just our floor", "item_label": "question one"},
        "not an object",
    ])  # fmt: skip
    assert [f.text for f in result.facts] == ["The queue held stuck jobs.", "Only one floor."]
    assert result.facts[0].item_label == "C2" and result.facts[1].item_label is None
    assert any(r.startswith("facts[1]: evidence") for r in result.dropped)
    assert any(r.startswith("facts[2].item_label") for r in result.dropped)
    assert "facts[3]: not an object" in result.dropped


# ---- fixes (R7) ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [(180, 100), (-5, 0), (72.6, 73), ("85%", 85), (" 40 ", 40), (100, 100), (0, 0)],
)
def test_confidence_is_clamped(raw: Any, expected: int) -> None:
    result = turn(fixes=[fix(confidence=raw)])
    assert result.fix is not None and result.fix.confidence == expected


@pytest.mark.parametrize("raw", [True, None, "high", float("nan"), float("inf"), [50]])
def test_fix_without_a_numeric_confidence_is_dropped(raw: Any) -> None:
    result = turn(fixes=[fix(confidence=raw)])
    assert result.fix is None and result.dropped == ("fixes[0].confidence: not a number",)


def test_last_valid_fix_wins() -> None:
    result = turn(fixes=[fix("First", 30), fix("Second", 50), fix("", 90), "junk"])
    assert result.fix is not None and result.fix.title == "Second"
    assert "fixes[0]: superseded by a later suggestion in the same reply" in result.dropped
    assert any(r.startswith("fixes[2]: title") for r in result.dropped)
    assert "fixes[3]: not an object" in result.dropped


def test_script_keeps_indentation_and_parameters_are_validated() -> None:
    script = "\nif ({{enabled}}) {\n    Write-Output {{user_name}}\n}\n"
    params = [
        {"name": "user_name", "type": "text", "required": True, "sensitive": False, "options": []},
        {"name": "enabled", "type": "select", "required": True, "sensitive": False, "options": ["yes", "no"]},
        {"name": "admin_secret", "type": "password", "required": False, "sensitive": False, "options": None},
        {"name": "bad name!", "type": "text", "required": True, "sensitive": False, "options": []},
        {"name": "user_name", "type": "text", "required": True, "sensitive": False, "options": []},
    ]
    result = turn(fixes=[fix(script=script, script_language="PowerShell", parameters=params)])
    assert result.fix is not None
    assert result.fix.script == "if ({{enabled}}) {\n    Write-Output {{user_name}}\n}"
    assert result.fix.script_language == "powershell"
    assert [p.name for p in result.fix.parameters] == ["user_name", "enabled", "admin_secret"]
    assert result.fix.parameters[2].sensitive is True  # a password is always sensitive
    assert any(r.startswith("fixes[0].parameters[3]: name") for r in result.dropped)
    assert "fixes[0].parameters[4]: duplicate parameter user_name" in result.dropped


def test_script_carrying_a_redacted_value_is_removed_but_the_fix_kept() -> None:
    result = turn(fixes=[fix(script="Set-Password [REDACTED:password]", script_language="powershell")])
    assert result.fix is not None and result.fix.script is None and result.fix.script_language is None
    assert any("redacted" in r for r in result.dropped)


# ---- outcome (R11) ------------------------------------------------------------------------------
@pytest.mark.parametrize(("said", "expected"), [("worked", "worked"), ("Success", "worked"),
                                                 ("partly", "partial"), ("did not work", "failed")])  # fmt: skip
def test_outcome_synonyms(said: str, expected: str) -> None:
    result = turn(outcome={"outcome": said, "notes": "", "evidence": "it prints again"})
    assert result.outcome is not None and result.outcome.outcome == expected and result.outcome.notes is None


@pytest.mark.parametrize("raw", [{"outcome": "worked", "notes": None}, {"outcome": "maybe", "evidence": "hm"}, "yes"])
def test_invalid_outcome_is_dropped(raw: object) -> None:
    result = turn(outcome=raw)
    assert result.outcome is None and len(result.dropped) == 1


def test_every_drop_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="rflow.assistant")
    result = turn(questions=[1, 2], fixes=["junk"])
    logged = [r.getMessage() for r in caplog.records if r.name == "rflow.assistant"]
    assert len(result.dropped) == 3 and all(any(reason in line for line in logged) for reason in result.dropped)


# ---- property tests ------------------------------------------------------------------------------
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_ish = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                        max_leaves=20)
fix_like = st.fixed_dictionaries({}, optional={
    "title": json_ish | st.text(min_size=1, max_size=250), "description": json_ish | st.text(min_size=1),
    "confidence": json_ish | st.integers(-10**6, 10**6) | st.floats() | st.text(max_size=6),
    "script": json_ish | st.text(), "script_language": json_ish,
    "parameters": json_ish | st.lists(st.fixed_dictionaries({}, optional={
        "name": st.text(max_size=70), "type": st.sampled_from(["text", "password", "select", "x"]),
        "required": json_ish, "sensitive": json_ish, "options": json_ish}), max_size=3),
})  # fmt: skip
near_duplicates = st.lists(st.sampled_from(["Is it one user?", " is it ONE user? ", "Since when?", "", "\t"]), max_size=6)
turn_like = st.fixed_dictionaries({}, optional={
    "reply": json_ish | st.text(), "questions": json_ish | near_duplicates | st.lists(json_ish | st.text(), max_size=12),
    "checks": json_ish | st.lists(st.text(), max_size=12), "fixes": json_ish | st.lists(fix_like, max_size=4),
    "facts": json_ish | st.lists(st.fixed_dictionaries({}, optional={
        "text": json_ish | st.text(), "evidence": json_ish | st.text(), "item_label": json_ish}), max_size=4),
    "outcome": json_ish | st.fixed_dictionaries({}, optional={
        "outcome": st.sampled_from(["worked", "failed", "partial", "Partly", "nope"]) | json_ish,
        "notes": json_ish, "evidence": json_ish | st.text()}),
})  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(json_ish | turn_like)
def test_parse_turn_never_raises_anything_else_and_output_is_valid(raw: object) -> None:
    try:
        result = parse_turn(raw)
    except AssistantUnavailable:
        return
    assert isinstance(result, AssistantTurn)
    assert isinstance(result.reply, str) and result.reply and result.reply == result.reply.strip()
    for items in (result.questions, result.checks):
        assert all(isinstance(i, str) and i and i == i.strip() for i in items)
        assert len({i.casefold() for i in items}) == len(items) <= MAX_ITEMS_PER_LIST
    assert all(isinstance(f, FactPromotion) and f.evidence for f in result.facts)
    assert result.outcome is None or isinstance(result.outcome, OutcomeProposal)
    assert all(isinstance(reason, str) for reason in result.dropped)
    if result.fix is not None:
        assert isinstance(result.fix, FixSuggestion) and type(result.fix.confidence) is int
        assert 0 <= result.fix.confidence <= 100


@settings(max_examples=200, deadline=None)
@given(st.integers(-10**9, 10**9) | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9))
def test_any_finite_confidence_is_clamped_not_dropped(confidence: float) -> None:
    result = turn(fixes=[fix(confidence=confidence)])
    assert result.fix is not None
    assert result.fix.confidence == max(0, min(100, round(confidence)))
    assert not math.isnan(result.fix.confidence)


@settings(max_examples=200, deadline=None)
@given(json_ish | st.fixed_dictionaries({"fact": json_ish | st.text()}))
def test_parse_fact_returns_text_or_none_or_raises_unavailable(raw: object) -> None:
    try:
        fact = parse_fact(raw)
    except AssistantUnavailable:
        return
    assert fact is None or (isinstance(fact, str) and fact.strip() and len(fact) <= 1000)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["resolve", "escalate"]), st.lists(st.sampled_from(
    [f"## {s}" for s in RESOLUTION_SECTIONS + ESCALATION_SECTIONS] + ["text", "", "# Other", "### root cause"]),
    max_size=12))  # fmt: skip
def test_parse_note_keeps_required_sections_in_order_or_raises(kind: str, lines: list[str]) -> None:
    try:
        note = parse_note({"markdown": "\n".join(lines)}, kind)  # type: ignore[arg-type]
    except AssistantUnavailable:
        return
    headings = [line for line in note.split("\n") if line.startswith("## ")]
    required = RESOLUTION_SECTIONS if kind == "resolve" else ESCALATION_SECTIONS
    assert headings == [f"## {s}" for s in required]


# ---- parse_fact / parse_note examples ------------------------------------------------------------
@pytest.mark.parametrize(("raw", "expected"), [({"fact": None}, None), ({"fact": "  null "}, None),
                                               ({"fact": ' "It started on Monday." '}, "It started on Monday.")])  # fmt: skip
def test_parse_fact(raw: object, expected: str | None) -> None:
    assert parse_fact(raw) == expected


@pytest.mark.parametrize("raw", [None, {}, {"fact": 3}, {"fact": "x" * 1001}])
def test_parse_fact_rejects_unusable_input(raw: object) -> None:
    with pytest.raises(AssistantUnavailable):
        parse_fact(raw)


def test_parse_note_normalises_headings_and_drops_the_preamble() -> None:
    markdown = ("Sure! Here is the package.\n# problem\nA.\n### What we’ve confirmed:\nB.\n## What we've tried\nC.\n"
                "## **Current hypothesis**\nD.\n## Suggested next steps\nE.")  # fmt: skip
    note = parse_note({"markdown": markdown}, "escalate")
    assert note.startswith("## Problem\nA.")
    assert [line for line in note.split("\n") if line.startswith("#")] == [f"## {s}" for s in ESCALATION_SECTIONS]


@pytest.mark.parametrize(
    ("markdown", "complaint"),
    [
        ("## Problem\nA\n## Root cause\nC\n## Resolution\nD", "missing What we confirmed"),
        ("## Problem\n## Root cause\n## What we confirmed\n## Resolution", "out of order"),
        ("## Problem\n## What we confirmed\n## Root cause\n## Resolution\n" + "x" * 20_001, "20,000"),
        ("", "empty"),
    ],
)
def test_parse_note_rejects_notes_missing_their_shape(markdown: str, complaint: str) -> None:
    with pytest.raises(AssistantUnavailable, match=complaint):
        parse_note({"markdown": markdown}, "resolve")
