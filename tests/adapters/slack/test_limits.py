"""Slack's limits: text splitting that loses nothing, message packing, and the payload check."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack import kit
from adapters.slack.limits import (
    MESSAGE_BLOCKS_CHARS,
    SECTION_TEXT,
    blocks_chars,
    check_blocks,
    check_view,
    fit_chunks,
    message_chunks,
    split_text,
)
from adapters.slack.text import escape, escape_within, shorten, to_mrkdwn
from tests.adapters.slack.factories import mrkdwn_texts, words

TEXTS = st.text(alphabet=st.sampled_from("ab &<>\n\t*#é😀"), max_size=400)


@given(text=TEXTS, limit=st.integers(min_value=1, max_value=60))
def test_split_text_joins_back_exactly_and_respects_the_limit(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    assert "".join(parts) == text
    assert all(1 <= len(p) <= limit for p in parts)


@given(text=TEXTS, limit=st.integers(min_value=4, max_value=60))
def test_split_text_cuts_inside_a_word_only_when_the_window_has_no_break(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    for part in parts[:-1]:
        if not part[-1].isspace():  # a hard cut: the whole window had no usable separator
            assert len(part) == limit
            assert not any(c in " \t\n" for c in part[limit // 4 - 1:])


def test_split_text_prefers_paragraphs_then_lines_then_words() -> None:
    text = "alpha beta\ngamma\n\ndelta epsilon"
    assert split_text(text, 20) == ["alpha beta\ngamma\n\n", "delta epsilon"]
    assert split_text("one two three four", 10) == ["one two ", "three four"]
    assert split_text("one two three four five", 10) == ["one two ", "three ", "four five"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("", 10) == []
    with pytest.raises(ValueError):
        split_text("abc", 0)


@given(text=TEXTS, limit=st.integers(min_value=5, max_value=80))
def test_fit_chunks_keeps_every_character_after_escaping(text: str, limit: int) -> None:
    chunks = fit_chunks(text, limit, escape)
    assert all(len(c) <= limit for c in chunks)
    assert words("".join(chunks)) == words(escape(text))


@given(text=TEXTS, room=st.integers(min_value=1, max_value=100))
def test_escape_within_fits_the_room_and_only_cuts_visibly(text: str, room: int) -> None:
    shown = escape_within(text, room)
    assert len(shown) <= room
    assert shown == escape(text) or shown.endswith("…")


def test_escaping_and_shortening() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert shorten("short", 10) == "short"
    cut = shorten("a long sentence that goes on", 12)
    assert cut.endswith("…") and len(cut) <= 12
    assert to_mrkdwn("## Problem\n**bold** text") == "*Problem*\n*bold* text"


def test_a_long_reply_becomes_several_valid_messages_with_nothing_lost() -> None:
    text = "\n\n".join(f"Paragraph {i}: " + "check the spooler & <queue> " * 40 for i in range(20))  # ~23k chars
    delivery = message_chunks(text)
    assert delivery.snippet is None
    assert 2 <= len(delivery.messages) <= 4
    shown = ""
    for fallback, blocks in delivery.messages:
        check_blocks(blocks, surface="message")
        assert blocks_chars(blocks) <= MESSAGE_BLOCKS_CHARS
        assert fallback and len(fallback) <= 320
        shown += "".join(t for t in mrkdwn_texts(blocks) if not t.startswith("part "))
    assert words(shown) == words(escape(to_mrkdwn(text)))
    assert "<queue>" not in shown
    assert delivery.messages[0][1][-1]["elements"][0]["text"] == f"part 1 of {len(delivery.messages)}"


def test_a_50000_character_note_goes_as_a_snippet() -> None:
    text = "Resolution. " * 4200  # 50,400 characters
    delivery = message_chunks(text, filename="note.md")
    assert delivery.snippet == text  # the file holds the exact text
    assert len(delivery.messages) == 1
    check_blocks(delivery.messages[0][1], surface="message")
    assert "note.md" in delivery.messages[0][0]


def test_a_short_reply_is_one_message_and_empty_text_is_none() -> None:
    delivery = message_chunks("All good.")
    assert delivery.snippet is None and len(delivery.messages) == 1
    assert delivery.messages[0][1] == [kit.section("All good.")]
    assert message_chunks("   ").messages == []


def _section(text: str = "hello") -> dict[str, Any]:
    return kit.section(text)


@pytest.mark.parametrize("blocks, surface, message", [
    ([_section()] * 51, "message", "51 blocks"),
    ([_section()] * 101, "modal", "101 blocks"),
    ([_section("x" * 3001)], "message", "3000"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": "a"}, "acessory": {}}], "message", "does not know"),
    ([{"type": "header", "text": kit.plain("h" * 151)}], "message", "150"),
    ([kit.actions([kit.button("x", "a", value="v" * 2001)])], "message", "2000"),
    ([kit.actions([kit.button("x", "a"), kit.button("y", "a")])], "message", "repeat"),
    ([kit.section("a", block_id="b"), kit.section("c", block_id="b")], "message", "used twice"),
    ([kit.section(" ")], "message", "empty text"),
    ([_section("y" * 2900)] * 5, "message", "characters"),
    ([], "message", "no blocks"),
    ([_section()], "dialog", "surface"),
])
def test_check_blocks_refuses_what_slack_would_refuse(blocks: list[dict[str, Any]], surface: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_blocks(blocks, surface=surface)


def test_check_blocks_accepts_the_same_sizes_in_a_modal() -> None:
    check_blocks([_section("y" * 2900)] * 5, surface="modal")  # the 12k budget is a message rule
    check_blocks([_section()] * 100, surface="home")


def test_check_view_enforces_title_metadata_and_home_rules() -> None:
    modal = {"type": "modal", "title": kit.plain("t"), "blocks": [_section()]}
    assert check_view(modal) is modal
    with pytest.raises(ValueError, match="title"):
        check_view({**modal, "title": kit.plain("x" * 25)})
    with pytest.raises(ValueError, match="private_metadata"):
        check_view({**modal, "private_metadata": "x" * 3001})
    with pytest.raises(ValueError, match="home"):
        check_view({"type": "home", "blocks": [_section()], "submit": kit.plain("Go")})
    with pytest.raises(ValueError, match="does not know"):
        check_view({**modal, "subtitle": "x"})


@settings(max_examples=30)
@given(n=st.integers(min_value=1, max_value=60_000))
def test_message_chunks_always_within_limits_or_a_snippet(n: int) -> None:
    text = ("word & <b> " * (n // 11 + 1))[:n]
    delivery = message_chunks(text)
    assert delivery.snippet in (None, text)
    assert len(delivery.messages) <= 4
    for _, blocks in delivery.messages:
        check_blocks(blocks, surface="message")
    if delivery.snippet is None:
        assert words("".join(mrkdwn_texts([b for _, bs in delivery.messages for b in bs if b["type"] == "section"]))) \
            == words(escape(text))
    assert SECTION_TEXT == 3000
