"""Reading inbound Teams activities: the bot's @mention is taken out and nothing else is lost, commands
have strict shapes (a turn that merely starts with a command word stays a turn), and a Teams thread
ref always leads back to its conversation's key, whatever the length of the conversation id."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.teams.activities import (
    Command,
    bot_mentioned,
    clean_text,
    conversation_key,
    conversation_key_of_thread,
    load,
    parse_command,
    thread_ref,
)

BOT = "28:bot-app-id"
MENTION = "<at>ResolutionFlow</at>"
words = st.text(alphabet=string.ascii_letters + string.digits + ".,:;!?'-/#()", min_size=1, max_size=12)
sentences = st.lists(words, min_size=1, max_size=8).map(" ".join)


def message(text: str, *, entities: list[dict[str, Any]] | None = None) -> Any:
    return load({"type": "message", "id": "1", "serviceUrl": "http://127.0.0.1/", "channelId": "msteams",
                 "text": text, "from": {"id": "29:eve", "name": "Eve"}, "recipient": {"id": BOT, "name": "RF"},
                 "conversation": {"id": "19:desk@thread.tacv2;messageid=1", "conversationType": "channel",
                                  "tenantId": "t"}, "entities": entities or []})


def bot_mention(shown: str = MENTION, who: str = BOT) -> dict[str, Any]:
    return {"type": "mention", "text": shown, "mentioned": {"id": who, "name": "ResolutionFlow"}}


@given(body=sentences)
def test_the_bot_mention_is_stripped_and_the_rest_kept(body: str) -> None:
    activity = message(f"{MENTION} {body}", entities=[bot_mention()])
    assert bot_mentioned(activity)
    assert clean_text(activity) == body


@given(body=sentences)
def test_another_persons_mention_keeps_their_name(body: str) -> None:
    activity = message(f"{MENTION} ask <at>Sam Senior</at> {body}",
                       entities=[bot_mention(), bot_mention("<at>Sam Senior</at>", "29:sam")])
    assert clean_text(activity) == f"ask Sam Senior {body}"


def test_without_entities_a_leading_mention_is_the_bots_and_html_is_unescaped() -> None:
    activity = message("<at>ResolutionFlow</at> printer &amp; scanner<br>offline")
    assert not bot_mentioned(activity)
    assert clean_text(activity) == "printer & scanner\noffline"


def test_commands_have_strict_shapes() -> None:
    assert parse_command("help") == Command(name="help")
    assert parse_command("Queue") == Command(name="queue")
    assert parse_command("stats") == Command(name="stats")
    assert parse_command("stats 30D") == Command(name="stats", args="30d")
    assert parse_command("escalations  here") == Command(name="escalations_here")
    assert parse_command("connect abcd-efgh") == Command(name="connect", args="abcd-efgh")
    assert parse_command("new printer offline") == Command(name="new", args="printer offline")
    assert parse_command("Settings") == Command(name="settings")
    for turn in ("help me with the VPN", "queue is stuck in the print spooler", "stats look odd",
                 "escalations are slow", "connect the printer to wifi", "printer offline", "settings of outlook", ""):
        assert parse_command(turn) is None, turn


@given(text=st.text(max_size=80))
def test_parsing_never_raises(text: str) -> None:
    command = parse_command(text)
    assert command is None or command.name in {"help", "queue", "stats", "escalations_here", "connect", "new", "settings"}


@given(tenant=st.uuids().map(str), conversation=st.text(min_size=1, max_size=400).filter(lambda s: s.strip()))
def test_a_thread_ref_leads_back_to_its_conversation(tenant: str, conversation: str) -> None:
    ref = thread_ref(tenant, conversation)
    assert ref.startswith(f"teams:{tenant}:") and len(ref) <= 255
    assert conversation_key_of_thread(ref) == conversation_key(conversation)
    assert len(conversation_key(conversation)) <= 255


def test_other_platforms_threads_have_no_teams_conversation() -> None:
    assert conversation_key_of_thread("slack:T1:C1:1700000000.000100") is None
    assert conversation_key_of_thread(None) is None
