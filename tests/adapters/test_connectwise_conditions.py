"""Conditions (R34): what the client builds, read back by the fake's independent parser.

If user text could change the query, parsing the built string would yield more than the one
`summary contains <text>` comparison. The property tests prove it never does.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.psa import conditions
from core.errors import InvalidInput
from tests.fakes.connectwise_conditions import (
    And,
    Compare,
    ConditionError,
    Not,
    Or,
    matches,
    parse_conditions,
    render,
)

SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_characters='"\\', blacklist_categories=("Cc", "Cs")),
    min_size=1,
    max_size=conditions.MAX_TEXT_LENGTH,
)
IDS = st.integers(min_value=1, max_value=2**31 - 1)
HOSTILE = [
    'printer" or company/id=20 or summary contains "',
    'x") or (1=1',
    "a\\\" or id>0 or summary contains \\\"",
    "line one\nline two",
    "tab\there",
    "nul\x00byte",
]


@given(text=SAFE_TEXT)
def test_safe_text_parses_back_to_exactly_one_literal_comparison(text: str) -> None:
    built = conditions.contains_text("summary", text)
    assert parse_conditions(built) == Compare("summary", "contains", text)


@given(text=SAFE_TEXT, company=IDS, board=IDS)
def test_text_cannot_escape_its_clause_when_combined(text: str, company: int, board: int) -> None:
    built = conditions.all_of(
        conditions.contains_text("summary", text),
        conditions.equals_id("company/id", company),
        conditions.equals_id("board/id", board),
    )
    assert built is not None
    assert parse_conditions(built) == And(
        And(Compare("summary", "contains", text), Compare("company/id", "=", company)),
        Compare("board/id", "=", board),
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_quotes_backslashes_and_control_characters_are_rejected(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        conditions.contains_text("summary", text)
    assert "cannot contain" in str(caught.value)


def test_overlong_text_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        conditions.text_literal("a" * (conditions.MAX_TEXT_LENGTH + 1))


@pytest.mark.parametrize("value", [True, "12", 1.5, None, 0, -3, 2**31, "1 or 1=1"])
def test_ids_must_be_real_positive_integers(value: object) -> None:
    with pytest.raises(InvalidInput):
        conditions.equals_id("company/id", value)


def test_field_names_are_plain_paths() -> None:
    with pytest.raises(ValueError):
        conditions.equals_id("company/id=1 or id", 5)


def test_all_of_skips_missing_clauses() -> None:
    assert conditions.all_of(None, "a=1", None) == "a=1"
    assert conditions.all_of() is None


# ---- the fake's parser itself ---------------------------------------------------------------

QUOTELESS = st.text(alphabet=st.characters(blacklist_characters='"', blacklist_categories=["Cs"]), max_size=20)
FIELD = st.sampled_from(["id", "summary", "company/id", "board/name", "status/id", "owner/identifier"])
LITERAL = st.one_of(
    st.integers(min_value=-(10**9), max_value=10**9),
    st.booleans(),
    st.none(),
    QUOTELESS,
)
COMPARISON = st.one_of(
    st.builds(Compare, FIELD, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), LITERAL),
    st.builds(Compare, FIELD, st.sampled_from(["contains", "like"]), QUOTELESS, st.booleans()),
    st.builds(lambda f, vs, n: Compare(f, "in", tuple(vs), n), FIELD, st.lists(LITERAL, min_size=1, max_size=4),
              st.booleans()),  # fmt: skip
)
TREES = st.recursive(
    COMPARISON,
    lambda inner: st.one_of(st.builds(And, inner, inner), st.builds(Or, inner, inner), st.builds(Not, inner)),
    max_leaves=8,
)


@given(tree=TREES)
def test_fake_parser_round_trips_rendered_trees(tree: object) -> None:
    assert parse_conditions(render(tree)) == tree  # type: ignore[arg-type]


@given(source=st.text(max_size=80))
def test_fake_parser_raises_only_condition_errors(source: str) -> None:
    try:
        parse_conditions(source)
    except ConditionError:
        pass


def test_fake_parser_precedence_and_binds_tighter_than_or() -> None:
    tree = parse_conditions('id=1 or id=2 AND summary contains "x"')
    assert tree == Or(Compare("id", "=", 1), And(Compare("id", "=", 2), Compare("summary", "contains", "x")))


@pytest.mark.parametrize(
    "source", ['summary contains "open', "id=", "(id=1", "id=1)", "id 1", 'summary contains x"', "and id=1"]
)
def test_fake_parser_rejects_malformed_conditions(source: str) -> None:
    with pytest.raises(ConditionError):
        parse_conditions(source)


def test_fake_evaluator_applies_nested_fields_case_insensitively() -> None:
    known = frozenset({"company/id", "summary", "owner/id"})
    record = {"company": {"id": 10}, "summary": "Printer Offline", "owner": None}
    assert matches(parse_conditions('company/id=10 and summary contains "printer"'), record, known)
    assert not matches(parse_conditions("company/id=20"), record, known)
    assert matches(parse_conditions("owner/id = null"), record, known)
    assert matches(parse_conditions('summary like "printer%"'), record, known)
    with pytest.raises(ConditionError):
        matches(parse_conditions("company/name=1"), record, known)
