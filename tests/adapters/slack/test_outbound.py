"""Outbound delivery in Slack, end to end over signed HTTP (issue 10 §2): a rate-limited channel
delays only itself; the newest lane render wins across a 429; a reply is retried until delivered,
or reported as undeliverable to its author, never dropped. Times are the fake Slack's."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from adapters.slack import labels as w
from tests.adapters.slack.conftest import OTHER_CHANNEL, Bot, UnstreamedAssistant
from tests.e2e.slack.conftest import CHANNEL
from tests.fakes.slack_api import SlackCall


def reply_posts(bot: Bot, channel: str, needle: str, after: float) -> list[SlackCall]:
    return [c for c in bot.slack.all_calls if c.method == "chat.postMessage" and c.at >= after
            and c.args.get("channel") == channel and needle in str(c.args.get("text"))]


async def started(bot: Bot, channel: str = CHANNEL, problem: str = "Printer offline") -> str:
    bot.say("Which printer model?", questions=("Which printer model?",))
    root = await bot.mention("UDANA", problem, channel=channel)
    await bot.settle()
    return root


async def test_a_429_on_one_channel_does_not_delay_another(plain_bot: Bot) -> None:
    bot = plain_bot
    root_a = await started(bot, CHANNEL, "Printer offline")
    root_b = await started(bot, OTHER_CHANNEL, "VPN drops")
    bot.say("Answer for you.")
    bot.say("Answer for you.")
    bot.slack.rate_limit_next("chat.postMessage", retry_after=4, channel=CHANNEL)
    mark = time.monotonic()
    await asyncio.gather(bot.reply("UDANA", "more detail A", root_a, channel=CHANNEL),
                         bot.reply("USAM", "more detail B", root_b, channel=OTHER_CHANNEL))
    await bot.settle(timeout=15)
    a = reply_posts(bot, CHANNEL, "Answer for you.", mark)
    b = reply_posts(bot, OTHER_CHANNEL, "Answer for you.", mark)
    assert [c.status for c in a] == [429, 200] and [c.status for c in b] == [200]
    assert a[1].at - a[0].at >= 4.0  # Retry-After honoured for channel A…
    assert b[0].at - a[0].at < 2.0  # …while B's reply did not wait for it
    assert sum("Answer for you." in m["text"] for m in bot.slack.thread(CHANNEL, root_a)) == 1  # delivered once


async def test_after_a_429_the_lane_shows_the_newest_state_never_an_older_render(plain_bot: Bot) -> None:
    """A click's lane update is rate limited; while it waits, the assistant's answer changes the lane
    again. After the wait the lane is rendered afresh: the old render is never sent."""
    bot = plain_bot
    root = await started(bot)
    ref = await bot.load_lane_ref(1)
    assert isinstance(bot.assistant, UnstreamedAssistant)
    bot.assistant.delay = 0.8  # the answer comes while the click's update waits out its 429
    bot.assistant.facts.append("It is an HP LaserJet 4000")  # the fast model words the confirmed fact
    bot.say("Check the cable too.", questions=("Is the network cable plugged in?",))
    bot.slack.rate_limit_next("chat.update", retry_after=2, channel=CHANNEL)
    mark = time.monotonic()
    await bot.reply("UDANA", "It is an HP LaserJet", root)
    await bot.click("UDANA", "rf_confirm_item", 1)  # "Which printer model?" gets its answer proposed, P1
    await bot.settle(timeout=15)
    lane = [c for c in bot.slack.all_calls if c.method == "chat.update" and c.at >= mark and c.args["ts"] == ref["ts"]]
    limited = [c for c in lane if c.status == 429]
    assert len(limited) == 1 and "P1" in str(limited[0].args["blocks"]), [(c.status, c.at - mark) for c in lane]
    replied = [c for c in bot.slack.all_calls if c.method == "chat.postMessage" and "Check the cable" in str(c.args)]
    assert replied and limited[0].at < replied[0].at < limited[0].at + 2  # the answer came during the wait
    after = [c for c in lane if c.at > limited[0].at]
    assert after and all(c.ok for c in after)
    for call in after:  # every render sent after the wait carries both changes
        shown = str(call.args["blocks"])
        assert "P1" in shown and "Is the network cable plugged in?" in shown, shown
    assert len(after) == 1  # the two requests coalesced into one render
    final = str(bot.lane_blocks(1))
    assert "P1" in final and "Is the network cable plugged in?" in final


async def test_a_reply_is_retried_through_server_errors_and_posted_once(plain_bot: Bot) -> None:
    bot = plain_bot
    root = await started(bot)
    bot.say("Swap the toner.")
    bot.slack.server_error_next("chat.postMessage", 503, times=2, channel=CHANNEL)
    mark = time.monotonic()
    await bot.reply("UDANA", "It prints blank pages", root)
    await bot.settle(timeout=15)
    posts = reply_posts(bot, CHANNEL, "Swap the toner.", mark)
    assert [c.status for c in posts] == [503, 503, 200]
    assert sum("Swap the toner." in m["text"] for m in bot.slack.thread(CHANNEL, root)) == 1


async def test_a_reply_slack_refuses_is_logged_and_sent_to_the_author_by_dm(
        plain_bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    bot = plain_bot
    root = await started(bot)
    bot.say("Swap the toner.")
    bot.slack.fail_next("chat.postMessage", "is_archived")
    with caplog.at_level(logging.WARNING, logger="rflow.slack"):
        await bot.reply("UDANA", "It prints blank pages", root)
        await bot.settle()
    assert "could not be delivered" in caplog.text and "is_archived" in caplog.text
    assert not any("Swap the toner." in m["text"] for m in bot.slack.thread(CHANNEL, root))
    dm = bot.slack.dms["UDANA"]
    texts = [m["text"] for m in bot.slack.history(dm)]
    assert any(t.startswith("I could not post my reply in the thread of session #1") and "is_archived" in t for t in texts)
    assert any("Swap the toner." in t for t in texts), texts
    assert bot.slack.status(CHANNEL, root) == ""  # nothing will clear it otherwise


async def test_a_reply_rate_limited_past_the_bound_is_reported_not_dropped(plain_bot: Bot) -> None:
    bot = plain_bot
    root = await started(bot)
    bot.say("Swap the toner.")
    bot.slack.rate_limit_next("chat.postMessage", retry_after=0, times=50, channel=CHANNEL)
    mark = time.monotonic()
    await bot.reply("UDANA", "It prints blank pages", root)
    await bot.settle(timeout=15)
    attempts = reply_posts(bot, CHANNEL, "Swap the toner.", mark)
    gateway = bot.app.slack.gateway
    assert len(attempts) == 1 + gateway.max_rate_limit_retries and all(c.status == 429 for c in attempts)
    texts = [m["text"] for m in bot.slack.history(bot.slack.dms["UDANA"])]
    assert any("ratelimited" in t for t in texts) and any("Swap the toner." in t for t in texts)


async def test_when_the_dm_fails_too_the_author_gets_an_in_app_notification(plain_bot: Bot) -> None:
    bot = plain_bot
    root = await started(bot)
    bot.say("Swap the toner.")
    bot.slack.fail_next("chat.postMessage", "channel_not_found")
    bot.slack.fail_next("conversations.open", "user_disabled")
    await bot.reply("UDANA", "It prints blank pages", root)
    await bot.settle()
    async with bot.app.engine.deps.uow_factory() as uow:
        member = (await uow.members.list(account_id=1))[0]
        notes = await uow.notifications.list_for_member(account_id=1, member_id=member.id or 0)
    assert [n.kind for n in notes] == ["reply_undeliverable"]
    assert notes[0].session_id == 1 and "channel_not_found" in notes[0].text
    assert notes[0].text == w.UNDELIVERABLE_NOTE.format(id=1, reason="channel_not_found")
