"""Markdown → the plain text a ConnectWise ticket note shows (R38).

ConnectWise displays a note's `text` as plain text with its line breaks, so `###` and `**` would
reach the customer raw. The note is parsed with markdown-it (CommonMark, plus tables) and written
back as text that reads well there: headings underlined on their own line, `- ` bullets, numbered
lists with their numbers, emphasis markers dropped, code kept verbatim and indented between blank
lines, links as `label (url)`. Rendering happens here, at the PSA's edge, because how a note is
best shown is the PSA's business (Halo, say, takes HTML) and core stays free of a parser.

Nothing the engineer wrote is lost: raw HTML, entities and unused link definitions stay literal,
and a backslash is kept as typed (Windows paths such as `\\\\fs01\\share` or `C:\\Temp\\*.log`),
except the one escape that keeps a line from opening a heading or a list (`\\# 5 left`).
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.tree import SyntaxTreeNode

BULLET = "- "
CODE_INDENT = "    "
QUOTE = "> "
RULE = "-" * 10
MAX_UNDERLINE = 72
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _backslash(state: StateInline, silent: bool) -> bool:
    """In place of CommonMark's escapes: a backslash before punctuation stays, and shields that
    character from markup; only at the start of a line does it escape (and vanish)."""
    pos = state.pos
    if state.src[pos] != "\\" or pos + 1 >= state.posMax or state.src[pos + 1] not in _PUNCTUATION:
        return False
    line_start = pos == 0 or state.src[pos - 1] == "\n"
    if not silent:
        state.pending += state.src[pos + 1] if line_start else state.src[pos : pos + 2]
    state.pos += 2
    return True


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table").disable(["entity", "reference"])
    md.inline.ruler.at("escape", _backslash)
    return md


_MD = _parser()


def note_text(markdown: str) -> str:
    """The note as ConnectWise should show it; never empty when `markdown` is not blank."""
    lines = _blocks(SyntaxTreeNode(_MD.parse(markdown)).children, tight=False)
    return _tidy(lines) or markdown.strip()


def text_words_source(markdown: str) -> str:
    """Everything a reader of the markdown would read (text, code, link targets), for tests and
    checks that want to compare what a note says before and after rendering."""
    parts: list[str] = []
    for node in SyntaxTreeNode(_MD.parse(markdown)).walk():
        if node.type in ("inline", "code_block", "fence"):
            parts.append(_leaves(node) if node.type == "inline" else node.content)
    return "\n".join(parts)


def _leaves(node: SyntaxTreeNode) -> str:
    """An inline run as read: its text pieces side by side (`0**0**` reads `00`), link targets after."""
    if node.type in ("softbreak", "hardbreak"):
        return "\n"
    if node.type in ("link", "image"):
        target = _MD.normalizeLinkText(str(node.attrs.get("href") or node.attrs.get("src") or ""))
        return f"{_leaves_of(node)} {target} "
    return _leaves_of(node) if node.children else node.content


def _leaves_of(node: SyntaxTreeNode) -> str:
    return "".join(_leaves(child) for child in node.children)


def _tidy(lines: list[str]) -> str:
    """Trailing spaces off, one blank line at most between blocks, none at either end."""
    out: list[str] = []
    for line in (raw.rstrip() for raw in lines):
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")


def _blocks(nodes: list[SyntaxTreeNode], *, tight: bool) -> list[str]:
    out: list[str] = []
    previous: SyntaxTreeNode | None = None
    for node in nodes:
        lines = _block(node)
        if not lines:
            continue
        if previous is not None and not _adjacent(previous, node, tight=tight):
            out.append("")
        out.extend(lines)
        previous = node
    return out


def _adjacent(before: SyntaxTreeNode, after: SyntaxTreeNode, *, tight: bool) -> bool:
    """Text and lists stay on adjacent lines where the writer put them so ("What was tried:" over
    its list, an item over its nested list); everything else gets a blank line around it."""
    flowing = ("paragraph", "bullet_list", "ordered_list")
    if before.type not in flowing or after.type not in flowing:
        return False
    return tight or (after.map is not None and _content_end(before) == after.map[0])


def _content_end(node: SyntaxTreeNode) -> int | None:
    """The line after a block's last written line (a list's own map runs on over blank lines)."""
    while node.type in ("bullet_list", "ordered_list", "list_item") and node.children:
        node = node.children[-1]
    if node.map is None:
        return None
    return node.map[0] + 1 if node.type == "list_item" else node.map[1]  # an empty item is its marker line


def _block(node: SyntaxTreeNode) -> list[str]:
    kind = node.type
    if kind == "paragraph":
        return _inline_of(node).split("\n")
    if kind == "heading":
        return _heading(node)
    if kind in ("bullet_list", "ordered_list"):
        return _list(node)
    if kind == "blockquote":
        return [QUOTE + line if line else QUOTE.rstrip() for line in _blocks(node.children, tight=False)]
    if kind in ("fence", "code_block"):
        body = node.content.rstrip("\n")
        return [CODE_INDENT + line if line.strip() else "" for line in body.split("\n")] if body.strip() else []
    if kind == "hr":
        return [RULE]
    if kind == "table":
        return [" | ".join(_inline_of(cell) for cell in row.children) for row in _table_rows(node)]
    if node.children:
        return _blocks(node.children, tight=False)
    return node.content.rstrip("\n").split("\n") if node.content.strip() else []


def _heading(node: SyntaxTreeNode) -> list[str]:
    """Underlined (setext style), so the text keeps its own case and reads as a heading as is."""
    text = " ".join(_inline_of(node).split())
    if not text:
        return []
    mark = "=" if node.tag == "h1" else "-"
    return [text, mark * max(3, min(len(text), MAX_UNDERLINE))]


def _list(node: SyntaxTreeNode) -> list[str]:
    # markdown-it hides the paragraphs of a tight list; a list of empty items is tight too
    tight = not any(child.type == "paragraph" and not child.hidden for item in node.children for child in item.children)
    out: list[str] = []
    for item in node.children:
        marker = f"{item.info}{item.markup} " if node.type == "ordered_list" else BULLET
        lines = _blocks(item.children, tight=tight) or [""]
        if out and not tight:
            out.append("")
        out.append(marker + lines[0])
        out.extend(" " * len(marker) + line if line else "" for line in lines[1:])
    return out


def _table_rows(node: SyntaxTreeNode) -> list[SyntaxTreeNode]:
    return [row for section in node.children for row in section.children if row.type == "tr"]


def _inline_of(node: SyntaxTreeNode) -> str:
    return "".join(_inline(child) for child in node.children)


def _inline(node: SyntaxTreeNode) -> str:
    kind = node.type
    if kind in ("text", "code_inline", "html_inline"):
        return node.content
    if kind in ("softbreak", "hardbreak"):
        return "\n"
    if kind == "link":
        return _link(_inline_of(node), _MD.normalizeLinkText(str(node.attrs.get("href", ""))), node.markup)
    if kind == "image":
        return _link(_inline_of(node), _MD.normalizeLinkText(str(node.attrs.get("src", ""))), "")
    if node.children:
        return _inline_of(node)
    return node.content


def _link(label: str, url: str, markup: str) -> str:
    if markup == "autolink" or not url or label in (url, url.removeprefix("mailto:")):
        return label or url
    return f"{label} ({url})" if label.strip() else url
