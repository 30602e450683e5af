"""Slack's size limits, text splitting that never loses a character, and the one check every
payload passes before it leaves a renderer (slack_sdk's models plus the counts they do not know)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from adapters.slack import kit
from adapters.slack import labels as w
from adapters.slack.text import shorten, user_mrkdwn

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100  # modal and App Home
SECTION_TEXT = 3000
FIELD_TEXT = 2000
VIEW_TITLE = 24  # modal title, submit and close
INPUT_CHARS = 3000  # plain_text_input max_length can be at most 3000
# Undocumented: Slack answers msg_blocks_too_long at about 13.2k characters across a message's blocks
# (slackapi/bolt-js#2509), and one report saw it with 11.3k characters of text (#2867). We count
# every string in the block tree (ids and types too), which is stricter than text alone.
MESSAGE_BLOCKS_CHARS = 12_000
MAX_MESSAGES = 4  # more than this and a long text goes as a file (snippet) instead
FALLBACK_TEXT = 300  # the notification text of a message whose blocks carry the content

SURFACE_BLOCKS = {"message": MESSAGE_BLOCKS, "modal": VIEW_BLOCKS, "home": VIEW_BLOCKS}
_SEPARATORS = ("\n\n", "\n", " ", "\t")


def _first_cut(text: str, limit: int) -> int:
    """Where the first part of `text` ends (see split_text)."""
    if len(text) <= limit:
        return len(text)
    window = text[:limit]
    for separator in _SEPARATORS:
        found = window.rfind(separator)
        if found >= 0 and found + len(separator) >= max(1, limit // 4):
            return found + len(separator)
    return limit


def split_text(text: str, limit: int = SECTION_TEXT) -> list[str]:
    """Cut `text` into parts of at most `limit` characters: after a blank line if one is in the last
    three quarters of the window, else after a line break, else after a space, else a hard cut.
    Separators stay at the end of their part, so `"".join(parts) == text` exactly."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    parts: list[str] = []
    start = 0
    while start < len(text):
        cut = _first_cut(text[start:start + limit + 1], limit)
        parts.append(text[start:start + cut])
        start += cut
    return parts


