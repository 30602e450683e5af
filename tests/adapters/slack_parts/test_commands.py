"""`/rf` argument parsing: property tests (never a crash, only known subcommands, session refs
round-trip, garbage refused with InvalidInput) plus the examples people actually type."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from adapters.slack.commands import (
    HELP,
    ROLES,
    SUBCOMMANDS,
    RfCommand,
    parse_command,
    parse_link_args,
    parse_role_args,
    parse_session_ref,
)
from core.errors import InvalidInput
from core.metric import parse_period

FAST = settings(max_examples=300, deadline=None)
ASCII_DIGITS = re.compile(r"#?[0-9]+")
session_numbers = st.integers(min_value=1, max_value=999_999_999)
slack_user_ids = st.from_regex(r"[UW][A-Z0-9]{1,11}", fullmatch=True)
spaces = st.text(alphabet=" \t\n", max_size=3)
words = st.text(alphabet=st.characters(blacklist_categories=("Z", "C")), min_size=1, max_size=12)


def random_case(text: str, flips: list[bool]) -> str:
    return "".join(ch.upper() if flip else ch.lower() for ch, flip in zip(text, flips + [False] * len(text)))


# ---- parse_command ----------------------------------------------------------------------------


@FAST
@given(st.text(max_size=200))
@example("")
@example("   ")
@example("\u00a0new\u2003printer")
def test_parse_command_never_raises_and_names_a_known_subcommand(text: str) -> None:
    command = parse_command(text)
    assert isinstance(command, RfCommand)
    assert command.name in SUBCOMMANDS
    if command.unknown:
        assert command.name == "help"
        assert command.args == text.strip()


@FAST
@given(st.sampled_from(SUBCOMMANDS), st.lists(st.booleans(), max_size=10), spaces, st.text(max_size=80))
def test_a_known_subcommand_is_recognised_in_any_case_with_its_args(
        name: str, flips: list[bool], lead: str, args: str) -> None:
    command = parse_command(f"{lead}{random_case(name, flips)} {args}")
    assert command == RfCommand(name=name, args=args.strip(), unknown=False)


@FAST
@given(words)
def test_an_unknown_first_word_is_help_marked_unknown(word: str) -> None:
    assume(word.lower() not in SUBCOMMANDS)
    command = parse_command(f"{word} with some args")
    assert command == RfCommand(name="help", args=f"{word} with some args", unknown=True)


@pytest.mark.parametrize(("text", "expected"), [
    ("", RfCommand(name="help", args="")),
    ("help", RfCommand(name="help", args="")),
    ("new printer offline for 3 users", RfCommand(name="new", args="printer offline for 3 users")),
    ("  LINK   12345   #7 ", RfCommand(name="link", args="12345   #7")),
    ("stats", RfCommand(name="stats", args="")),
    ("escalate now", RfCommand(name="help", args="escalate now", unknown=True)),
])
def test_parse_command_examples(text: str, expected: RfCommand) -> None:
    assert parse_command(text) == expected


def test_the_help_lists_every_subcommand() -> None:
    for name in SUBCOMMANDS:
        assert f"/rf {name}" in HELP


# ---- parse_session_ref ------------------------------------------------------------------------


@FAST
@given(session_numbers, st.booleans(), spaces, spaces)
def test_session_refs_round_trip(number: int, hashed: bool, before: str, after: str) -> None:
    text = f"{before}{'#' if hashed else ''}{number}{after}"
    assert parse_session_ref(text) == number


@FAST
@given(session_numbers, st.integers(min_value=1, max_value=3))
def test_leading_zeros_are_the_same_session(number: int, zeros: int) -> None:
    digits = "0" * zeros + str(number)
    assume(len(digits) <= 9)
    assert parse_session_ref(f"#{digits}") == number


@FAST
@given(st.text(max_size=30))
@example("#")
@example("##12")
@example("# 12")
@example("12a")
@example("-5")
@example("1.5")
@example("1e3")
@example("1_000")
def test_anything_else_is_refused_with_invalid_input(text: str) -> None:
    stripped = text.strip()
    assume(not ASCII_DIGITS.fullmatch(stripped) or not stripped.isascii())
    try:
        number = parse_session_ref(text)
    except InvalidInput as exc:
        assert "is not a session number like #12" in str(exc)
        return
    # The only non-ASCII inputs accepted are other scripts' decimal digits; they still mean a number.
    assert stripped.lstrip("#").isdecimal()
    assert number == int(stripped.lstrip("#")) >= 1


@pytest.mark.parametrize("text", ["", "#0", "0", "000", "1234567890", "#1234567890", "abc", "#12 #13"])
def test_session_ref_refusals(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_session_ref(text)


# ---- parse_link_args --------------------------------------------------------------------------


@FAST
@given(st.lists(words, min_size=1, max_size=4), session_numbers)
def test_link_args_with_a_trailing_session(ticket_words: list[str], number: int) -> None:
    ticket = " ".join(ticket_words)
    assert parse_link_args(f" {ticket}  #{number} ") == (ticket, number)


@FAST
@given(st.lists(words, min_size=1, max_size=4))
def test_link_args_without_a_hashed_last_word_name_no_session(ticket_words: list[str]) -> None:
    assume(not (len(ticket_words) > 1 and ASCII_DIGITS.fullmatch(ticket_words[-1])
                and ticket_words[-1].startswith("#")))
    try:
        ticket, session = parse_link_args(" ".join(ticket_words))
    except InvalidInput:  # `#<non-ascii digits>` or `#0` as the last word: a bad session number
        assert ticket_words[-1].startswith("#")
        return
    assert session is None or ticket_words[-1].startswith("#")
    if session is None:
        assert ticket == " ".join(ticket_words)


@pytest.mark.parametrize(("args", "expected"), [
    ("12345", ("12345", None)),
    ("12345 #7", ("12345", 7)),
    ("12345 7", ("12345 7", None)),
    ("#7", ("#7", None)),
    ("https://cw.example/ticket?id=1 #12", ("https://cw.example/ticket?id=1", 12)),
])
def test_link_args_examples(args: str, expected: tuple[str, int | None]) -> None:
    assert parse_link_args(args) == expected


@pytest.mark.parametrize("args", ["", "   ", "12345 #0"])
def test_link_args_refusals(args: str) -> None:
    with pytest.raises(InvalidInput):
        parse_link_args(args)


# ---- parse_period (the engine's, as /rf stats uses it) ---------------------------------------


@pytest.mark.parametrize(("args", "days"), [("", 7), ("  ", 7), ("7", 7), ("7d", 7), ("30D", 30),
                                            (" 90d ", 90), ("90", 90)])
def test_periods(args: str, days: int) -> None:
    assert parse_period(args) == days


@FAST
@given(st.text(max_size=12))
def test_a_period_is_7_30_or_90_or_refused(text: str) -> None:
    try:
        days = parse_period(text)
    except InvalidInput as exc:
        assert "7d, 30d or 90d" in str(exc)
        assert text.strip().lower().removesuffix("d") not in ("7", "30", "90") and text.strip()
        return
    assert days in (7, 30, 90)


# ---- parse_role_args --------------------------------------------------------------------------


@FAST
@given(slack_user_ids, st.sampled_from(ROLES), st.lists(st.booleans(), max_size=8),
       st.one_of(st.none(), st.from_regex(r"[a-z.]{1,10}", fullmatch=True)), spaces)
def test_a_mention_and_a_role_are_accepted(user: str, role: str, flips: list[bool], label: str | None,
                                           gap: str) -> None:
    mention = f"<@{user}|{label}>" if label is not None else f"<@{user}>"
    assert parse_role_args(f"{gap}{mention} {gap}{random_case(role, flips)}{gap}") == (user, role)


@FAST
@given(st.text(max_size=40))
@example("<@U123> owner")
@example("<@u123> viewer")
@example("<@Uabc> viewer")
@example("<@X123> admin")
@example("@bob viewer")
@example("U123 viewer")
@example("<@U123>viewer")
@example("<@U123> viewer extra")
@example("viewer <@U123>")
@example("<#C123> admin")
@example("<@U123 admin")
def test_role_args_accept_only_a_mention_and_a_role(text: str) -> None:
    try:
        user, role = parse_role_args(text)
    except InvalidInput as exc:
        assert "Usage: /rf role" in str(exc)
        return
    first, second = text.split()
    assert role in ROLES and second.lower() == role
    assert re.fullmatch(r"[UW][A-Z0-9]+", user)
    assert first.startswith(f"<@{user}") and first.endswith(">")


@FAST
@given(slack_user_ids, words)
def test_only_the_three_roles(user: str, role: str) -> None:
    assume(role.lower() not in ROLES)
    with pytest.raises(InvalidInput):
        parse_role_args(f"<@{user}> {role}")


@pytest.mark.parametrize("text", ["²", "٧", "７", "7²"])
def test_digits_that_are_not_ascii_are_refused_clearly(text: str) -> None:
    with pytest.raises(InvalidInput, match="7d, 30d or 90d"):
        parse_period(text)
