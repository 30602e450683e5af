"""Which confirmed facts bear on a fix: the evidence a deterministic note shows beside its root
cause (R13, R16). Plain word overlap, so a reader can see why a fact was chosen, and only facts
the engineer confirmed are ever picked."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.assistant.types import FixEntry

MOST = 3
_WORD = re.compile(r"\w+")
_STOP_WORDS = frozenset(
    "the and for are was were has have had not but with from that this then than into onto when what which who "
    "all any can did does its our out off per via fix fixed set use used apply applied after before again".split()
)


def keywords(text: str) -> set[str]:
    """Case-folded words that carry meaning: three letters or more, or any number."""
    words = (m.group(0).casefold() for m in _WORD.finditer(text))
    return {word for word in words if (len(word) >= 3 or word.isdigit()) and word not in _STOP_WORDS}


def bearing_facts(facts: Sequence[str], fix: FixEntry, most: int = MOST) -> list[str]:
    """The facts sharing the most words with the fix (title, description, outcome notes), in their
    own order, at most `most`; none when no fact shares a word."""
    about = keywords(" ".join(x for x in (fix.title, fix.description, fix.partial_notes, fix.failure_reason) if x))
    scores = [len(keywords(fact) & about) for fact in facts]
    best = max(scores, default=0)
    return [fact for fact, score in zip(facts, scores) if best and score == best][:most]
