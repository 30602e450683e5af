"""A Teams message's text as plain text, decoded once at the edge (R38).

Teams sends `text` as a subset of HTML: with `textFormat` `xml` it is markup outright, and even as
`plain` it carries `<at>Name</at>` for each @mention, with `entities` of type `mention` naming who
(learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/channel-and-group-conversations
"Retrieve mentions"; bots/how-to/format-your-bot-messages: "Teams supports a subset of markdown and
xml or HTML formatting tags"; the Bot Framework activity spec's `textFormat`: markdown, plain, xml).
So: the bot's own mention goes (removed by the exact text of its entity), other mentions become the
name they show, paragraphs and `<br>` become line breaks, `<pre>`/`<codeblock>` a fenced block
whose content is kept verbatim, `<code>` backticks, links `label (url)`, entities (`&amp;`,
`&nbsp;`, …) characters. A `<` that opens no tag we know stays as written."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

FENCE = "```"
_BLOCK = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "table", "tr", "hr"})
_INLINE = frozenset({"at", "span", "b", "strong", "i", "em", "u", "s", "strike", "del", "ins", "sub", "sup", "font",
                     "small", "mark", "td", "th", "tbody", "thead", "emoji", "systemtag", "attachment"})
_PRE = frozenset({"pre", "codeblock"})
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")
_LEADING_AT = re.compile(r"^\s*<at[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)


def plain_text(text: str, *, drop: Iterable[str] = (), drop_leading_mention: bool = False) -> str:
    """`text` without the mention texts in `drop` (exactly as Teams put them in; or, when there are
    no entities to go by, a leading `<at>…</at>`), as plain text. Never raises."""
    for shown in drop:
        if shown:
            text = text.replace(shown, " ")
    if drop_leading_mention:
        text = _LEADING_AT.sub(" ", text, count=1)
    parser = _Text()
    parser.feed(text)
    parser.close()
    return _tidy("".join(parser.out))


class _Text(HTMLParser):
    """HTML to text, tag by tag; tags outside what Teams sends are kept as the characters typed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pre = 0
        self.links: list[tuple[int, str]] = []  # (where the label starts in `out`, href)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.out.append("\n")
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in _PRE:
            self.pre += 1
            if self.pre == 1:
                self.out.append(f"\n{FENCE}\n")
        elif tag == "code":
            if not self.pre:
                self.out.append("`")
        elif tag == "a":
            self.links.append((len(self.out), dict(attrs).get("href") or ""))
        elif tag == "img":
            self.out.append(dict(attrs).get("alt") or "")
        elif tag not in _INLINE:
            self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "hr") or tag in _BLOCK or tag in _INLINE:
            self.handle_starttag(tag, attrs)
        else:
            self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK or tag == "li":
            self.out.append("\n")
        elif tag in _PRE:
            if self.pre == 1:
                self.out.append(f"\n{FENCE}\n")
            self.pre = max(0, self.pre - 1)
        elif tag == "code":
            if not self.pre:
                self.out.append("`")
        elif tag == "a" and self.links:
            start, href = self.links.pop()
            label = "".join(self.out[start:]).strip()
            del self.out[start:]
            self.out.append(_link(label, href))
        elif tag not in _INLINE and tag not in ("br", "img"):
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)


def _link(label: str, href: str) -> str:
    if href.startswith("mailto:"):
        return label or href[len("mailto:"):]
    if not href or not label or label == href or label.rstrip("/") == re.sub(r"^https?://", "", href).rstrip("/"):
        return label or href
    return f"{label} ({href})"


def _tidy(text: str) -> str:
    """Spaces collapsed and blank lines dropped outside fenced blocks; inside them, kept as sent."""
    lines: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.strip() == FENCE:
            fenced = not fenced
            lines.append(FENCE)
        elif fenced:
            lines.append(line.replace("\u00a0", " ").rstrip())
        elif tidy := _SPACES.sub(" ", line).strip():
            lines.append(tidy)
    return "\n".join(lines).strip()
