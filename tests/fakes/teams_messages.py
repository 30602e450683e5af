"""The text fields of a message activity as Teams delivers a person's message to a bot.

Teams' own samples (MicrosoftDocs/msteams-docs: bots/how-to/conversations/conversation-messages.md
"Receive a message", resources/bot-v3/bot-conversations/bots-conv-channel.md "Full inbound schema
example") show `textFormat: "plain"`, a `text` with each @mention as `<at>Name</at>` (and a
`mention` entity whose `text` is exactly that), and the rich version in an attachment of type
`text/html` (`<div>…</div>`, mentions as `<span itemtype="http://schema.skype.com/Mention">`).
A rich message arrives with `textFormat: "xml"` and HTML in `text` (`<p>`, `<br>`, `&nbsp;`,
entities): `html_message` builds that one."""

from __future__ import annotations

import html
import re
from typing import Any

_AT = re.compile(r"<at>(.*?)</at>", re.DOTALL)


def _html_of(text: str) -> str:
    """The `text/html` attachment Teams adds: the text escaped, mentions as Teams' mention spans."""
    parts: list[str] = []
    last = 0
    for n, match in enumerate(_AT.finditer(text)):
        parts.append(html.escape(text[last:match.start()], quote=False))
        parts.append(f'<span itemscope="" itemtype="http://schema.skype.com/Mention" itemid="{n}">'
                     f"{html.escape(match.group(1), quote=False)}</span>")
        last = match.end()
    parts.append(html.escape(text[last:], quote=False))
    return "<p>" + "".join(parts).replace("\n", "<br>") + "</p>"


def plain_message(text: str) -> dict[str, Any]:
    """`text` (mentions as `<at>Name</at>`) with its `textFormat` and the HTML attachment."""
    return {"text": text, "textFormat": "plain",
            "attachments": [{"contentType": "text/html", "content": _html_of(text)}]}


def html_message(markup: str) -> dict[str, Any]:
    """A rich message: `markup` is the HTML Teams puts in `text` (entities and all)."""
    return {"text": markup, "textFormat": "xml", "attachments": [{"contentType": "text/html", "content": markup}]}
