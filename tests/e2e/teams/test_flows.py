"""The rest of the Teams surface over the wire: personal chats, an escalation raised and picked up in
Teams, the Action.Submit fallback of older clients, the install greeting, a click that overruns the
invoke deadline, and refusals said in the conversation."""

from __future__ import annotations

from typing import Any

from core.access import Actor
from core.models import SessionStatus
from core.platform import TEAMS
from tests.e2e.teams.conftest import (
    BOT,
    DANA_T,
    DESK,
    ESCALATIONS,
    EVE,
    SAM_T,
    TeamsBot,
    button,
    card_of,
    shown_text,
    walk,
)

CHAT = "a:1eve-personal-chat"


async def session_ids(bot: TeamsBot) -> list[int]:
    account = await bot.account_of()
    assert account is not None
    return sorted(s.id or 0 for s in await bot.app.engine.sessions.list(actor=Actor(account_id=account, member_id=1)))


async def test_a_personal_chat_holds_one_session_until_it_is_resolved(bot: TeamsBot) -> None:
    bot.connector.add_member(CHAT, id=EVE.id, name=EVE.name, email=EVE.email, aad_object_id=EVE.aad)
    chat = bot.personal(CHAT)
    bot.anthropic.push_update("Is it every printer or one?")
    await bot.say(EVE, chat, "Printer offline for three users")
    await bot.settle()
    assert await session_ids(bot) == [1]
    assert any("Is it every printer or one?" in t for t in bot.texts(CHAT))
    await bot.say(EVE, chat, "Only the one on floor 2")
    await bot.settle()
    assert await session_ids(bot) == [1]  # a turn, not a new session

    account = await bot.account_of()
    assert account is not None
    await bot.app.engine.resolution.resolve(actor=Actor(account_id=account, member_id=1), session_id=1,
                                            markdown="Replaced the toner.")
    await bot.settle()
    assert any("resolved this session here" in t for t in bot.texts(CHAT))  # told in Teams, whoever resolved it
    assert not any("resolved_local" in t for t in bot.texts(CHAT))  # in words, not the outcome code
    await bot.say(EVE, chat, "Now the scanner fails too")
    await bot.settle()
    assert await session_ids(bot) == [1, 2]
    lane = await bot.lane(2)
    assert lane["conversation"]["conversation"]["id"] == CHAT


async def test_an_escalation_raised_and_picked_up_in_teams(bot: TeamsBot) -> None:
    # Eve is the tenant's first member (its owner); she names the escalation channel and works a session.
    here = await bot.mention(EVE, "escalations here", channel=ESCALATIONS)
    await bot.settle()
    assert any("will be posted in this channel" in t for t in bot.texts(here))
    await bot.mention(SAM_T, "help", channel=DESK)  # Sam becomes a member (an engineer) by talking to us
    await bot.settle()
    chain = await bot.mention(EVE, "Mail flow stopped for one domain")
    await bot.settle()
    root = chain.split("=")[-1]
    lane = await bot.lane(1)
    card = card_of(bot.current(chain, lane["activity_id"]))
    assert card is not None
    # The escalation form names colleagues by member id; "" would mean anyone.
    choices = [n for n in walk(card) if n.get("type") == "Input.ChoiceSet"]
    assert choices and {c["title"] for c in choices[0]["choices"]} == {"Sam"}
    sam_id = next(c["value"] for c in choices[0]["choices"] if c["title"] == "Sam")

    status, body = await bot.click(EVE, bot.channel(DESK, root), button(card, "rf_escalate"),
                                   reply_to=lane["activity_id"], inputs={"reason": "Needs the Exchange admin",
                                                                         "target": sam_id})
    assert status == 200 and "Escalating session #1" in body["value"], body
    await bot.settle()
    [(post_id, post)] = [(aid, c) for aid, c in _cards_in_channel(bot, ESCALATIONS) if "Escalation: #1" in shown_text(c)]
    assert "Needs the Exchange admin" in shown_text(post) and "Asked for: Sam" in shown_text(post)
    # R22: the named target hears it in a personal chat, with Pick up on the card.
    [dm] = [c.conversation_id for c in bot.connector.created if c.params.get("members") == [{"id": SAM_T.aad}]]
    told = [s.activity for s in bot.connector.sent if s.conversation_id == dm]
    assert any("escalated session #1 to you" in (a.get("text") or "") and button(card_of(a) or {}, "rf_pickup")
               for a in told), told
    assert any("escalated this session" in t for t in bot.texts(chain))
    escalated_lane = card_of(bot.current(chain, lane["activity_id"]))
    assert escalated_lane is not None and "Escalated" in shown_text(escalated_lane)

    # Eve can't pick up her own escalation; Sam can.
    post_conv = next(s.conversation_id for s in bot.connector.sent if s.activity_id == post_id)
    channel_conv = {"id": post_conv, "isGroup": True, "conversationType": "channel", "tenantId": bot.channel(DESK, "")["tenantId"]}
    status, body = await bot.click(EVE, channel_conv, button(post, "rf_pickup"), reply_to=post_id)
    assert body["value"] == "You escalated this session; a colleague has to pick it up."
    status, body = await bot.click(SAM_T, channel_conv, button(post, "rf_pickup"), reply_to=post_id)
    assert "Picked up by Sam." in shown_text(body["value"])
    await bot.settle()
    assert "Picked up by Sam." in shown_text(card_of(bot.current(post_conv, post_id)) or {})
    assert any("Sam picked up this session" in t for t in bot.texts(chain))  # the original chain hears it
    [chat] = [c.conversation_id for c in bot.connector.created if c.params.get("members") == [{"id": SAM_T.id}]]
    assert (await bot.lane(1))["conversation"]["conversation"]["id"] == chat
    # A late second click on the same post is told who has it.
    status, body = await bot.click(DANA_T, channel_conv, button(post, "rf_pickup"), reply_to=post_id)
    assert body["value"] == "Already picked up by Sam."
    bot.assert_cards_valid()


