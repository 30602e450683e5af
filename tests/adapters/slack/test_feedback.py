"""R37 in Slack, end to end over signed HTTP: "is thinking…" in the thread within a second of the
engineer's message, the reply streamed into the thread (chat.startStream / appendStream / stopStream
with the recipient ids), then the lane update; fallbacks when streaming fails or expires; a
cancelled turn. Times are the ones the fake Slack recorded."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from adapters.slack import labels as w
from adapters.slack.text import escape
from core.events import TurnAnswered
from core.notify import QuietNotifier, dispatch
from tests.adapters.slack.conftest import Bot
from tests.e2e.slack.conftest import CHANNEL
from tests.fakes.slack_api import SlackCall

REPLY = "First check the spooler service & the queue. Then restart it and print a test page from the server."


def calls_in(bot: Bot, *methods: str, after: float = 0.0) -> list[SlackCall]:
    return [c for c in bot.slack.all_calls if c.method in methods and c.at >= after]


def index_of(bot: Bot, call: SlackCall) -> int:
    return next(i for i, c in enumerate(bot.slack.all_calls) if c is call)


async def started(bot: Bot, problem: str = "Printer offline for 3 users") -> str:
    bot.say("Which printer model?")
    root = await bot.mention("UDANA", problem)
    await bot.settle()
    await bot.load_lane_ref(1)
    return root


def reply_messages(bot: Bot, root: str, needle: str) -> list[dict[str, Any]]:
    return [m for m in bot.slack.thread(CHANNEL, root) if needle in str(m.get("text")) + str(m.get("blocks"))]


async def test_the_thread_shows_thinking_within_a_second_and_the_reply_clears_it(feedback_bot: Bot) -> None:
    bot = feedback_bot
    root = await started(bot)
    bot.say(REPLY)
    sent_at = time.monotonic()
    await bot.reply("UDANA", "It is the HP in room 4", root)
    await bot.settle()
    shown = [c for c in bot.slack.statuses(CHANNEL, root) if c.at >= sent_at]
    assert shown and shown[0].status == w.THINKING and shown[0].cause == "assistant.threads.setStatus"
    assert shown[0].at - sent_at < 1.0, shown[0].at - sent_at
    assert shown[-1].status == "" and bot.slack.status(CHANNEL, root) == ""  # the reply cleared it


async def test_a_new_session_keeps_thinking_after_its_lane_and_note_are_posted(feedback_bot: Bot) -> None:
    """Slack clears the status on every post; the lane and the "session started" note are not the
    reply, so the status goes back up until the reply comes."""
    bot = feedback_bot
    bot.assistant.step_delay = 0.5  # type: ignore[union-attr]
    sent_at = time.monotonic()
    root = await bot.mention("UDANA", "Printer offline for 3 users")
    await bot.settle()
    changes = [(c.status, c.cause) for c in bot.slack.statuses(CHANNEL, root)]
    assert changes[0] == (w.THINKING, "assistant.threads.setStatus"), changes
    assert bot.slack.statuses(CHANNEL, root)[0].at - sent_at < 1.0
    started_note = next(i for i, c in enumerate(changes) if c == ("", "chat.postMessage"))
    assert (w.THINKING, "assistant.threads.setStatus") in changes[started_note:], changes
    assert changes[-1][0] == "" and bot.slack.status(CHANNEL, root) == ""


async def test_the_reply_streams_to_the_engineer_then_the_lane_follows(feedback_bot: Bot) -> None:
    bot = feedback_bot
    root = await started(bot)
    bot.say(REPLY, questions=("Is the spooler running?",))
    mark = time.monotonic()
    await bot.reply("UDANA", "It is the HP in room 4", root)
    await bot.settle()
    start = calls_in(bot, "chat.startStream", after=mark)
    appends = calls_in(bot, "chat.appendStream", after=mark)
    stops = calls_in(bot, "chat.stopStream", after=mark)
    assert len(start) == 1 and start[0].ok and len(stops) == 1 and stops[0].ok
    args = start[0].args
    assert (args["channel"], args["thread_ts"], args["recipient_team_id"], args["recipient_user_id"]) == (
        CHANNEL, root, "T1", "UDANA")
    assert appends and all(a.ok for a in appends)
    ts = start[0].response["ts"]
    streamed = args.get("markdown_text", "") + "".join(a.args["markdown_text"] for a in appends) \
        + stops[0].args.get("markdown_text", "")
    assert streamed == escape(REPLY)  # only the new part each time, escaped once (R38)
    assert bot.slack.message(CHANNEL, ts)["text"] == escape(REPLY)  # type: ignore[index]
    assert len(reply_messages(bot, root, "print a test page")) == 1  # one visible reply, not a second post
    lane_updates = [c for c in calls_in(bot, "chat.update", after=mark) if c.args["ts"] == bot.lane_ref(1)["ts"]]
    assert lane_updates and index_of(bot, lane_updates[-1]) > index_of(bot, stops[0])
    assert "Is the spooler running?" in str(bot.lane_blocks(1))
    appended_at = [a.at for a in appends]
    assert all(b - a >= 0.9 for a, b in zip(appended_at, appended_at[1:]))  # about one append a second


async def test_a_stream_that_cannot_start_falls_back_to_a_post(feedback_bot: Bot) -> None:
    bot = feedback_bot
    root = await started(bot)
    bot.say(REPLY)
    bot.slack.fail_next("chat.startStream", "channel_type_not_supported")
    mark = time.monotonic()
    await bot.reply("UDANA", "It is the HP in room 4", root)
    await bot.settle()
    assert [c.error for c in calls_in(bot, "chat.startStream", after=mark)] == ["channel_type_not_supported"]
    assert calls_in(bot, "chat.appendStream", "chat.stopStream", after=mark) == []
    posts = [c for c in calls_in(bot, "chat.postMessage", after=mark) if "print a test page" in str(c.args)]
    assert len(posts) == 1 and posts[0].ok and posts[0].args["thread_ts"] == root
    assert len(reply_messages(bot, root, "print a test page")) == 1


async def test_an_expired_stream_is_rewritten_in_place_not_posted_twice(feedback_bot: Bot) -> None:
    bot = feedback_bot
    root = await started(bot)
    bot.slack.stream_ttl = 0.5  # Slack ends streams by itself; here before the second append
    bot.say(REPLY)
    mark = time.monotonic()
    await bot.reply("UDANA", "It is the HP in room 4", root)
    await bot.settle()
    start = calls_in(bot, "chat.startStream", after=mark)
    assert len(start) == 1 and start[0].ok
    ts = start[0].response["ts"]
    refused = [c for c in calls_in(bot, "chat.appendStream", "chat.stopStream", after=mark) if not c.ok]
    assert refused and all(c.error == "message_not_in_streaming_state" for c in refused)
    rewrites = [c for c in calls_in(bot, "chat.update", after=mark) if c.args["ts"] == ts]
    assert len(rewrites) == 1 and rewrites[0].ok
    message = bot.slack.message(CHANNEL, ts)
    assert message is not None and "print a test page from the server" in str(message["blocks"])
    assert not any("print a test page" in str(c.args) for c in calls_in(bot, "chat.postMessage", after=mark))
    assert len(reply_messages(bot, root, "print a test page")) == 1


async def test_a_cancelled_turn_clears_the_status_and_says_it_stopped(feedback_bot: Bot) -> None:
    bot = feedback_bot
    root = await started(bot)
    bot.assistant.step_delay = 0.6  # type: ignore[union-attr]
    bot.say(REPLY)
    mark = time.monotonic()
    await bot.reply("UDANA", "It is the HP in room 4", root)
    for _ in range(100):  # until the reply is streaming
        if calls_in(bot, "chat.startStream", after=mark):
            break
        await asyncio.sleep(0.05)
    assert await bot.app.engine.turns.cancel(account_id=1, session_id=1)
    await bot.settle()
    ts = calls_in(bot, "chat.startStream", after=mark)[0].response["ts"]
    message = bot.slack.message(CHANNEL, ts)
    assert message is not None and "Stopped" in str(message.get("blocks"))  # the partial reply is replaced
    assert not reply_messages(bot, root, "print a test page from the server")  # no late reply
    clears = [c for c in calls_in(bot, "assistant.threads.setStatus", after=mark) if c.args["status"] == ""]
    assert clears and bot.slack.status(CHANNEL, root) == ""
    await asyncio.sleep(1.0)
    assert not reply_messages(bot, root, "print a test page from the server")



class HeardAnswers(QuietNotifier):
    def __init__(self) -> None:
        self.events: list[TurnAnswered] = []

    async def turn_answered(self, event: TurnAnswered) -> None:
        self.events.append(event)


async def test_a_reply_shown_before_its_worker_died_is_not_posted_again_by_the_taker(feedback_bot: Bot) -> None:
    """The worker that takes over a dead worker's turns delivers its stored reply with `redelivery`;
    Slack recorded the first delivery, so the thread shows the reply once."""
    bot = feedback_bot
    root = await started(bot)
    heard = HeardAnswers()
    deps = bot.app.engine.deps
    deps.notifiers.add(heard)
    bot.say(REPLY)
    await bot.reply("UDANA", "It is the HP in room 4", root)
    await bot.settle()
    assert len(reply_messages(bot, root, "spooler service")) == 1
    [shown] = heard.events
    again = replace(shown, redelivery=True)
    await dispatch(deps, [again])
    await bot.settle()
    assert len(reply_messages(bot, root, "spooler service")) == 1
    # A stored reply nobody showed yet is posted (the check can fail).
    await dispatch(deps, [replace(again, reply="Never shown: check the toner", reply_id=shown.reply_id + 1000)])
    await bot.settle()
    assert len(reply_messages(bot, root, "Never shown")) == 1
