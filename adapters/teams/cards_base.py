"""Adaptive Card building blocks and Teams' size rules: text splitting, escaping, the card envelope.

Teams refuses a bot message above 100 KB of UTF-16 (413 MessageSizeTooBig), so long text is split
into several TextBlocks or messages, never cut off.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
MESSAGE_LIMIT_BYTES = 100_000  # Teams' bot message limit, UTF-16
ENVELOPE_MARGIN_BYTES = 8_000  # the activity around the attachment: ids, conversation, summary
CARD_LIMIT_BYTES = MESSAGE_LIMIT_BYTES - ENVELOPE_MARGIN_BYTES
TEXT_BLOCK_BYTES = 8_000  # one TextBlock holds about 4,000 characters; longer text gets more blocks
STYLES = {"primary": "positive", "danger": "destructive"}  # neutral card style → ActionStyle

Element = dict[str, Any]


_MENTION_TAG = re.compile(r"<(\s*/?\s*at\b)", re.IGNORECASE)


def safe(text: str) -> str:
    """User and assistant text can't smuggle an `<at>` mention into a card; everything else stays
    as typed (R38: a TextBlock shows `<`, `>` and `&` as they are, it renders no HTML)."""
    return _MENTION_TAG.sub("＜\\1", text)


def utf16_size(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass"))


def card_size(card: dict[str, Any]) -> int:
    """The card's JSON in UTF-16 bytes, the unit of Teams' message limit."""
    return utf16_size(json.dumps(card, ensure_ascii=False, separators=(",", ":")))


def card_size_ok(card: dict[str, Any]) -> bool:
    """True when the card leaves room for the activity envelope under Teams' 100 KB."""
    return card_size(card) <= CARD_LIMIT_BYTES


def split_text(text: str, limit_bytes: int) -> list[str]:
    """Pieces of at most `limit_bytes` UTF-16 bytes that join back to `text` exactly. Cuts after a
    paragraph, else a line, else a space, in the back half of a piece; a hard cut only as a last resort."""
    if limit_bytes < 4:
        raise ValueError("a piece must hold at least one character (4 bytes)")
    parts: list[str] = []
    start, size = 0, len(text)
    while start < size:
        end = _fit(text, start, limit_bytes)
        if end < size:
            end = _break(text, start, end)
        parts.append(text[start:end])
        start = end
    return parts


def _fit(text: str, start: int, limit_bytes: int) -> int:
    used, index = 0, start
    while index < len(text):
        cost = 4 if ord(text[index]) > 0xFFFF else 2
        if used + cost > limit_bytes:
            break
        used += cost
        index += 1
    return index


def _break(text: str, start: int, end: int) -> int:
    window = text[start:end]
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator)
        if at >= 0 and at + len(separator) > len(window) // 2:
            return start + at + len(separator)
    return end


def message_chunks(text: str, limit_bytes: int = 28_000) -> list[str]:
    """Split a long note or reply into messages well under Teams' limit; `"".join` gives it back."""
    return split_text(text, limit_bytes)


def fit_count(build: Callable[[int], dict[str, Any]], total: int) -> int:
    """The largest k ≤ total for which `build(k)` fits a message (0 when even that does not)."""
    if card_size_ok(build(total)):
        return total
    low, high = 0, total - 1  # invariant: every k > high is too big
    while low < high:
        middle = (low + high + 1) // 2
        if card_size_ok(build(middle)):
            low = middle
        else:
            high = middle - 1
    return low


def adaptive_card(body: list[Element], actions: list[Element] | None = None) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": CARD_VERSION, "body": body}
    if actions:
        card["actions"] = actions
    return card


def text_blocks(text: str, **props: Any) -> list[Element]:
    """`text` (escaped) as one or more wrapping TextBlocks; continuation blocks sit flush below."""
    pieces = split_text(safe(text), TEXT_BLOCK_BYTES) or [""]
    blocks = [{"type": "TextBlock", "text": pieces[0], "wrap": True, **props}]
    rest = {key: value for key, value in props.items() if key not in ("separator", "spacing")}
    blocks += [{"type": "TextBlock", "text": piece, "wrap": True, **rest, "spacing": "None"} for piece in pieces[1:]]
    return blocks


def title(text: str) -> list[Element]:
    return text_blocks(text, size="Large", weight="Bolder")


def heading(text: str) -> list[Element]:
    return text_blocks(text, weight="Bolder", separator=True, spacing="Medium")


def subtle(text: str) -> list[Element]:
    return text_blocks(text, isSubtle=True, spacing="Small")


def fact_set(pairs: list[tuple[str, str]]) -> Element:
    return {"type": "FactSet", "facts": [{"title": safe(name), "value": safe(value)} for name, value in pairs]}


def action_set(actions: list[Element]) -> Element:
    return {"type": "ActionSet", "actions": actions}


def show_card(title_text: str, body: list[Element], submit: Element, *, style: str | None = None,
              extra: Sequence[Element] = ()) -> Element:
    """A button that unfolds a small form on the card: Teams' answer to Slack's modal."""
    action: Element = {"type": "Action.ShowCard", "title": title_text,
                       "card": {"type": "AdaptiveCard", "body": body, "actions": [submit, *extra]}}
    if style:
        action["style"] = style
    return action
