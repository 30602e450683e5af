"""Slack's inbound text, decoded exactly once at the edge (R38): what the engine stores is what the
engineer typed and saw, never Slack's wire syntax.

Slack sends message, app_mention and slash-command `text` with its three control characters as
entities (`&amp;` `&lt;` `&gt;`: "All text in Slack uses the same system of escaping",
api.slack.com/docs/message-formatting, and docs.slack.dev "Formatting message text" → Escaping
text) and references as angle syntax: `<@U123>` / `<@U123|name>`, `<#C123|name>`, `<!here>`,
`<!subteam^S123|@team>`, `<https://x|label>`, `<mailto:a@b|a@b>`. A literal `<` therefore never
arrives raw: every `<…>` is syntax, which is what makes one pass exact. Modal values
(`plain_text_input` in view_submission) arrive as typed and are not decoded here.

`decode` is pure; the names it needs (users, channels without a label) come in a `Names` the caller
fills beforehand (adapters/slack/names.py asks the members we know, then the Web API)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_ENTITY = re.compile(r"&(amp|lt|gt);")
_CHARS = {"amp": "&", "lt": "<", "gt": ">"}
_REF = re.compile(r"<([^<>]*)>")
# ```fenced``` first (across lines), then `inline` code within one line.
_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)
_USER = re.compile(r"^@([UW][A-Z0-9]+)(?:\|(.*))?$", re.DOTALL)
_CHANNEL = re.compile(r"^#([CGD][A-Z0-9]+)(?:\|(.*))?$", re.DOTALL)
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone", "group": "@channel"}


@dataclass(frozen=True)
class Names:
    """Display names for the ids a text refers to; anything missing falls back to the raw id."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)


NO_NAMES = Names()


def unescape(text: str) -> str:
    """Slack's three entities back to characters, in one pass (`&amp;lt;` is the typed `&lt;`)."""
    return _ENTITY.sub(lambda m: _CHARS[m.group(1)], text)


def escape(text: str) -> str:
    """What Slack does to typed text: the three control characters as entities (decode's inverse)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def referenced(text: str) -> tuple[set[str], set[str]]:
    """The user ids and the unlabelled channel ids a wire text mentions: what a resolver looks up."""
    users: set[str] = set()
    channels: set[str] = set()
    for match in _REF.finditer(text):
        inner = match.group(1)
        if (user := _USER.match(inner)) is not None:
            users.add(user.group(1))
        elif (channel := _CHANNEL.match(inner)) is not None and not channel.group(2):
            channels.add(channel.group(1))
    return users, channels


def decode(text: str, names: Names = NO_NAMES) -> str:
    """Wire text → the text as the person saw it. Code spans keep their content (Slack encodes
    inside them too, so they are entity-decoded; a link there shows as the text typed, never as
    `label (url)`). Never raises: an unmatched `<` or `&` is kept as it came."""
    out: list[str] = []
    last = 0
    for match in _CODE.finditer(text):
        out.append(_decode_prose(text[last:match.start()], names, in_code=False))
        out.append(_decode_prose(match.group(0), names, in_code=True))
        last = match.end()
    out.append(_decode_prose(text[last:], names, in_code=False))
    return "".join(out)


def _decode_prose(text: str, names: Names, *, in_code: bool) -> str:
    out: list[str] = []
    last = 0
    for match in _REF.finditer(text):
        out.append(unescape(text[last:match.start()]))
        out.append(_reference(match.group(1), names, in_code=in_code))
        last = match.end()
    out.append(unescape(text[last:]))
    return "".join(out)


def _reference(inner: str, names: Names, *, in_code: bool) -> str:
    """One `<…>` as it reads in Slack."""
    if (user := _USER.match(inner)) is not None:
        uid, label = user.group(1), unescape(user.group(2) or "")
        name = names.users.get(uid) or label.lstrip("@") or uid
        return f"@{name}"
    if (channel := _CHANNEL.match(inner)) is not None:
        cid, label = channel.group(1), unescape(channel.group(2) or "")
        return f"#{(label or names.channels.get(cid) or cid).lstrip('#')}"
    target, _, label = inner.partition("|")
    target, label = unescape(target), unescape(label)
    if target.startswith("!"):
        return _special(target[1:], label)
    if target.startswith(("mailto:", "tel:")):
        return label or target.partition(":")[2]
    if not label or label == target or in_code:
        return label or target
    if _same_place(label, target):
        return label  # Slack's own link of a typed bare address: `<http://example.com|example.com>`
    return f"{label} ({target})"


def _special(command: str, label: str) -> str:
    """`<!here>`, `<!subteam^S1|@team>`, `<!date^…|fallback>` and other `<!…>` commands."""
    head = command.split("^", 1)[0]
    if head in _SPECIAL:
        return _SPECIAL[head]
    if head == "subteam":
        return "@" + (label.lstrip("@") or command.split("^", 1)[-1])
    return label or f"@{head}"


def _same_place(label: str, target: str) -> bool:
    bare = re.sub(r"^[a-z][a-z0-9+.-]*://", "", target, flags=re.IGNORECASE).rstrip("/")
    return label.rstrip("/") == bare
