"""R38: a note reaches ConnectWise as plain text that reads well, with nothing the engineer wrote lost."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.psa.note_text import note_text, text_words_source
from core.assistant.types import NoteBundle
from core.compose import compose_escalation, compose_resolution
from tests.unit.compose_cases import ESCALATED, SUCCESS
from tests.unit.test_compose_snapshots import matches_snapshot

NOTE = """## Problem
The VPN **drops** every _hour_ for `SSL-VPN` users.

### What we confirmed
- Drops happen at exactly 60 minutes
- Only the SSL VPN is affected
  - seen on 3 laptops

1. Raise the idle timeout
2. Reconnect

```powershell
Set-VpnTimeout -Minutes 480

Restart-Service vpn
```

See [the runbook](https://kb.example/vpn) or <https://status.example>.

> Customer: "it happens after lunch"

---
_Composed automatically._"""

EXPECTED = """Problem
-------

The VPN drops every hour for SSL-VPN users.

What we confirmed
-----------------

- Drops happen at exactly 60 minutes
- Only the SSL VPN is affected
  - seen on 3 laptops

1. Raise the idle timeout
2. Reconnect

    Set-VpnTimeout -Minutes 480

    Restart-Service vpn

See the runbook (https://kb.example/vpn) or https://status.example.

> Customer: "it happens after lunch"

----------

Composed automatically."""


def test_a_composed_note_reads_as_plain_text() -> None:
    assert note_text(NOTE) == EXPECTED


def test_no_markdown_syntax_is_left_in_the_text() -> None:
    text = note_text(NOTE)
    assert "#" not in text and "**" not in text and "`" not in text and "](" not in text
    assert not re.search(r"(^|\s)_\w", text)


def test_top_heading_and_numbered_lists_keep_their_form() -> None:
    assert note_text("# Summary\n\n3. third\n4. fourth") == "Summary\n=======\n\n3. third\n4. fourth"
    assert note_text("1) one\n2) two") == "1) one\n2) two"


def test_loose_lists_and_paragraphs_in_items_stay_apart() -> None:
    assert note_text("- one\n\n- two\n\n  more about two") == "- one\n\n- two\n\n  more about two"


def test_code_in_a_list_item_stays_indented_under_it() -> None:
    assert note_text("- run this:\n\n  ```\n  ipconfig /flushdns\n  ```") == "- run this:\n\n      ipconfig /flushdns"


def test_tables_become_rows_of_cells() -> None:
    assert note_text("| Host | State |\n|---|---|\n| PRN-02 | offline |") == "Host | State\nPRN-02 | offline"


def test_windows_paths_html_and_entities_stay_as_typed() -> None:
    typed = r"Cleared \\fs01\spool\* and C:\Temp\*.log, C:\Users\dana\.ssh; <Server01> & AT&amp;T"
    assert note_text(typed) == typed


def test_a_line_escaped_from_being_a_heading_reads_as_typed() -> None:
    assert note_text("\\## 5 jobs left\n\\- not a bullet") == "## 5 jobs left\n- not a bullet"


def test_links_show_their_address_once() -> None:
    assert note_text("[https://a.example](https://a.example)") == "https://a.example"
    assert note_text("<ops@msp.example>") == "ops@msp.example"
    assert note_text("[](https://a.example/x)") == "https://a.example/x"
    assert note_text("![screenshot](https://img.example/1.png)") == "screenshot (https://img.example/1.png)"


def test_line_breaks_are_kept() -> None:
    assert note_text("first line\nsecond line  \nthird line\\\nfourth") == "first line\nsecond line\nthird line\\\nfourth"


def test_blank_and_markup_only_notes() -> None:
    assert note_text("") == ""
    assert note_text("  \n ") == ""
    assert note_text("#") == "#"  # nothing readable would be left: the text goes as typed


WORDS = st.text(st.sampled_from("abcXYZ019éß"), min_size=1, max_size=8)
MARKUP = st.sampled_from(["#", "## ", "- ", "* ", "1. ", "2) ", "> ", "**", "_", "`", "```", "    ", "\\", "[", "]",
                          "(", ")", "<", ">", "&", "|", "---", "~", "!", ":", "https://x.example/p", "\n", "\n\n", " "])
MARKDOWN = st.lists(WORDS | MARKUP, max_size=40).map("".join)


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


@settings(max_examples=400, deadline=None)
@given(MARKDOWN)
def test_any_markdown_renders_and_keeps_every_word(markdown: str) -> None:
    text = note_text(markdown)
    assert isinstance(text, str)
    assert bool(text) == bool(markdown.strip())
    out = words(text)
    for word in words(text_words_source(markdown)):
        assert word in out, (word, markdown, text)


PHRASE = st.lists(WORDS, min_size=1, max_size=5).map(" ".join)
SPAN = PHRASE | PHRASE.map(lambda p: f"**{p}**") | PHRASE.map(lambda p: f"_{p}_") | PHRASE.map(lambda p: f"`{p}`") \
    | PHRASE.map(lambda p: f"[{p}](https://kb.example/{p.replace(' ', '-')})")
LINE = st.lists(SPAN, min_size=1, max_size=4).map(" ".join)
BLOCK = st.one_of(
    st.tuples(st.sampled_from(["# ", "## ", "### "]), PHRASE).map("".join),
    LINE,
    st.lists(LINE, min_size=1, max_size=4).map(lambda lines: "\n".join(f"- {line}" for line in lines)),
    st.lists(LINE, min_size=1, max_size=4).map(lambda lines: "\n".join(f"{i}. {x}" for i, x in enumerate(lines, 1))),
    st.lists(PHRASE, min_size=1, max_size=3).map(lambda lines: "```\n" + "\n".join(lines) + "\n```"),
    LINE.map(lambda line: f"> {line}"),
)
NOTES = st.lists(BLOCK, min_size=1, max_size=8).map("\n\n".join)


@settings(max_examples=300, deadline=None)
@given(NOTES)
def test_a_rendered_note_settles(markdown: str) -> None:
    """Text we sent, sent again, keeps its words and settles at once: no creeping indentation or
    underlines. (Read as markdown again, code right after a list joins the last item, so the first
    re-render may still move it by an indent.)"""
    once = note_text(markdown)
    twice = note_text(once)
    assert note_text(twice) == twice
    assert words(twice) == words(once)


# Prose: lines that start with a letter (a line starting "1." is a numbered list, laid out as one).
PLAIN_LINE = st.tuples(st.sampled_from("abcXYZé"), st.text(st.sampled_from("abcdefXYZ0123 .,;:?!()'\"é"), max_size=30)) \
    .map("".join).map(str.strip) | st.just("")
PLAIN = st.lists(PLAIN_LINE, max_size=8).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(PLAIN)
def test_plain_text_goes_through_as_typed(plain: str) -> None:
    expected = re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in plain.split("\n"))).strip("\n")
    assert note_text(plain) == expected
    assert note_text(note_text(plain)) == note_text(plain)


@pytest.mark.parametrize(("name", "compose", "bundle"), [
    ("compose_note_success", compose_resolution, SUCCESS),
    ("compose_package_escalated", compose_escalation, ESCALATED),
])
def test_the_deterministic_note_as_connectwise_shows_it(name: str, compose: Callable[[NoteBundle], str],
                                                         bundle: NoteBundle) -> None:
    """The composed markdown (tests/unit/snapshots/<name>.md) and the text the customer or senior reads
    in the ticket (<name>.cw.txt); RF_UPDATE_SNAPSHOTS=1 rewrites both."""
    markdown = compose(bundle)
    matches_snapshot(f"{name}.md", markdown)
    matches_snapshot(f"{name}.cw.txt", note_text(markdown))
