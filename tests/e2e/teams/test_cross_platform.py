"""One account across Slack and Teams (issue 5 §3): a tenant joined with a connect code made in Slack,
an escalation raised in Slack posted to the Teams escalation channel and picked up there (both posts
updated, the Slack thread told, the senior matched by email and continuing from Teams), and a Slack
senior racing a Teams senior for the same Pick up."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest

from core.access import Actor
from core.models import SessionStatus
from core.platform import SLACK, TEAMS
from core.surfaces import escalation_key
from tests.e2e.teams.conftest import (
    DANA_T,
    ESCALATIONS,
    SAM_T,
    SLACK_CHANNEL,
    SLACK_ESCALATIONS,
    SLACK_TEAM,
    TENANT,
    TeamsBot,
    button,
    card_of,
    shown_text,
    walk,
)
from tests.fakes.slack_requests import block_action, slash_command, view_submission


@dataclass
class Escalated:
    account_id: int
    session_id: int
    handoff_id: int
    slack_thread: str  # the Slack thread's ts
    teams_post: dict[str, Any]  # {"conversation": reference, "activity_id": ...}
    slack_post: dict[str, Any]  # {"channel": ..., "ts": ...}


async def escalate_from_slack(bot: TeamsBot) -> Escalated:
    """Sam is known in Slack; Dana works a session in Slack, joins the Teams tenant, names a Teams
    escalation channel, and escalates from Slack's escalation form."""
    thread = await bot.slack_mention("UDANA", "VPN tunnel to the branch office drops every hour")
    await bot.settle()
    reply = await bot.slack_client.post_command(slash_command(SLACK_TEAM, "USAM", text="queue",
                                                              response_url=bot.hooks.url("sam")))
    assert reply.status == 200
    await bot.settle()
    account = await bot.account_of(SLACK, SLACK_TEAM)
    assert account is not None
    dana = Actor(account_id=account, member_id=1)  # the workspace's first member: its owner
    assert [m.name for m in await bot.app.engine.accounts.members(actor=dana)] == ["Dana", "Sam"]
    [session] = await bot.app.engine.sessions.list(actor=dana)

    code = await bot.connect_code("connect")
    chain = await bot.mention(DANA_T, f"connect {code}", channel=ESCALATIONS)
    await bot.settle()
    assert await bot.account_of(TEAMS, TENANT) == account
    assert any("now part of" in t and "Dana" in t for t in bot.texts(chain)), bot.texts(chain)
    here = await bot.mention(DANA_T, "escalations here", channel=ESCALATIONS)
    await bot.settle()
    assert any("will be posted in this channel" in t for t in bot.texts(here)), bot.texts(here)
    settings = view_submission(SLACK_TEAM, "UDANA", "rf_settings", "",
                               {"channel": {"channel_input": {"type": "conversations_select",
                                                              "selected_conversation": SLACK_ESCALATIONS}}},
                               view_id="VSET1")
    reply = await bot.slack_client.post_interaction(settings)  # Slack's /rf settings form
    assert reply.status == 200, reply.body
    await bot.settle()
    assert (await bot.app.engine.accounts.preferences(actor=dana))["slack_escalation_channel"] == SLACK_ESCALATIONS

    form = view_submission(SLACK_TEAM, "UDANA", "rf_escalate", json.dumps({"s": session.id}),
                           {"reason": {"reason_input": {"type": "plain_text_input", "value": "Needs the firewall admin"}}},
                           view_id="VESC1")
    reply = await bot.slack_client.post_interaction(form)
    assert reply.status == 200, reply.body
    await bot.settle()
    [teams_ref] = await bot.app.engine.surfaces.list(account_id=account, key_prefix="escalation:", surface=TEAMS)
    handoff_id = int(teams_ref.key.split(":")[1])
    slack_ref = await bot.app.engine.surfaces.get(account_id=account, surface=SLACK, key=escalation_key(handoff_id))
    assert slack_ref is not None, "the Slack notifier did not post the escalation"
    return Escalated(account_id=account, session_id=session.id or 0, handoff_id=handoff_id, slack_thread=thread,
                     teams_post=dict(teams_ref.ref), slack_post=dict(slack_ref.ref))


