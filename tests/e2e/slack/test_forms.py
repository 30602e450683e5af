"""Forms over the real endpoint (issue 11): confirming a question in one's own words (R4), with
the assistant off too (R16), and core's validation coming back as Slack's inline errors (R15)."""

from __future__ import annotations

from core.deps import AssistantOff
from tests.e2e.slack.conftest import SlackBot, find_buttons


async def session_with_a_question(bot: SlackBot) -> None:
    bot.anthropic.push_update("Is it every printer?", questions=["Is it every printer on the floor?"])
    await bot.mention("UDANA", "Print jobs stuck in the queue")
    await bot.settle()
    await bot.load_lane_ref(1)


async def test_confirm_in_my_words_works_with_the_assistant_off(slack_bot: SlackBot) -> None:
    bot = slack_bot
    await session_with_a_question(bot)
    bot.app.engine.deps.assistant = AssistantOff()
    lane = bot.lane_blocks(1)
    assert find_buttons(lane, "rf_confirm_item") and find_buttons(lane, "rf_confirm_item_form")

    await bot.click("UDANA", "rf_confirm_item", 1)  # the assistant can't word it: a clear refusal, nothing stored
    await bot.settle()
    refusal = [e["text"] for e in bot.slack.ephemerals if e["user"] == "UDANA"]
    assert refusal and "Can't write the fact for you" in refusal[-1], refusal
    assert "/promote" not in refusal[-1] and "F1" not in str(bot.lane_blocks(1))

    opens = bot.slack.count("views.open")
    await bot.click("UDANA", "rf_confirm_item_form", 1)
    await bot.settle()
    assert bot.slack.count("views.open") == opens + 1
    form = bot.last_view()
    assert form["callback_id"] == "rf_confirm_item" and form["title"]["text"] == "Confirm as a fact", form
    reply = await bot.submit("UDANA", form, {"text": "Every printer on floor 2, none elsewhere"})
    assert reply.status == 200 and not reply.body.strip(), reply.body
    await bot.settle()
    lane_text = str(bot.lane_blocks(1))
    assert "F1 Every printer on floor 2, none elsewhere" in lane_text, lane_text
    assert not find_buttons(bot.lane_blocks(1), "rf_confirm_item_form")  # the question is answered
    view = await bot.app.engine.sessions.view_for_surface(account_id=1, session_id=1)
    assert [f.text for f in view.facts] == ["Every printer on floor 2, none elsewhere"]


async def test_a_field_core_refuses_comes_back_as_slack_errors_on_its_block(slack_bot: SlackBot) -> None:
    bot = slack_bot
    await session_with_a_question(bot)
    await bot.click("UDANA", "rf_confirm_item_form", 1)
    await bot.settle()
    too_long = await bot.submit("UDANA", bot.last_view(), {"text": "x" * 1001})
    assert too_long.status == 200 and too_long.json()["response_action"] == "errors", too_long.body
    assert list(too_long.json()["errors"]) == ["text"] and "1,001" in too_long.json()["errors"]["text"]

    await bot.click("UDANA", "rf_escalate", 1)
    await bot.settle()
    form = bot.last_view()
    assert form["callback_id"] == "rf_escalate", form
    empty = await bot.submit("UDANA", form, {"reason": "  "})
    assert empty.json()["response_action"] == "errors" and list(empty.json()["errors"]) == ["reason"], empty.body
    await bot.settle()
    view = await bot.app.engine.sessions.view_for_surface(account_id=1, session_id=1)
    assert str(view.session.status) == "active" and view.facts == []  # nothing was stored
