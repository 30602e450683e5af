"""R37 in Teams, over the wire: typing at once after the engineer's message, the reply streamed into
a personal chat (informative update, streaming updates, final message: one stream, one visible
reply), a channel's reply in one message, and a refused or broken stream falling back to one
message."""

from __future__ import annotations

from dataclasses import replace

from adapters.teams import replies as r
from core.events import TurnAnswered
from core.notify import QuietNotifier, dispatch
from tests.adapters.teams.live_bot import CHAT, LiveBot, live  # noqa: F401  (the fixture)
from tests.fakes.bot_connector import Posted

PROBLEM = "Printer offline for three users"
FIRST = "Is it every printer on the floor or only the one by the window?"
SECOND = "Then restart the print spooler on the server and send a test page from one laptop."


def stream_requests(posted: list[Posted]) -> list[Posted]:
    return [p for p in posted if p.stream_info is not None]


def messages(posted: list[Posted]) -> list[Posted]:
    return [p for p in posted if p.type == "message"]


def the_reply_messages(live: LiveBot, text: str) -> list[str]:
    """Visible messages in the chat that hold (part of) `text`, by id."""
    return [s.activity_id for s in live.connector.sent
            if s.conversation_id == CHAT and (s.activity.get("text") or "")[:20] == text[:20]]


async def start_chat_session(live: LiveBot) -> None:
    """The session's first message: typing at once, then the reply streamed below the lane card."""
    live.reply(FIRST)
    asked = await live.say(live.personal(), PROBLEM)
    await live.until(lambda: any(p.type == "message" and p.text == FIRST for p in live.connector.posted(CHAT)),
                     "the first reply")
    await live.settle()
    posted = live.since(CHAT, asked)
    first_text = next(p for p in posted if p.text.startswith(FIRST[:5]))
    typing = [p for p in posted if p.type == "typing" and p.stream_info is None]
    assert typing and typing[0].at < first_text.at  # typing at once, before any of the reply
    assert not [p for p in typing if p.at > first_text.at]  # and not while the reply streams
    requests = stream_requests(posted)
    assert requests[0].stream_info == {"type": "streaminfo", "streamType": "streaming", "streamSequence": 1}
    assert requests[-1].stream_info is not None and requests[-1].stream_info["streamType"] == "final"
    assert live.connector.protocol_errors == []


async def test_a_personal_chat_streams_the_reply_informative_then_streaming_then_final(live: LiveBot) -> None:
    await start_chat_session(live)
    live.reply(SECOND)
    asked = await live.say(live.personal(), "Every printer, and the queue shows jobs stuck")
    await live.until(lambda: any(p.type == "message" and p.text == SECOND for p in live.since(CHAT, asked)),
                     "the streamed reply")
    await live.settle()

    posted = live.since(CHAT, asked)
    requests = stream_requests(posted)
    # Typing at once: the informative update is the first thing the chat gets after the message.
    assert posted[0] is requests[0] and posted[0].type == "typing"
    assert requests[0].text == r.THINKING
    assert requests[0].stream_info == {"type": "streaminfo", "streamType": "informative", "streamSequence": 1}
    stream_id = requests[0].activity_id
    assert stream_id and requests[0].status == 201

    updates, final = requests[1:-1], requests[-1]
    assert len(updates) >= 2, [u.text for u in updates]  # the reply grew in front of the engineer
    for before, after in zip([requests[0], *updates], updates):
        assert after.type == "typing" and after.stream_info is not None
        assert after.stream_info["streamType"] == "streaming" and after.stream_info["streamId"] == stream_id
        assert after.stream_info["streamSequence"] == before.stream_info["streamSequence"] + 1  # type: ignore[index]
    texts = [u.text for u in updates]
    assert all(b.startswith(a) and b != a for a, b in zip(texts, texts[1:]))  # cumulative, each adds text
    assert texts[-1] == SECOND or SECOND.startswith(texts[-1])

    assert final.type == "message" and final.text == SECOND and final.status == 202
    assert final.stream_info == {"type": "streaminfo", "streamType": "final", "streamId": stream_id}
    assert final.activity.get("id") == stream_id
    assert all(p.at <= final.at for p in posted if p.stream_info is not None)
    assert not [p for p in posted if p.type == "typing" and p.at > final.at]  # no typing after the reply

    # One visible reply: the streamed message, holding the final text; no second copy.
    assert the_reply_messages(live, SECOND) == [stream_id]
    assert [m.activity_id for m in messages(posted) if m.text == SECOND] == [stream_id]
    assert live.connector.streams[stream_id].final
    assert live.connector.protocol_errors == []


