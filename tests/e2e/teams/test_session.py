"""A session worked in Teams end to end (issue 5 §2): an @mention in a channel starts it in that
reply chain, the lane card is posted and edited in place, a question is confirmed with an
`adaptiveCard/action` invoke, and the session is resolved from the resolution card."""

from __future__ import annotations

from typing import Any

from core.access import Actor
from core.models import SessionStatus
from core.platform import TEAMS
from tests.e2e.teams.conftest import DESK, EVE, TeamsBot, button, card_of, shown_text, walk
from tests.fakes.anthropic_api import note_markdown

QUESTION = "Which Outlook version is installed?"


async def test_a_session_worked_in_teams_end_to_end(bot: TeamsBot) -> None:
    bot.anthropic.push_update(f"Let's narrow it down. {QUESTION}", questions=[QUESTION])
    chain = await bot.mention(EVE, "Outlook crashes on start for the finance team")
    await bot.settle()

    account = await bot.account_of()
    assert account is not None
    [session] = await bot.app.engine.sessions.list(actor=_actor(account))
    sid = session.id or 0
    assert session.thread_ref == f"{TEAMS}:{bot.channel(DESK, '')['tenantId']}:{chain}"
    assert session.title == "Outlook crashes on start for the finance team"  # the mention is stripped
    lane = await bot.lane(sid)
    assert lane["conversation"]["conversation"]["id"] == chain
    texts = bot.texts(chain)
    assert any(f"Session #{sid} started" in t for t in texts)
    assert any(QUESTION in t for t in texts), texts  # the assistant's reply, sent proactively
    card = card_of(bot.current(chain, lane["activity_id"]))
    assert card is not None and QUESTION in shown_text(card)

    # Confirm the question: the assistant words the fact (a slow action), so the invoke is answered
    # at once with a line and the lane message is edited for everyone when it is done.
    bot.anthropic.push_tool_use("record_fact", {"fact": "Outlook 2021 (build 2108) is installed."})
    updates_before = len(bot.connector.updated)
    confirm = button(card, "rf_confirm_item")
    status, body = await bot.click(EVE, bot.channel(DESK, chain.split("=")[-1]), confirm, reply_to=lane["activity_id"])
    assert status == 200, body
    assert body["type"] == "application/vnd.microsoft.activity.message" and "Confirming" in body["value"], body
    await bot.settle()
    refreshed = card_of(bot.current(chain, lane["activity_id"])) or {}
    assert "P1 Outlook 2021 (build 2108) is installed." in shown_text(refreshed)  # proposed, for Eve to confirm
    status, body = await bot.click(EVE, bot.channel(DESK, chain.split("=")[-1]), button(refreshed, "rf_confirm_item"),
                                   reply_to=lane["activity_id"])
    assert status == 200, body
    await bot.settle()
    refreshed = card_of(bot.current(chain, lane["activity_id"])) or {}
    shown = shown_text(refreshed)
    assert "Outlook 2021 (build 2108) is installed." in shown.split("Questions")[0] and "P1 Outlook" not in shown
    assert not [n for n in _executes(refreshed) if n["verb"] == "rf_confirm_item"]
    edits = [u for u in bot.connector.updated[updates_before:] if u.activity_id == lane["activity_id"]]
    assert edits and card_of(edits[-1].activity) == refreshed

    # Preview the resolution: answered at once, the card arrives in the conversation.
    bot.anthropic.push_tool_use("write_note", {"markdown": note_markdown("resolve", "Outlook 2021 add-in crash.")})
    status, body = await bot.click(EVE, bot.channel(DESK, chain.split("=")[-1]), button(refreshed, "rf_preview_resolve"),
                                   reply_to=lane["activity_id"])
    assert status == 200 and body["type"] == "application/vnd.microsoft.activity.message", body
    await bot.settle()
    [(form_id, form)] = [(aid, c) for aid, c in bot.cards(chain) if "Resolution note" in shown_text(c)]
    note = next(n["value"] for n in _inputs(form) if n["id"] == "note")
    assert "Outlook 2021 add-in crash." in note

    # Post it: the form turns into a confirmation for everyone and the conversation says it, in words.
    post = button(form, "rf_resolve")
    status, body = await bot.click(EVE, bot.channel(DESK, chain.split("=")[-1]), post, reply_to=form_id,
                                   inputs={"note": note, "summary": "Disabled the crashing add-in"})
    assert status == 200 and "Posting the resolution of session #1" in body["value"], body  # slow: from the inbox
    await bot.settle()
    assert "resolved_local" not in shown_text(card_of(bot.current(chain, form_id)) or {})
    assert "resolved the session" in shown_text(card_of(bot.current(chain, form_id)) or {})
    assert any("resolved this session here (no ticket linked" in t for t in bot.texts(chain)), bot.texts(chain)
    assert not any("resolved_local" in t for t in bot.texts(chain)), bot.texts(chain)
    view = await bot.app.engine.sessions.view(actor=_actor(account), session_id=sid)
    assert view.session.status == SessionStatus.RESOLVED
    final = card_of(bot.current(chain, lane["activity_id"]))
    assert final is not None and "Resolved" in shown_text(final)
    assert not bot.slack.count("chat.postMessage")  # a Teams-only session says nothing in Slack
    assert bot.assert_cards_valid() >= 4


async def test_a_later_message_in_the_chain_is_a_turn_and_a_stray_post_is_ignored(bot: TeamsBot) -> None:
    chain = await bot.mention(EVE, "VPN drops every hour")
    await bot.settle()
    root = chain.split("=")[-1]
    bot.anthropic.push_update("Does it drop on Wi-Fi too?")
    await bot.say(EVE, bot.channel(DESK, root), "<at>ResolutionFlow</at> it drops on the wired network too")
    await bot.say(EVE, bot.channel(DESK, "1"), "lunch anyone?")  # another chain, no mention: not for us
    await bot.settle()
    account = await bot.account_of()
    assert account is not None
    [session] = await bot.app.engine.sessions.list(actor=_actor(account))
    history = await bot.app.engine.sessions.history(actor=_actor(account), session_id=session.id or 0)
    assert [s.text for s in history if s.kind == "engineer_message"] == [
        "VPN drops every hour", "it drops on the wired network too"]
    assert any("Does it drop on Wi-Fi too?" in t for t in bot.texts(chain))
    assert not bot.texts(f"{DESK};messageid=1")


async def test_help_queue_and_stats_answer_with_cards(bot: TeamsBot) -> None:
    chain = await bot.mention(EVE, "help")
    chain2 = await bot.mention(EVE, "stats 30d")
    chain3 = await bot.mention(EVE, "queue")
    await bot.settle()
    assert "ResolutionFlow" in shown_text(bot.cards(chain)[0][1])
    assert "Last 30 days" in shown_text(bot.cards(chain2)[0][1])
    assert "No escalations are awaiting pickup." in shown_text(bot.cards(chain3)[0][1])
    account = await bot.account_of()
    assert account is not None
    assert await bot.app.engine.sessions.list(actor=_actor(account)) == []  # commands start nothing
    bot.assert_cards_valid()


def _actor(account_id: int) -> Actor:
    return Actor(account_id=account_id, member_id=1)  # the tenant's first member: its owner


def _executes(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in walk(card) if n.get("type") == "Action.Execute"]


def _inputs(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in walk(card) if str(n.get("type", "")).startswith("Input.")]
