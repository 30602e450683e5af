"""Retries processed once, signatures before any work, workspaces kept apart, App Home, long text
(issue 3 §4, §5; R35, R36)."""

from __future__ import annotations

import json
import time

from tests.e2e.slack.conftest import CHANNEL, TEAM, SlackBot, find_buttons, next_ts
from tests.fakes.slack_requests import (
    app_home_opened,
    app_mention,
    block_action,
    event_callback,
    message_event,
    user_ref,
    wire,
)


async def _all_rows(uow) -> list:  # type: ignore[no-untyped-def]
    """Every stored delivery (SQLite hands out ids without gaps here)."""
    rows = []
    delivery_id = 1
    while (row := await uow.inbound.get(delivery_id=delivery_id)) is not None:
        rows.append(row)
        delivery_id += 1
    return rows


async def test_a_retried_event_and_the_mention_twin_are_processed_once(slack_bot: SlackBot) -> None:
    bot = slack_bot
    bot.anthropic.push_update("On it.")
    ts = next_ts()
    mention = event_callback(TEAM, app_mention("UDANA", CHANNEL, "<@UBOT> Outlook keeps crashing", ts), event_id="Ev1")
    twin = event_callback(TEAM, message_event("UDANA", CHANNEL, "<@UBOT> Outlook keeps crashing", ts), event_id="Ev2")
    first = await bot.client.post_event(mention)
    retry = await bot.client.post_event(mention, retry_num=1, retry_reason="http_timeout")
    second = await bot.client.post_event(twin)
    assert (first.status, retry.status, second.status) == (200, 200, 200)
    await bot.settle()
    async with bot.app.engine.deps.uow_factory() as uow:
        stored = await _all_rows(uow)
        steps = await uow.steps.list(account_id=1, session_id=1)
        assert await uow.sessions.get(account_id=1, session_id=2) is None
    assert len(stored) == 1, [r.key for r in stored]
    assert sum(1 for s in steps if s.kind == "engineer_message") == 1
    assert len(bot.anthropic.requests) == 1


async def test_a_retry_from_another_replica_is_recognised_by_the_database(slack_bot: SlackBot) -> None:
    """The dedupe record lives in the database: a second app on the same database refuses it too."""
    from bot.bootstrap import build_app

    bot = slack_bot
    other = await build_app(bot.settings, platforms=True)
    try:
        payload = {"kind": "event", "team": TEAM, "body": {}}
        assert await bot.app.engine.inbox.accept(platform="slack", key="evt:EvX", payload=payload)
        assert not await other.engine.inbox.accept(platform="slack", key="evt:EvX", payload=payload)
    finally:
        await other.close()


async def test_bad_or_stale_signatures_get_401_and_no_work(slack_bot: SlackBot) -> None:
    bot = slack_bot
    event = event_callback(TEAM, app_mention("UDANA", CHANNEL, "<@UBOT> Printer offline", next_ts()))
    forged = await bot.client.post_event(event, bad_signature=True)
    stale = await bot.client.post_event(event, timestamp=int(time.time()) - 301)
    assert (forged.status, stale.status) == (401, 401)
    await bot.settle()
    async with bot.app.engine.deps.uow_factory() as uow:
        assert await _all_rows(uow) == []
    assert bot.slack.count("chat.postMessage") == 0 and bot.anthropic.requests == []


async def test_a_click_naming_another_workspaces_session_is_refused(slack_bot: SlackBot) -> None:
    bot = slack_bot
    bot.anthropic.push_update("Noted.", questions=["Which printer?"])
    await bot.mention("UDANA", "Printer offline")
    await bot.settle()
    ref = await bot.load_lane_ref(1)
    bot.slack.add_user("UEVE", "Eve", email="eve@other.example", team_id="T2")
    value = find_buttons(bot.lane_blocks(1), "rf_confirm_item")[0]["value"]
    reply = await bot.client.post_interaction(block_action("T2", "UEVE", "rf_confirm_item", value, channel="C2",
                                                           message_ts=ref["ts"], trigger_id=bot.slack.trigger_id()))
    assert reply.status == 200
    await bot.settle()
    assert any(e["user"] == "UEVE" and "There is no session #1" in e["text"] for e in bot.slack.ephemerals), bot.slack.ephemerals
    view = await bot.app.engine.sessions.view_for_surface(account_id=1, session_id=1)
    assert view.facts == []


async def test_app_home_shows_my_sessions_the_queue_and_the_metric_for_workers_only(slack_bot: SlackBot) -> None:
    from core.metric import DEFINITION

    bot = slack_bot
    bot.anthropic.push_update("Noted.")
    await bot.mention("UDANA", "Scanner to email fails")
    await bot.settle()
    await bot.command("UVIC", "status")  # Vic becomes a member, then a viewer
    await bot.command("UDANA", wire("role ", user_ref("UVIC", "vic"), " viewer"))
    await bot.settle()
    for user in ("UDANA", "UVIC"):
        reply = await bot.client.post_event(event_callback(TEAM, app_home_opened(user)))
        assert reply.status == 200
    await bot.settle()
    mine = json.dumps(bot.slack.home_views["UDANA"])
    assert "Scanner to email fails" in mine
    assert all(f"*Last {days} days*" in mine for days in (7, 30, 90)) and DEFINITION in mine  # R26's definition line
    viewer = json.dumps(bot.slack.home_views["UVIC"])
    assert "Scanner to email fails" not in viewer and "Last 7 days" not in viewer  # not theirs; no metric for viewers


async def test_a_long_reply_is_split_or_attached_never_cut(slack_bot: SlackBot) -> None:
    bot = slack_bot
    long_reply = "\n\n".join(f"Step {i}: " + "check the relay settings and the SPF record. " * 12 for i in range(20))
    bot.anthropic.push_update(long_reply)
    root = await bot.mention("UDANA", "Mail bounces")
    await bot.settle()
    posted = json.dumps([(m.get("blocks"), m.get("text")) for m in bot.slack.thread(CHANNEL, root)])  # a streamed reply is text
    uploaded = "".join(u.content.decode() if isinstance(u.content, bytes) else str(u.content) for u in bot.slack.uploads.values())
    assert len(long_reply) > 10_000
    assert all(f"Step {i}:" in posted + uploaded for i in range(20))


async def test_url_verification_is_answered_with_the_challenge(slack_bot: SlackBot) -> None:
    from tests.fakes.slack_requests import url_verification

    reply = await slack_bot.client.post_event(url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"))
    assert reply.status == 200 and "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in reply.body


async def test_a_failed_lane_update_heals_on_the_next_change(slack_bot: SlackBot) -> None:
    bot = slack_bot
    bot.anthropic.push_update("Two things to check.", questions=["Is the VPN client current?", "Does it drop on Wi-Fi only?"])
    await bot.mention("UDANA", "VPN drops")
    await bot.settle()
    bot.slack.fail_next("chat.update", "internal_error")
    await bot.click("UDANA", "rf_confirm_item", 1, index=0)
    await bot.settle()
    assert "P1" not in str(bot.lane_blocks(1))  # Slack refused the update; the proposed answer is stored anyway
    await bot.click("UDANA", "rf_confirm_item", 1, index=0)  # the stale button: the same proposal, and the lane heals
    await bot.settle()
    assert any(e["user"] == "UDANA" for e in bot.slack.ephemerals)
    lane = str(bot.lane_blocks(1))
    assert "P1" in lane and "P2" not in lane and "Does it drop on Wi-Fi only?" in lane, lane