async def test_a_channel_gets_typing_then_the_whole_reply_in_one_message(live: LiveBot) -> None:
    live.reply(FIRST)
    chain = await live.mention(PROBLEM)
    await live.until(lambda: any(p.type == "message" and p.text == FIRST for p in live.connector.posted(chain)),
                     "the channel reply")
    await live.settle()
    posted = live.connector.posted(chain)
    replies = [p for p in messages(posted) if p.text == FIRST]
    assert len(replies) == 1 and replies[0].stream_info is None
    typing = [p for p in posted if p.type == "typing"]
    assert typing and typing[0].at < replies[0].at and typing[0].stream_info is None
    assert not [p for p in typing if p.at > replies[0].at]
    assert stream_requests(posted) == []  # channels never stream
    assert not any(p.text.startswith(FIRST[:5]) and p.text != FIRST for p in posted)  # no partial reply

    # A later turn in the chain: typing again, then the whole reply.
    live.reply(SECOND)
    asked = await live.say({"id": chain, "isGroup": True, "conversationType": "channel", "tenantId": live.personal()["tenantId"]},
                           "It is every printer")
    await live.until(lambda: any(p.text == SECOND for p in live.since(chain, asked)), "the second channel reply")
    await live.settle()
    later = live.since(chain, asked)
    assert later[0].type == "typing" and [p.text for p in messages(later)].count(SECOND) == 1
    assert live.connector.protocol_errors == []


async def test_a_refused_stream_falls_back_to_typing_and_one_message(live: LiveBot) -> None:
    await start_chat_session(live)
    live.connector.fail_streams()  # 403 ContentStreamNotAllowed: streaming is not allowed for this bot
    live.reply(SECOND)
    asked = await live.say(live.personal(), "Every printer")
    await live.until(lambda: any(p.type == "message" and p.text == SECOND for p in live.since(CHAT, asked)),
                     "the fallback reply")
    await live.settle()
    posted = live.since(CHAT, asked)
    refused = stream_requests(posted)
    assert len(refused) == 1 and refused[0].status == 403 and refused[0].stream_info is not None
    assert refused[0].stream_info["streamType"] == "informative"  # tried once, then no more stream requests
    typing = [p for p in posted if p.type == "typing" and p.stream_info is None]
    [reply] = [m for m in messages(posted) if m.text.startswith(SECOND[:5])]
    assert typing and typing[0].at < reply.at  # the engineer still saw that the assistant was working
    assert reply.text == SECOND and reply.stream_info is None and reply.status == 201
    assert len(the_reply_messages(live, SECOND)) == 1


async def test_a_stream_that_breaks_midway_ends_as_one_whole_reply(live: LiveBot) -> None:
    await start_chat_session(live)
    live.connector.fail_streams(after=2)  # the informative update and one chunk go through, then 403
    live.reply(SECOND)
    asked = await live.say(live.personal(), "Every printer")
    await live.settle()
    await live.until(lambda: bool(live.connector.updated), "the streamed message edited to the whole reply")
    requests = stream_requests(live.since(CHAT, asked))
    stream_id = requests[0].activity_id
    assert [p.status for p in requests][:2] == [201, 202] and all(p.status == 403 for p in requests[2:])
    assert stream_id is not None
    # Teams shows the part that was streamed; it becomes the whole reply in place, not a second message.
    assert the_reply_messages(live, SECOND) == [stream_id]
    [edit] = [u for u in live.connector.updated if u.activity_id == stream_id]
    assert edit.activity["text"] == SECOND
    assert not [m for m in messages(live.since(CHAT, asked)) if m.text == SECOND]


async def test_a_cancelled_turn_ends_its_stream_saying_it_was_stopped(live: LiveBot) -> None:
    await start_chat_session(live)
    live.assistant.step_delay = 1.0  # slow enough to stop it midway
    live.reply(SECOND)
    asked = await live.say(live.personal(), "Every printer")
    await live.until(lambda: any(p.stream_info and p.stream_info.get("streamType") == "streaming"
                                 for p in live.since(CHAT, asked)), "the first streamed text")
    actor = await live.actor()
    assert await live.app.engine.turns.cancel(account_id=actor.account_id, session_id=1)
    await live.until(lambda: any(p.type == "message" for p in live.since(CHAT, asked)), "the stopped stream")
    await live.settle()
    posted = live.since(CHAT, asked)
    [final] = messages(posted)
    assert final.stream_info is not None and final.stream_info["streamType"] == "final"
    assert final.text.endswith(r.TURN_STOPPED) and final.text != SECOND
    assert final.activity_id == stream_requests(posted)[0].activity_id
    assert live.connector.protocol_errors == []



class HeardAnswers(QuietNotifier):
    def __init__(self) -> None:
        self.events: list[TurnAnswered] = []

    async def turn_answered(self, event: TurnAnswered) -> None:
        self.events.append(event)


async def test_a_reply_shown_before_its_worker_died_is_not_posted_again_by_the_taker(live: LiveBot) -> None:
    heard = HeardAnswers()
    deps = live.app.engine.deps
    deps.notifiers.add(heard)
    await start_chat_session(live)
    [shown] = heard.events
    assert len(the_reply_messages(live, FIRST)) == 1
    await dispatch(deps, [replace(shown, redelivery=True)])
    await live.settle()
    assert len(the_reply_messages(live, FIRST)) == 1
    await dispatch(deps, [replace(shown, redelivery=True, reply=SECOND, reply_id=shown.reply_id + 1000)])
    await live.settle()
    assert len(the_reply_messages(live, SECOND)) == 1  # one nobody showed is posted