def teams_card(bot: TeamsBot, post: dict[str, Any]) -> dict[str, Any]:
    card = card_of(bot.current(post["conversation"]["conversation"]["id"], post["activity_id"]))
    assert card is not None
    return card


def slack_text(message: dict[str, Any] | None) -> str:
    return json.dumps(message or {})


async def test_escalation_raised_in_slack_is_picked_up_in_teams(bot: TeamsBot) -> None:
    esc = await escalate_from_slack(bot)
    post = esc.teams_post
    card = teams_card(bot, post)
    assert "Needs the firewall admin" in shown_text(card) and "Picked up" not in shown_text(card)

    pick_up = button(card, "rf_pickup", s=esc.session_id, r=esc.handoff_id)
    status, body = await bot.click(SAM_T, post["conversation"]["conversation"], pick_up, reply_to=post["activity_id"])
    assert status == 200, body
    assert "Picked up by Sam." in shown_text(body["value"])
    await bot.settle()

    # Both posts say who has it, for everyone; the Slack thread hears that Sam is on it.
    assert "Picked up by Sam." in shown_text(teams_card(bot, post))
    assert not [n for n in walk(teams_card(bot, post)) if n.get("verb") == "rf_pickup"]
    slack_post = bot.slack.message(SLACK_ESCALATIONS, esc.slack_post["ts"])
    assert "Picked up by" in slack_text(slack_post) and "Sam" in slack_text(slack_post)
    thread = bot.slack.thread(SLACK_CHANNEL, esc.slack_thread)
    assert any("Sam picked up this session" in m.get("text", "") for m in thread), [m.get("text") for m in thread]

    # Sam is one member across platforms (matched by verified email) and the session's handler.
    async with bot.app.engine.deps.uow_factory() as uow:
        from_slack = await uow.members.find_by_identity(account_id=esc.account_id, platform=SLACK, external_id="USAM")
        from_teams = await uow.members.find_by_identity(account_id=esc.account_id, platform=TEAMS,
                                                        external_id=SAM_T.aad)
    assert from_slack is not None and from_teams is not None and from_slack.id == from_teams.id
    view = await bot.app.engine.sessions.view(actor=Actor(account_id=esc.account_id, member_id=1),
                                              session_id=esc.session_id)
    assert view.session.status == SessionStatus.ACTIVE and view.session.handler_id == from_slack.id

    # The handoff context and the lane go to a personal chat with Sam, where he continues.
    [chat] = [c.conversation_id for c in bot.connector.created if c.params.get("members") == [{"id": SAM_T.id}]]
    chat_cards = [shown_text(c) for _, c in bot.cards(chat)]
    assert any("You picked up" in t and "Escalation package" in t for t in chat_cards), chat_cards
    lane = await bot.lane(esc.session_id)
    assert lane["conversation"]["conversation"]["id"] == chat

    bot.anthropic.push_update("Then the rekey timer is the suspect. Check the IKE lifetime on both ends.")
    await bot.say(SAM_T, bot.personal(chat), "Tunnel logs show the IKE rekey failing at 60 minutes")
    await bot.settle()
    thread = bot.slack.thread(SLACK_CHANNEL, esc.slack_thread)
    assert any("(in Teams)" in m.get("text", "") and "IKE rekey failing" in m.get("text", "") for m in thread)
    assert any("IKE lifetime" in t for t in bot.texts(chat))  # the assistant answers in Teams too
    history = await bot.app.engine.sessions.history(actor=Actor(account_id=esc.account_id, member_id=1),
                                                    session_id=esc.session_id)
    assert history[-2].text == "Tunnel logs show the IKE rekey failing at 60 minutes"
    assert history[-2].author_id == from_slack.id
    bot.assert_cards_valid()