def fit_chunks(text: str, limit: int, render: Callable[[str], str]) -> list[str]:
    """Split raw `text` so that each part, once rendered (escaped, converted), is within `limit`.
    The raw parts still join to `text`; parts that render to whitespace only are dropped."""
    out: list[str] = []
    start = 0
    while start < len(text):
        size = limit
        while True:
            part = text[start:start + _first_cut(text[start:start + size + 1], size)]
            shown = render(part)
            if len(shown) <= limit:
                break
            if len(part) == 1:
                raise ValueError(f"{part!r} renders longer than {limit} characters")
            size = max(1, min(len(part) - 1, len(part) * limit // len(shown)))  # escaping grew it: take less
        if shown.strip():
            out.append(shown)
        start += len(part)
    return out


def blocks_chars(blocks: list[dict[str, Any]]) -> int:
    """Every string in the tree, the stricter reading of the msg_blocks_too_long budget."""
    def count(node: object) -> int:
        if isinstance(node, str):
            return len(node)
        if isinstance(node, dict):
            return sum(len(k) + count(v) for k, v in node.items())
        if isinstance(node, list):
            return sum(count(v) for v in node)
        return 0
    return count(blocks)


def fits(blocks: list[dict[str, Any]], *, surface: str = "message") -> bool:
    """The cheap part of `check_blocks`: counts and size, for renderers that try several densities."""
    if len(blocks) > SURFACE_BLOCKS[surface]:
        return False
    return surface != "message" or blocks_chars(blocks) <= MESSAGE_BLOCKS_CHARS


def _empty_texts(node: object, path: str) -> list[str]:
    if isinstance(node, dict):
        found = [path] if node.get("type") in ("plain_text", "mrkdwn") and not str(node.get("text", "")).strip() else []
        for key, value in node.items():
            found += _empty_texts(value, f"{path}.{key}")
        return found
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _empty_texts(v, f"{path}[{i}]")]
    return []


def _element_ids(block: dict[str, Any]) -> list[str]:
    elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            elements.append(block[key])
    return [e["action_id"] for e in elements if isinstance(e, dict) and "action_id" in e]


def check_blocks(blocks: list[dict[str, Any]], *, surface: str) -> None:
    """Raise ValueError unless Slack would take these blocks on `surface` (message, modal, home)."""
    if surface not in SURFACE_BLOCKS:
        raise ValueError(f"unknown surface {surface!r}")
    if not blocks:
        raise ValueError("no blocks")
    if len(blocks) > SURFACE_BLOCKS[surface]:
        raise ValueError(f"{len(blocks)} blocks; a {surface} holds at most {SURFACE_BLOCKS[surface]}")
    block_ids: set[str] = set()
    for i, raw in enumerate(blocks):
        where = f"block {i} ({raw.get('type') if isinstance(raw, dict) else type(raw).__name__})"
        if not isinstance(raw, dict):
            raise ValueError(f"{where} is not an object")
        try:
            parsed = Block.parse(raw)
            if parsed is None or parsed.to_dict() != raw:  # to_dict validates recursively
                raise ValueError(f"{where} has fields slack_sdk does not know: {raw}")
        except SlackObjectFormationError as exc:
            raise ValueError(f"{where}: {exc}") from exc
        empty = _empty_texts(raw, where)
        if empty:
            raise ValueError(f"empty text at {empty[0]}")
        block_id = raw.get("block_id")
        if block_id is not None:
            if block_id in block_ids:
                raise ValueError(f"{where}: block_id {block_id!r} is used twice")
            block_ids.add(block_id)
        ids = _element_ids(raw)
        if len(ids) != len(set(ids)):
            raise ValueError(f"{where}: action_ids repeat within the block: {ids}")
    if surface == "message" and (size := blocks_chars(blocks)) > MESSAGE_BLOCKS_CHARS:
        raise ValueError(f"the blocks hold {size} characters; a message holds about {MESSAGE_BLOCKS_CHARS}")


def check_view(view: dict[str, Any]) -> dict[str, Any]:
    """A modal or Home view: slack_sdk's View rules (title, submit, metadata…) and every block."""
    surface = view.get("type")
    if surface not in ("modal", "home"):
        raise ValueError(f"unknown view type {surface!r}")
    try:
        parsed = View(**{k: v for k, v in view.items() if k != "blocks"}, blocks=view.get("blocks"))
        parsed.validate_json()
        if parsed.to_dict() != view:
            raise ValueError(f"the view has fields slack_sdk does not know: {sorted(view)}")
    except SlackObjectFormationError as exc:
        raise ValueError(f"view: {exc}") from exc
    check_blocks(view.get("blocks") or [], surface=str(surface))
    return view


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """How a long text reaches Slack: one or more messages, or (when it would take more than
    MAX_MESSAGES) a short message plus `snippet`, the full text to upload as a file."""

    messages: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    snippet: str | None = None
    filename: str = "text.md"


def _pack(sections: list[str], budget: int) -> list[list[dict[str, Any]]]:
    groups: list[list[dict[str, Any]]] = [[]]
    for text in sections:
        block = kit.section(text)
        candidate = [*groups[-1], block]
        if groups[-1] and (len(candidate) > MESSAGE_BLOCKS - 1 or blocks_chars(candidate) > budget):
            groups.append([block])
        else:
            groups[-1] = candidate
    return [g for g in groups if g]


def message_chunks(text: str, *, filename: str = "reply.md", max_messages: int = MAX_MESSAGES,
                   render: Callable[[str], str] = user_mrkdwn) -> Delivery:
    """A reply, note or package as Slack messages: sections of at most 3000 characters, packed
    into messages within the block and size limits; past `max_messages`, a snippet instead."""
    sections = fit_chunks(text, SECTION_TEXT, render)
    if not sections:
        return Delivery(filename=filename)
    budget = MESSAGE_BLOCKS_CHARS - 200  # room for the "part k of n" context
    groups = _pack(sections, budget)
    if len(groups) > max_messages:
        notice = w.SNIPPET_NOTICE.format(chars=f"{len(text):,}", filename=filename)
        return Delivery(messages=[(notice, [kit.section(notice)])], snippet=text, filename=filename)
    messages = []
    for k, group in enumerate(groups, start=1):
        fallback = shorten(" ".join(group[0]["text"]["text"].split()), FALLBACK_TEXT)
        if len(groups) > 1:
            group = [*group, kit.context(w.PART_OF.format(k=k, n=len(groups)))]
            fallback = f"{fallback} ({k}/{len(groups)})"
        check_blocks(group, surface="message")
        messages.append((fallback, group))
    return Delivery(messages=messages, filename=filename)
