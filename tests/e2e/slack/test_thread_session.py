"""Working a ticket in a Slack thread, end to end over HTTP (issue 3 §2, §5)."""

from __future__ import annotations

from tests.e2e.slack.conftest import CHANNEL, SlackBot
from tests.fakes.anthropic_api import fix_input


async def test_mention_starts_a_session_with_a_lane_and_a_reply_in_the_thread(slack_bot: SlackBot) -> None:
    bot = slack_bot
    bot.anthropic.push_update("Is the printer powered on?", questions=["Is the printer powered on?"])
    root = await bot.mention("UDANA", "Printer offline for 3 users")
    await bot.settle()
    posts = bot.slack.calls("chat.postMessage")
    assert all(p["channel"] == CHANNEL and p["thread_ts"] == root for p in posts), posts
    texts = [p["text"] for p in posts]
    assert any("Session #1 started" in t for t in texts), texts
    assert any("Is the printer powered on?" in t for t in texts), texts
    ref = await bot.load_lane_ref(1)
    lane = bot.lane_blocks(1)
    assert ref["thread_ts"] == root
    assert any(b.get("type") == "actions" or b.get("accessory") for b in lane)
    rendered = str(lane)
    assert "Is the printer powered on?" in rendered and "rf_confirm_item" in rendered


async def test_confirm_apply_worked_preview_edit_post_resolves_locally(slack_bot: SlackBot) -> None:
    bot = slack_bot
    bot.anthropic.push_update("Check the spooler.", questions=["How many jobs are stuck?"])
    root = await bot.mention("UDANA", "Printer offline for 3 users")
    await bot.settle()

    await bot.click("UDANA", "rf_confirm_item", 1)  # the assistant is asked to word the fact (fast model)
    await bot.settle()
    assert "P1" in str(bot.lane_blocks(1)) and "No facts yet." in str(bot.lane_blocks(1))  # shown first (R4, R6)
    await bot.click("UDANA", "rf_confirm_item", 1)  # the proposal comes first on the lane: confirmed as written
    await bot.settle()
    assert "F1" in str(bot.lane_blocks(1)), bot.lane_blocks(1)

    bot.anthropic.push_update("Clear the spooler.", fixes=[fix_input("Clear the print spooler", "stop, clear, start", 80)])
    await bot.reply("UDANA", "14 jobs stuck in the spooler", root)
    await bot.settle()
    lane = str(bot.lane_blocks(1))
    assert "Clear the print spooler" in lane and "rf_apply_fix" in lane

    await bot.click("UDANA", "rf_apply_fix", 1)
    await bot.settle()
    await bot.click("UDANA", "rf_fix_worked", 1)
    await bot.settle()
    assert "worked" in str(bot.lane_blocks(1))

    opens_before = bot.slack.count("views.open")
    await bot.click("UDANA", "rf_preview_resolve", 1)
    await bot.settle()
    assert bot.slack.count("views.open") == opens_before + 1
    view = bot.last_view()
    assert view["callback_id"] == "rf_resolve", view
    reply = await bot.submit("UDANA", view, {"note_1": "Cleared 14 stuck jobs; printing again.", "summary": "Spooler cleared"})
    assert reply.status == 200 and not reply.body.strip(), reply.body
    await bot.settle()
    thread = [m["text"] for m in bot.slack.thread(CHANNEL, root)]
    assert any("resolved here (no ticket linked" in t for t in thread), thread
    assert not any("resolved_local" in t for t in thread), thread  # in words, not the outcome code
    assert "Resolved" in str(bot.lane_blocks(1)) or "resolved" in str(bot.lane_blocks(1)).lower()
    session = await bot.app.engine.sessions.view_for_surface(account_id=1, session_id=1)
    assert str(session.session.status) == "resolved"


async def test_forms_check_r15_limits_inline_and_partial_notes_and_facts_reach_the_lane(slack_bot: SlackBot) -> None:
    bot = slack_bot
    bot.anthropic.push_update("Try the cache.", fixes=[fix_input("Clear the Teams cache", "quit, delete cache, start", 70)])
    await bot.mention("UDANA", "Teams client shows a blank window")
    await bot.settle()

    await bot.click("UDANA", "rf_fix_partial", 1)
    await bot.settle()
    form = bot.last_view()
    assert form["callback_id"] == "rf_fix_partial", form
    reply = await bot.submit("UDANA", form, {"notes": "Works for two of three users"})
    assert reply.status == 200
    await bot.settle()
    assert "Works for two of three users" in str(bot.lane_blocks(1))

    await bot.click("UDANA", "rf_add_fact", 1)
    await bot.settle()
    form = bot.last_view()
    assert form["callback_id"] == "rf_add_fact", form
    await bot.submit("UDANA", form, {"text": "Third user is on the new laptop image"})
    await bot.settle()
    assert "Third user is on the new laptop image" in str(bot.lane_blocks(1))

    await bot.click("UDANA", "rf_preview_resolve", 1)
    await bot.settle()
    form = bot.last_view()
    too_long = await bot.submit("UDANA", form, {"summary": "x" * 501})
    assert too_long.status == 200 and too_long.json()["response_action"] == "errors", too_long.body
    assert list(too_long.json()["errors"]) == ["summary"] and "at most 500" in too_long.json()["errors"]["summary"]
    await bot.settle()
    view = await bot.app.engine.sessions.view_for_surface(account_id=1, session_id=1)
    assert str(view.session.status) == "active"  # nothing was posted


async def test_rf_new_starts_a_session_in_a_new_thread_without_pinging_anyone(slack_bot: SlackBot) -> None:
    bot = slack_bot
    bot.anthropic.push_update("Which floor?")
    await bot.command("UDANA", "new <!channel> printer down, ticket #1001")
    await bot.settle()
    root = bot.slack.history(CHANNEL)[0]
    assert root["text"].startswith("<@UDANA> is starting a session") and "&lt;!channel&gt;" in root["text"]
    ref = await bot.load_lane_ref(1)
    assert ref["thread_ts"] == root["ts"]
    thread = [m["text"] for m in bot.slack.thread(CHANNEL, root["ts"])]
    assert any("Link it with `/rf link 1001 #1`" in t for t in thread) and any("Which floor?" in t for t in thread)