@pytest.mark.parametrize("order", ["together", "slack first", "teams first"])
async def test_a_slack_senior_and_a_teams_senior_race_for_pick_up(bot: TeamsBot, order: str) -> None:
    """Clicked together the winner is whoever the database lets win; the ordered runs make sure
    both losing paths (Slack's and Teams') are seen."""
    esc = await escalate_from_slack(bot)
    post = esc.teams_post
    pick_up = button(teams_card(bot, post), "rf_pickup")
    slack_click = block_action(SLACK_TEAM, "URIA", "rf_pickup", json.dumps({"s": esc.session_id, "r": esc.handoff_id}),
                               channel=SLACK_ESCALATIONS, message_ts=esc.slack_post["ts"], response_url=bot.hooks.url("ria"))

    async def from_slack() -> None:
        reply = await bot.slack_client.post_interaction(slack_click)
        assert reply.status == 200, reply.body
        if order == "slack first":
            await bot.settle()

    async def from_teams() -> Any:
        status, body = await bot.click(SAM_T, post["conversation"]["conversation"], pick_up, reply_to=post["activity_id"])
        assert status == 200, body
        return body

    if order == "together":
        _, body = await asyncio.gather(from_slack(), from_teams())
    elif order == "slack first":
        await from_slack()
        body = await from_teams()
    else:
        body = await from_teams()
        await from_slack()
    await bot.settle()

    view = await bot.app.engine.sessions.view(actor=Actor(account_id=esc.account_id, member_id=1),
                                              session_id=esc.session_id)
    assert view.handler is not None and view.handler.name in ("Ria", "Sam")
    winner = view.handler.name
    if order != "together":
        assert winner == ("Ria" if order == "slack first" else "Sam")
    assert view.escalation is not None and view.escalation.claimed_by == view.handler.id
    if winner == "Sam":
        assert f"Picked up by {winner}." in shown_text(body["value"])
        told = bot.hooks.texts("ria") + [c.get("text") for c in bot.slack.calls("chat.postEphemeral")
                                         if c.get("user") == "URIA"]
        assert f"Already picked up by {winner}." in told, told  # Slack's ephemeral answer, either way
    else:
        assert body == {"statusCode": 200, "type": "application/vnd.microsoft.activity.message",
                        "value": f"Already picked up by {winner}."}
    # Every copy of the post names the one winner.
    assert f"Picked up by {winner}." in shown_text(teams_card(bot, post))
    assert winner in slack_text(bot.slack.message(SLACK_ESCALATIONS, esc.slack_post["ts"]))
    handoff_cards = [c for c in bot.connector.created if c.params.get("members") == [{"id": SAM_T.id}]]
    assert bool(handoff_cards) == (winner == "Sam")  # only a Teams winner gets a Teams personal chat
    bot.assert_cards_valid()


async def test_a_viewer_cannot_pick_up_and_the_card_stays(bot: TeamsBot) -> None:
    esc = await escalate_from_slack(bot)
    post = esc.teams_post
    dana = Actor(account_id=esc.account_id, member_id=1)
    [sam] = [m for m in await bot.app.engine.accounts.members(actor=dana) if m.name == "Sam"]
    await bot.app.engine.tenants.set_role(actor=dana, member_id=sam.id or 0, role="viewer")
    updates = len(bot.connector.updated)
    status, body = await bot.click(SAM_T, post["conversation"]["conversation"], button(teams_card(bot, post), "rf_pickup"),
                                   reply_to=post["activity_id"])
    assert status == 200
    assert body["value"] == "Engineer or admin access required."
    await bot.settle()
    assert len(bot.connector.updated) == updates
    assert "Picked up" not in shown_text(teams_card(bot, post))
    view = await bot.app.engine.sessions.view(actor=dana, session_id=esc.session_id)
    assert view.session.status == SessionStatus.ESCALATED

