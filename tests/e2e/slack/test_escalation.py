"""Escalation channel, Pick up races, roles (issue 3 §3, §5; R21–R24)."""

from __future__ import annotations

import asyncio

from tests.e2e.slack.conftest import CHANNEL, ESCALATIONS, SlackBot, find_buttons
from tests.fakes.slack_requests import user_ref, wire


async def escalated_session(bot: SlackBot, target: str | None = None, *, fail_channel_post: bool = False) -> str:
    """Dana (workspace admin → owner) sets the channel, Sam/Ria/Vic appear, Vic becomes a viewer,
    and Dana escalates a session through the modal. Returns the session's thread ts."""
    await bot.command("UDANA", "settings")
    await bot.settle()
    settings = bot.last_view()
    assert settings["callback_id"] == "rf_settings", settings
    reply = await bot.submit("UDANA", settings, {"channel": ESCALATIONS})
    assert reply.status == 200
    for user in ("USAM", "URIA", "UVIC"):
        await bot.command(user, "status")
    await bot.command("UDANA", wire("role ", user_ref("UVIC", "vic"), " viewer"))
    await bot.settle()
    assert any("Vic is now viewer" in r.get("text", "") for r in bot.slack.responses), bot.slack.responses

    bot.anthropic.push_update("Let's look at the VPN logs.")
    root = await bot.mention("UDANA", "VPN drops every 10 minutes for the whole office")
    await bot.settle()
    await bot.click("UDANA", "rf_escalate", 1)
    await bot.settle()
    form = bot.last_view()
    assert form["callback_id"] == "rf_escalate", form
    edits: dict[str, str | None] = {"reason": "Needs a network engineer"}
    if target is not None:
        option = next(o for b in form["blocks"] if b.get("block_id") == "target" for o in b["element"]["options"]
                      if o["text"]["text"] == target)
        edits["target"] = option["value"]
    if fail_channel_post:  # the first post after the submit is the one to the escalation channel
        bot.slack.fail_next("chat.postMessage", "channel_not_found")
    reply = await bot.submit("UDANA", form, edits)
    assert reply.status == 200, reply.body
    await bot.settle()
    return root


def pickup_post(bot: SlackBot) -> dict:
    posts = [m for m in bot.slack.history(ESCALATIONS)]
    assert len(posts) == 1, posts
    return posts[0]


async def test_escalation_posts_once_and_one_of_two_simultaneous_pickups_wins(slack_bot: SlackBot) -> None:
    bot = slack_bot
    root = await escalated_session(bot)
    post = pickup_post(bot)
    assert "Needs a network engineer" in str(post["blocks"])
    button = find_buttons(post["blocks"], "rf_pickup")[0]

    await bot.press("UVIC", button, channel=ESCALATIONS, message_ts=post["ts"])  # a viewer is refused (R23)
    await bot.settle()
    assert any(e["user"] == "UVIC" and "Engineer or admin access required" in e["text"] for e in bot.slack.ephemerals)

    await asyncio.gather(bot.press("USAM", button, channel=ESCALATIONS, message_ts=post["ts"]),
                         bot.press("URIA", button, channel=ESCALATIONS, message_ts=post["ts"]))
    await bot.settle()
    updated = bot.slack.message(ESCALATIONS, post["ts"])
    assert updated is not None
    winner = "Sam" if "Picked up by Sam" in str(updated["blocks"]) else "Ria"
    loser_id = "URIA" if winner == "Sam" else "USAM"
    assert f"Picked up by {winner}" in str(updated["blocks"]) and not find_buttons(updated["blocks"], "rf_pickup")
    assert any(e["user"] == loser_id and f"Already picked up by {winner}" in e["text"] for e in bot.slack.ephemerals)
    winner_id = "USAM" if winner == "Sam" else "URIA"
    dm_channel = bot.slack.dms[winner_id]
    assert any("Needs a network engineer" in str(m) for m in bot.slack.history(dm_channel))
    thread = [m["text"] for m in bot.slack.thread(CHANNEL, root)]
    assert any(f"{winner} picked up this session" in t for t in thread), thread
    session = await bot.app.engine.sessions.view_for_surface(account_id=1, session_id=1)
    assert session.handler is not None and session.handler.name == winner


async def test_the_named_target_gets_a_dm_and_is_named_on_the_post(slack_bot: SlackBot) -> None:
    bot = slack_bot
    await escalated_session(bot, target="Ria")
    dm = bot.slack.dms["URIA"]
    assert any("escalated session #1 to you" in m.get("text", "") for m in bot.slack.history(dm))
    assert "USAM" not in bot.slack.dms
    post = pickup_post(bot)
    assert "Ria" in str(post["blocks"])



async def test_a_failing_escalation_channel_never_undoes_the_escalation(slack_bot: SlackBot) -> None:
    """R22: the handoff is committed before anyone is told; a channel that refuses the post is
    logged and said in the thread, and the escalation stands (it waits in the queue)."""
    bot = slack_bot
    root = await escalated_session(bot, fail_channel_post=True)
    assert bot.slack.history(ESCALATIONS) == []
    view = await bot.app.engine.sessions.view_for_surface(account_id=1, session_id=1)
    assert str(view.session.status) == "escalated" and view.escalation is not None
    thread = [m["text"] for m in bot.slack.thread(CHANNEL, root)]
    assert any("not posted to the escalation channel" in t for t in thread), thread
