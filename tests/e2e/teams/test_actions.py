"""Teams clicks as core actions over the wire (issue 11): a question confirmed in the engineer's own
words with the assistant off (R4, R16), and a form field refused by core's declaration answered with
the form again, the error by the field (R15)."""

from __future__ import annotations

from typing import Any

from core.access import Actor
from core.deps import AssistantOff
from core.facts import MAX_FACT_CHARS
from core.models import FactSource, ItemStatus
from tests.adapters.teams.card_schema import validate_card
from tests.e2e.teams.conftest import DESK, EVE, TeamsBot, button, card_of, shown_text, walk

QUESTION = "Which Outlook version is installed?"
INVOKE_CARD = "application/vnd.microsoft.card.adaptive"


async def lane_with_a_question(bot: TeamsBot) -> tuple[dict[str, Any], str, dict[str, Any], dict[str, Any]]:
    """A session whose lane asks QUESTION, then the assistant switched off (no API key, R16)."""
    bot.anthropic.push_update(f"Let's see. {QUESTION}", questions=[QUESTION])
    chain = await bot.mention(EVE, "Outlook crashes on start")
    await bot.settle()
    bot.app.engine.deps.assistant = AssistantOff()
    lane = await bot.lane(1)
    card = card_of(bot.current(chain, lane["activity_id"]))
    assert card is not None and QUESTION in shown_text(card)
    return bot.channel(DESK, chain.split("=")[-1]), chain, lane, card


def own_words_form(card: dict[str, Any]) -> dict[str, Any]:
    [form] = [n["card"] for n in walk(card) if n.get("type") == "Action.ShowCard" and n["title"] == "Confirm in my words…"]
    return form


async def actor(bot: TeamsBot) -> Actor:
    account = await bot.account_of()
    assert account is not None
    return Actor(account_id=account, member_id=1)


async def test_a_question_confirmed_in_own_words_with_the_assistant_off(bot: TeamsBot) -> None:
    conversation, chain, lane, card = await lane_with_a_question(bot)

    # One click asks the assistant to word the fact: it is off, so the conversation says how to go on.
    status, body = await bot.click(EVE, conversation, button(card, "rf_confirm_item"), reply_to=lane["activity_id"])
    assert status == 200 and "Confirming" in body["value"], body
    await bot.settle()
    assert any("Can't write the fact for you" in t for t in bot.texts(chain)), bot.texts(chain)

    # In own words: the card's form carries the item's id and the text; no assistant is needed.
    form = own_words_form(card)
    [text_input] = [n for n in walk(form) if n.get("type") == "Input.Text"]
    assert text_input["id"] == "text" and text_input["label"] == "The fact, in your words"
    submit = button(form, "rf_confirm_item")
    status, body = await bot.click(EVE, conversation, submit, reply_to=lane["activity_id"],
                                   inputs={"text": "  Outlook 2021, build 2108, on every finance PC  "})
    assert status == 200, body
    await bot.settle()
    refreshed = card_of(bot.current(chain, lane["activity_id"])) or {}
    assert "F1 Outlook 2021, build 2108, on every finance PC" in shown_text(refreshed)
    assert not [n for n in walk(refreshed) if n.get("verb") == "rf_confirm_item"]  # nothing left to confirm
    view = await bot.app.engine.sessions.view(actor=await actor(bot), session_id=1)
    assert [(f.text, f.source) for f in view.facts] == [("Outlook 2021, build 2108, on every finance PC",
                                                         FactSource.QUESTION)]
    assert [i.status for i in view.items] == [ItemStatus.PROMOTED]
    bot.assert_cards_valid()


async def test_a_refused_field_comes_back_as_the_form_with_the_error_by_it(bot: TeamsBot) -> None:
    conversation, chain, lane, card = await lane_with_a_question(bot)
    before = (await bot.app.engine.sessions.view(actor=await actor(bot), session_id=1)).session.state_version

    # A fact longer than core allows (a client that ignores maxLength): perform refuses the field.
    add = button(card, "rf_add_fact")
    status, body = await bot.click(EVE, conversation, add, reply_to=lane["activity_id"],
                                   inputs={"text": "x" * (MAX_FACT_CHARS + 1)})
    assert status == 200 and body["type"] == INVOKE_CARD, body
    form = body["value"]
    validate_card(form)
    inputs = [n for n in form["body"] if n.get("type") == "Input.Text"]
    assert [n["id"] for n in inputs] == ["text"] and inputs[0]["value"] == "x" * (MAX_FACT_CHARS + 1)
    at = form["body"].index(inputs[0])
    error = [n for n in form["body"][at + 1:] if n.get("type") == "TextBlock" and n.get("color") == "Attention"]
    assert error and "Fact is 1,001 characters; at most 1,000." in error[0]["text"]
    resubmit = button(form, "rf_add_fact")  # the form's own submit carries the action again
    status, body = await bot.click(EVE, conversation, resubmit, reply_to=lane["activity_id"],
                                   inputs={"text": "Safe mode starts fine"})
    assert status == 200 and body["type"] == INVOKE_CARD and "F1 Safe mode starts fine" in shown_text(body["value"])

    # A slow action is validated before it is queued: an empty escalation reason is refused at once.
    status, body = await bot.click(EVE, conversation, button(card, "rf_escalate"), reply_to=lane["activity_id"],
                                   inputs={"reason": "   ", "target": "", "note": ""})
    assert status == 200 and body["type"] == INVOKE_CARD, body
    validate_card(body["value"])
    shown = shown_text(body["value"])
    assert "Escalate — session #1" in shown and "Why escalate is required." in shown

    # The Action.Submit fallback of an older client hears it as a line naming the field.
    fallback = dict(button(card, "rf_add_fact")["fallback"]["data"], text="   ")
    status, _ = await bot.post(bot.activity(EVE, conversation, value=fallback, replyToId=lane["activity_id"]))
    assert status == 202
    await bot.settle()
    assert any("Fact is required." in t for t in bot.texts(chain)), bot.texts(chain)
    after = await bot.app.engine.sessions.view(actor=await actor(bot), session_id=1)
    assert [f.text for f in after.facts] == ["Safe mode starts fine"]  # only the good submit changed anything
    assert after.session.state_version > before
    bot.assert_cards_valid()
