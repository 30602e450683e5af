"""Decoding Slack's inbound text once (R38): property tests (never a crash; typed text survives
Slack's encoding exactly; references read as names; decode then escape is Slack's wire form for
typed text) plus the shapes Slack actually sends. The wire text is built with the fake Slack's
`wire` tokens, the same ones the end-to-end tests send."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.slack.inbound import Names, decode, escape, referenced, unescape
from adapters.slack.text import escape as outbound_escape
from tests.fakes.slack_requests import channel_ref, encode, link, special, user_ref, wire

FAST = settings(max_examples=400, deadline=None)
user_ids = st.from_regex(r"U[A-Z0-9]{2,10}", fullmatch=True)
channel_ids = st.from_regex(r"C[A-Z0-9]{2,10}", fullmatch=True)
names = st.text(alphabet=st.characters(blacklist_characters="<>|&@#"), min_size=1, max_size=20).filter(
    lambda s: s.strip() and s.isprintable())


@FAST
@given(text=st.text())
@example("<")
@example("<<@U1>>")
@example("&amp")
@example("<|>")
@example("<!subteam^>")
@example("```<@U1> ``` `")
def test_decode_never_raises(text: str) -> None:
    assert isinstance(decode(text), str)
    assert isinstance(decode(text, Names(users={"U1": "Sam"}, channels={"C1": "x"})), str)


@FAST
@given(typed=st.text())
@example("a < b && c > d")
@example("&lt; typed literally, and &amp;amp;")
@example("```if a < b: print('<@U1>')```")
@example("<!channel> <@U123> <https://x|y>")
def test_typed_text_survives_slacks_encoding(typed: str) -> None:
    assert decode(encode(typed)) == typed
    assert decode(escape(typed)) == typed
    assert unescape(escape(typed)) == typed


@FAST
@given(typed=st.text())
def test_decoded_text_escapes_back_to_the_wire_once(typed: str) -> None:
    """Outbound escaping of decoded text is exactly Slack's encoding: never `&amp;lt;` for a `<`."""
    assert outbound_escape(decode(encode(typed))) == encode(typed)


@FAST
@given(before=st.text(), uid=user_ids, name=names, after=st.text())
def test_a_mention_reads_as_the_name_the_team_knows(before: str, uid: str, name: str, after: str) -> None:
    text = wire(before, user_ref(uid), after)
    assert referenced(text)[0] == {uid}
    assert decode(text, Names(users={uid: name})) == f"{before}@{name}{after}"
    assert decode(text) == f"{before}@{uid}{after}"  # nobody to ask: the raw id, readable


@FAST
@given(cid=channel_ids, name=names)
def test_a_channel_reads_as_its_name(cid: str, name: str) -> None:
    assert decode(wire("in ", channel_ref(cid, name))) == f"in #{name}"
    assert referenced(wire(channel_ref(cid, name))) == (set(), set())  # labelled: nothing to look up
    assert referenced(wire(channel_ref(cid))) == (set(), {cid})
    assert decode(wire(channel_ref(cid)), Names(channels={cid: name})) == f"#{name}"
    assert decode(wire(channel_ref(cid))) == f"#{cid}"


def test_the_shapes_slack_sends() -> None:
    sam = Names(users={"USAM": "Sam"})
    cases = {
        wire("a ", user_ref("UVIC", "vic"), " b"): "a @vic b",  # slash commands: the label when nobody is known
        wire(user_ref("USAM", "sam.s")): "@Sam",  # the name we know wins over the username
        wire("see ", link("https://kb.example/a?x=1&y=2", "KB <12>")): "see KB <12> (https://kb.example/a?x=1&y=2)",
        wire(link("https://kb.example/a?x=1&y=2")): "https://kb.example/a?x=1&y=2",
        wire(link("http://example.com", "example.com")): "example.com",  # a typed bare address
        wire(link("mailto:ops@acme.example", "ops@acme.example")): "ops@acme.example",
        wire(link("tel:+15550100", "+1 555 0100")): "+1 555 0100",
        wire(special("here"), " ", special("channel"), " ", special("everyone")): "@here @channel @everyone",
        wire(special("subteam^S0614TZR7", "@oncall")): "@oncall",
        wire(special("subteam^S0614TZR7")): "@S0614TZR7",
        wire(special("date^1392734382^{date_pretty}", "Feb 18, 2014")): "Feb 18, 2014",
        "<#C1|>": "#C1",  # Slack's empty label
        "&amp;lt;": "&lt;",  # the person typed an entity: one pass only
    }
    for text, seen in cases.items():
        assert decode(text, sam) == seen, text


def test_code_keeps_its_content_entity_decoded() -> None:
    text = wire("run ", "```Get-Job | ? {$_.State -ne 'Done'} && echo <ok> & exit```", " then ",
                "`a<b`", " and ", link("https://x.example/q?a=1&b=2", "the doc"))
    assert decode(text) == ("run ```Get-Job | ? {$_.State -ne 'Done'} && echo <ok> & exit``` then `a<b` and "
                            "the doc (https://x.example/q?a=1&b=2)")
    # A link inside code shows as what was typed there, never as `label (url)`.
    assert decode("`<https://x.example|x.example/p>`") == "`x.example/p`"
    assert decode("```\nping <https://x.example>\n```") == "```\nping https://x.example\n```"

