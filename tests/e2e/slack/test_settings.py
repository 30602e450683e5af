"""`/rf settings` sets the account's time zone (dates in notes are written in it): a name core
refuses is answered inline in the modal and nothing is saved; an accepted one is stored as the time
zone database spells it."""

from __future__ import annotations

import json

from tests.e2e.slack.conftest import TEAM, SlackBot


async def test_the_time_zone_is_checked_in_the_modal_and_stored_canonically(slack_bot: SlackBot) -> None:
    bot = slack_bot
    await bot.command("UDANA", "settings")
    await bot.settle()
    settings = bot.last_view()
    assert settings["callback_id"] == "rf_settings", settings
    refused = await bot.submit("UDANA", settings, {"time_zone": "Mars/Olympus"})
    assert refused.status == 200
    body = json.loads(refused.body)
    assert body["response_action"] == "errors" and "Mars/Olympus" in body["errors"]["time_zone"], body
    assert bot.app.slack is not None
    dana = (await bot.app.slack.surface.sign_in(TEAM, "UDANA")).actor
    assert (await bot.app.engine.accounts.preferences(actor=dana))["time_zone"] == "UTC"
    accepted = await bot.submit("UDANA", settings, {"time_zone": "europe/amsterdam"})
    assert accepted.status == 200 and not accepted.body.strip(), accepted.body
    await bot.settle()
    assert (await bot.app.engine.accounts.preferences(actor=dana))["time_zone"] == "Europe/Amsterdam"