async def test_the_action_submit_fallback_edits_the_card_message(bot: TeamsBot) -> None:
    chain = await bot.mention(EVE, "Laptop fan is loud")
    await bot.settle()
    root = chain.split("=")[-1]
    lane = await bot.lane(1)
    card = card_of(bot.current(chain, lane["activity_id"]))
    assert card is not None
    fallback = button(card, "rf_park")["fallback"]
    assert fallback["type"] == "Action.Submit"
    status, _ = await bot.post(bot.activity(EVE, bot.channel(DESK, root), value={**fallback["data"], "reason": ""},
                                            replyToId=lane["activity_id"]))  # the Park form, sent as it stood
    assert status == 202  # a message: answered at once, worked from the inbox
    await bot.settle()
    parked = card_of(bot.current(chain, lane["activity_id"]))
    assert parked is not None and "Parked" in shown_text(parked)
    account = await bot.account_of()
    assert account is not None
    view = await bot.app.engine.sessions.view(actor=Actor(account_id=account, member_id=1), session_id=1)
    assert view.session.status == SessionStatus.PARKED


async def test_installing_the_bot_greets_with_the_help_card(bot: TeamsBot) -> None:
    update = bot.activity(EVE, {"id": DESK, "isGroup": True, "conversationType": "channel",
                                "tenantId": bot.channel(DESK, "")["tenantId"]},
                          type="conversationUpdate", membersAdded=[{"id": BOT}])
    status, _ = await bot.post(update)
    assert status == 202
    await bot.settle()
    [(_, card)] = bot.cards(DESK)
    assert "escalations here" in shown_text(card)
    bot.assert_cards_valid()


async def test_a_click_that_overruns_the_deadline_finishes_in_the_background(bot: TeamsBot) -> None:
    chain = await bot.mention(EVE, "No network at desk 14")
    await bot.settle()
    root = chain.split("=")[-1]
    lane = await bot.lane(1)
    card = card_of(bot.current(chain, lane["activity_id"]))
    assert card is not None
    bot.app.teams.clicks.deadline_s = 0.0  # no click answers in time now (slow ones go through the inbox)
    status, body = await bot.click(EVE, bot.channel(DESK, root), button(card, "rf_park"), reply_to=lane["activity_id"],
                                   inputs={"reason": "Waiting for the user"})
    assert status == 200 and body["value"] == "Still working on it; the card updates when it is done.", body
    await bot.app.teams.clicks.drain()
    await bot.settle()
    final = card_of(bot.current(chain, lane["activity_id"]))
    assert final is not None and "Parked" in shown_text(final)
    assert any("Session #1 parked" in t for t in bot.texts(chain))  # the outcome, said once it is done


async def test_refusals_are_said_in_the_conversation(bot: TeamsBot) -> None:
    chain = await bot.mention(EVE, "Teams calls drop")  # Eve owns the new account
    await bot.settle()
    account = await bot.account_of()
    assert account is not None
    owner = Actor(account_id=account, member_id=1)
    await bot.mention(SAM_T, "help")
    await bot.settle()
    [sam] = [m for m in await bot.app.engine.accounts.members(actor=owner) if m.name == "Sam"]
    await bot.app.engine.tenants.set_role(actor=owner, member_id=sam.id or 0, role="viewer")
    viewer_chain = await bot.mention(SAM_T, "Printer jammed")
    not_admin = await bot.mention(SAM_T, "escalations here", channel=ESCALATIONS)
    empty = await bot.mention(EVE, "new")
    await bot.mention(EVE, "new another problem", root=chain.split("=")[-1])
    await bot.settle()
    assert "Engineer or admin access required." in bot.texts(viewer_chain)
    assert "Admin access required." in bot.texts(not_admin)
    assert any("Tell me the problem" in t for t in bot.texts(empty))
    assert any("already holds session #1" in t for t in bot.texts(chain)), bot.texts(chain)
    assert len(await bot.app.engine.sessions.list(actor=owner)) == 1  # nothing half-written
    assert await bot.app.engine.surfaces.get(account_id=account, surface=TEAMS, key="escalation_channel") is None
    # A card click from a stranger to the session is refused in the invoke answer.
    lane = await bot.lane(1)
    card = card_of(bot.current(chain, lane["activity_id"]))
    assert card is not None
    status, body = await bot.click(SAM_T, bot.channel(DESK, chain.split("=")[-1]), button(card, "rf_park"),
                                   reply_to=lane["activity_id"], inputs={"reason": ""})
    assert status == 200 and body["value"] == "Engineer or admin access required."


def _cards_in_channel(bot: TeamsBot, channel: str) -> list[tuple[str, dict[str, Any]]]:
    conversations = {s.conversation_id for s in bot.connector.sent if s.conversation_id.startswith(channel)}
    return [found for conversation in sorted(conversations) for found in bot.cards(conversation)]


async def test_when_teams_cannot_say_who_is_calling_nothing_is_done(bot: TeamsBot) -> None:
    bot.connector.fail_next(1, 403)  # the member lookup is refused (and 403 is not retried)
    chain = await bot.mention(EVE, "Printer offline")
    await bot.settle()
    assert bot.connector.requests[0].status == 403 and "/members/" in bot.connector.requests[0].path
    assert bot.texts(chain) == ["Teams could not tell me who you are just now; please try again in a minute."]
    assert await bot.account_of() is None  # no account, no member made without the email
