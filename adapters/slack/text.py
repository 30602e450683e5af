"""Text helpers for Slack mrkdwn: escaping user text, visible shortening, markdown → mrkdwn."""

from __future__ import annotations

import re

ELLIPSIS = "…"
_HEADING = re.compile(r"^[ ]{0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")


def escape(text: str) -> str:
    """Slack's three control characters, so user text like `<!channel>` or `<@U1>` cannot ping anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters; a cut is always marked with an ellipsis (never a silent cut)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit // 2:  # prefer a word boundary when it keeps most of the text
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def escape_within(text: str, room: int) -> str:
    """`text` escaped, shortened (visibly) so that the escaped form fits `room` characters."""
    shown = shorten(text, room)
    while len(escaped := escape(shown)) > room:
        limit = min(len(shown) - 1, max(1, len(shown) * room // len(escaped) - 1))  # always shorter, so it ends
        if limit < 1:
            return ELLIPSIS
        shown = shorten(text, limit)
    return escaped


def to_mrkdwn(markdown: str) -> str:
    """The two markdown habits of LLM output that mrkdwn shows wrongly: `# headings` and `**bold**`.
    Never makes the text longer, so a chunk that fits before still fits after."""
    return _BOLD.sub(r"*\1*", _HEADING.sub(r"*\1*", markdown))


def user_mrkdwn(text: str) -> str:
    """Markdown written by a person or the assistant, made safe and readable as mrkdwn."""
    return escape(to_mrkdwn(text))
