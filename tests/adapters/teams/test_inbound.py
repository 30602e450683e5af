"""A Teams message as plain text (R38): the shapes Teams sends (its docs' samples: `<at>` mentions,
`<div>`/`<p>` markup, `&nbsp;`, entities, code blocks, links), plus properties: never a crash, HTML
of typed text decodes back to the typed text, and a `<` that opens no tag we know is kept."""

from __future__ import annotations

import html
import string
from collections.abc import Sequence
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from microsoft_agents.activity import Activity

from adapters.teams.activities import clean_text, load
from adapters.teams.inbound import plain_text
from tests.fakes.teams_messages import html_message, plain_message

FAST = settings(max_examples=300, deadline=None)
BOT = "28:bot-app-id"
typed_line = st.text(alphabet=string.ascii_letters + string.digits + " &<>\"'.,;:!?()[]{}$%*+=/\\-_#@~^|", max_size=40)


def activity(fields: dict[str, Any], mentions: Sequence[tuple[str, str]] = ()) -> Activity:
    return load({"type": "message", "id": "1", "serviceUrl": "http://127.0.0.1/", "channelId": "msteams",
                 "from": {"id": "29:eve", "name": "Eve"}, "recipient": {"id": BOT, "name": "ResolutionFlow"},
                 "conversation": {"id": "19:desk@thread.tacv2;messageid=1", "conversationType": "channel",
                                  "tenantId": "t"},
                 "entities": [{"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": who, "name": name}}
                              for who, name in mentions], **fields})


@FAST
@given(text=st.text())
@example("<")
@example("<at>")
@example("</pre><pre>")
@example("<a href='x'>")
@example("&#xffffffff; &nbsp")
def test_plain_text_never_raises(text: str) -> None:
    assert isinstance(plain_text(text), str)
    assert isinstance(plain_text(text, drop=[text[:3]], drop_leading_mention=True), str)


@FAST
@given(line=typed_line.filter(lambda s: s.strip() and "```" not in s))
@example("a < b && c > d")
@example("Get-Job | ? {$_.Id -gt 1} &nbsp;")
def test_html_of_typed_text_reads_as_typed(line: str) -> None:
    """What a person typed, as Teams' HTML carries it, comes back as typed (spaces collapsed)."""
    seen = " ".join(line.split())
    assert plain_text(f"<p>{html.escape(line, quote=False)}</p>") == seen
    assert plain_text(f"<div><div>{html.escape(line)}</div>\n</div>") == seen


def test_the_bot_mention_goes_and_other_mentions_read_as_names() -> None:
    mentions = [(BOT, "ResolutionFlow"), ("29:sam", "Sam Senior")]
    message = activity(plain_message("<at>ResolutionFlow</at> ask <at>Sam Senior</at> about it"), mentions)
    assert clean_text(message) == "ask Sam Senior about it"
    rich = activity(html_message("<p><at>ResolutionFlow</at>&nbsp;Printer &amp; scanner &lt;offline&gt; for "
                                 "<at>Sam Senior</at></p><p>second&nbsp;&nbsp;line</p>"), mentions)
    assert clean_text(rich) == "Printer & scanner <offline> for Sam Senior\nsecond line"


def test_markup_teams_sends_becomes_plain_text() -> None:
    cases = {
        "<div><div>Hello. Sending <strong>bold</strong>-<em>italic</em> rich text.</div>\n</div>":
            "Hello. Sending bold-italic rich text.",
        "line one<br>line two<br/>line three": "line one\nline two\nline three",
        '<p>see <a href="https://kb.example/1?a=1&amp;b=2">KB 1</a> or <a href="https://x.example">https://x.example</a>'
        ' or <a href="mailto:ops@acme.example">ops@acme.example</a></p>':
            "see KB 1 (https://kb.example/1?a=1&b=2) or https://x.example or ops@acme.example",
        "<ul><li>first</li><li>second</li></ul>": "- first\n- second",
        "<p>run <code>Get-Job &amp;&amp; exit</code></p>": "run `Get-Job && exit`",
        '<img alt="screenshot" src="https://x.example/1.png">': "screenshot",
        "a < b and x<y and z>w, AT&T <Enter>": "a < b and x<y and z>w, AT&T <Enter>",  # no tag we know: kept
    }
    for markup, seen in cases.items():
        assert plain_text(markup) == seen, markup


def test_code_blocks_keep_their_content_verbatim() -> None:
    markup = ('<pre class="language-powershell"><code>Get-Printer | ? {$_.Jobs -gt 0}\n'
              '    &amp;&amp; echo "&lt;done&gt;"\n\n# end</code></pre><p>after</p>')
    assert plain_text(markup) == (
        '```\nGet-Printer | ? {$_.Jobs -gt 0}\n    && echo "<done>"\n\n# end\n```\nafter')
    assert plain_text("<codeblock><code>a  b</code></codeblock>") == "```\na  b\n```"
