"""The PSA's settings and ticket search in Slack (R34, R40), end to end over signed HTTP against the
fake Slack and the fake ConnectWise: `/rf settings` pushes each PSA modal (loading first, filled
after the ack), submissions are answered in the ack (inline refusals, or the result), and the
menus that search the PSA are answered from block_suggestion requests within Slack's 3 seconds."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from adapters.slack.psa_actions import (
    BILLABLE_BLOCK,
    BY_EMAIL_BLOCK,
    MEMBER_BLOCK,
    MEMBER_SEARCH,
    OPEN_CONNECTION,
    OPEN_MEMBER,
    OPEN_STATUSES,
    OPEN_TIME,
    TICKET_SEARCH,
    TIME_ON_BLOCK,
    WORK_ROLE_BLOCK,
    WORK_TYPE_BLOCK,
    board_block,
    field_block,
)
from bot.bootstrap import build_app
from bot.secretbox import new_key
from bot.web import make_web_app
from core.access import Actor
from core.models import StatusRole
from tests.e2e.slack.conftest import CHANNEL, SECRET, TEAM, SlackBot, find_buttons, slack_settings
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import seed_demo
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_api_state import SlackError
from tests.fakes.slack_requests import SlackClient, SlackReply, block_action

CONNECT = {"site": "acme.myconnectwise.example", "company": "acme", "public_key": "pub-4f1c",
           "private_key": "PRIV-9d2e-s3cr3t", "client_id": "5b1d6a0e-client-guid"}
OTHER_TEAM = "T2"
R, E = StatusRole.RESOLVED, StatusRole.ESCALATED


class StackedSlack(FakeSlack):
    """FakeSlack plus views.push (a modal on top of the open one), checked as views.open is: a
    trigger id Slack issued, used once, within its lifetime."""

    def methods(self) -> dict[str, Any]:
        return {**super().methods(), "views.push": self._views_push}

    def _views_push(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        trigger = str(args.get("trigger_id") or "")
        if problem := (self.trigger_problem(trigger) if trigger else "invalid_trigger_id"):
            raise SlackError(problem)
        view = self._view(args, "modal", token)
        self.used_trigger_ids.add(trigger)
        return self._store_view(view, self.new_id("V"))


def block_suggestion(team: str, user: str, action_id: str, value: str, view: dict[str, Any]) -> dict[str, Any]:
    """What Slack posts to the options load URL as the person types in an external_select."""
    return {"type": "block_suggestion", "user": {"id": user, "username": user.lower(), "name": user.lower(),
                                                 "team_id": team},
            "container": {"type": "view", "view_id": view.get("id")}, "api_app_id": "A1",
            "token": "legacy-verification-token", "action_id": action_id, "block_id": "b", "value": value,
            "team": {"id": team, "domain": team.lower()}, "enterprise": None, "is_enterprise_install": False,
            "view": {**view, "state": {"values": {}}}}


@pytest.fixture
async def cw() -> AsyncIterator[FakeConnectWise]:
    async with FakeConnectWise() as fake:
        seed_demo(fake)
        fake.add_work_type(1, "Remote", default=True)
        fake.add_work_type(2, "Onsite")
        fake.add_work_role(7, "Engineer")
        fake.add_ticket(1005, "Printer toner replaced", company_id=10, board_id=1, status_id=104)  # closed
        yield fake


@pytest.fixture
async def bot(tmp_path: Path, cw: FakeConnectWise) -> AsyncIterator[SlackBot]:
    async with StackedSlack() as slack, FakeAnthropic() as anthropic:
        slack.add_user("UDANA", "Dana", email="dana@acme.example", is_admin=True)
        slack.add_user("USAM", "Sam", email="sam@acme.example")
        slack.add_user("UJOHN", "John Doe", email="jdoe@acme.example")
        slack.add_user("UOTHER", "Olga", email="olga@globex.example", is_admin=True, team_id=OTHER_TEAM)
        slack.add_channel(CHANNEL, "helpdesk")
        settings = slack_settings(tmp_path, slack, anthropic, RF_CW_API_URL=cw.base_url, RF_SECRET_KEY=new_key(),
                                  RF_PSA_TIMEOUT=3)
        app = await build_app(settings, platforms=True)
        server = TestServer(make_web_app(app))
        await server.start_server()
        base_url = str(server.make_url(""))
        try:
            async with SlackClient(base_url, SECRET) as client:
                yield SlackBot(app=app, slack=slack, anthropic=anthropic, client=client, base_url=base_url,
                               settings=settings)
        finally:
            await server.close()
            await app.close()


async def actor(bot: SlackBot, user: str, team: str = TEAM) -> Actor:
    assert bot.app.slack is not None
    return (await bot.app.slack.surface.sign_in(team, user)).actor


async def connect(bot: SlackBot) -> None:
    result = await bot.app.engine.psa.configure(actor=await actor(bot, "UDANA"), values=dict(CONNECT))
    assert result.report.ok, result.report


async def settings_view(bot: SlackBot, user: str) -> dict[str, Any]:
    await bot.command(user, "settings")
    await bot.settle()
    view = bot.last_view()
    assert view["callback_id"] == "rf_settings", view
    return view


async def press_in(bot: SlackBot, user: str, view: dict[str, Any], action_id: str) -> SlackReply:
    """A button inside a modal: Slack sends the view along and a fresh trigger id."""
    [button] = find_buttons(view["blocks"], action_id)
    reply = await bot.client.post_interaction(block_action(TEAM, user, button["action_id"], button.get("value", ""),
                                                           view=view, trigger_id=bot.slack.trigger_id()))
    assert reply.status == 200, reply.body
    return reply


async def open_psa_modal(bot: SlackBot, user: str, button: str) -> dict[str, Any]:
    root = await settings_view(bot, user)
    await press_in(bot, user, root, button)
    await bot.settle()
    [push] = [c for c in bot.slack.all_calls if c.method == "views.push"][-1:]
    assert push.response and push.response["ok"], push.response
    assert "Preparing" in json.dumps(push.args["view"]), push.args  # the loading view came first
    return bot.slack.views[push.response["view"]["id"]]


def answer(reply: SlackReply) -> dict[str, Any]:
    assert reply.status == 200 and reply.elapsed < 3, reply
    return dict(reply.json())


def element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    [found] = [b["element"] for b in view["blocks"] if b.get("block_id") == block_id]
    return found


def option_texts(element_: dict[str, Any]) -> list[str]:
    return [o["text"]["text"] for o in element_["options"]]


async def test_the_connection_is_saved_tested_and_its_secret_never_shown(bot: SlackBot, cw: FakeConnectWise) -> None:
    root = await settings_view(bot, "UDANA")
    assert "Not connected yet" in json.dumps(root) and find_buttons(root["blocks"], OPEN_STATUSES)
    view = await open_psa_modal(bot, "UDANA", OPEN_CONNECTION)
    assert view["callback_id"] == "rf_psa_connection"
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [
        field_block(f) for f in ("site", "company", "public_key", "private_key", "client_id", "codebase")]

    missing = answer(await bot.submit("UDANA", view, {field_block(k): v for k, v in CONNECT.items() if k != "site"}))
    assert missing["response_action"] == "errors" and "site" in missing["errors"][field_block("site")], missing
    wrong = answer(await bot.submit("UDANA", view, {**{field_block(k): v for k, v in CONNECT.items()},
                                                    field_block("private_key"): "not-the-key"}))
    assert wrong["response_action"] == "update" and ":warning:" in json.dumps(wrong["view"]), wrong
    fixed = answer(await bot.submit("UDANA", view, {field_block(k): v for k, v in CONNECT.items()}))
    assert fixed["response_action"] == "update", fixed
    assert "ConnectWise answered: the connection works" in json.dumps(fixed["view"]), fixed

    again = await open_psa_modal(bot, "UDANA", OPEN_CONNECTION)
    assert element(again, field_block("site"))["initial_value"] == CONNECT["site"]
    assert "initial_value" not in element(again, field_block("private_key"))
    kept = answer(await bot.submit("UDANA", again))  # the secret's box left empty: the stored key is kept
    assert "the connection works" in json.dumps(kept["view"]), kept
    assert all(CONNECT["private_key"] not in json.dumps(call.args) for call in bot.slack.all_calls)


async def test_a_save_slower_than_the_ack_shows_that_it_works_then_the_result(bot: SlackBot, cw: FakeConnectWise) -> None:
    view = await open_psa_modal(bot, "UDANA", OPEN_CONNECTION)
    cw.slow_next(1, 2.5)  # the connection test's first call outlasts what the ack may wait
    working = answer(await bot.submit("UDANA", view, {field_block(k): v for k, v in CONNECT.items()}))
    assert working["response_action"] == "update" and "Saving and asking ConnectWise" in json.dumps(working)
    await bot.settle()
    assert "the connection works" in json.dumps(bot.slack.views[view["id"]]), bot.slack.views[view["id"]]


async def test_the_statuses_modal_loads_after_the_ack_and_lists_each_boards_own_statuses(
        bot: SlackBot, cw: FakeConnectWise) -> None:
    await connect(bot)
    root = await settings_view(bot, "UDANA")
    assert "Connected." in json.dumps(root)
    cw.slow_next(1, 1.0)  # the boards take a second to read
    pushes, updates = bot.slack.count("views.push"), bot.slack.count("views.update")
    reply = await press_in(bot, "UDANA", root, OPEN_STATUSES)
    assert reply.elapsed < 0.9, reply  # acknowledged before the PSA was read
    await bot.settle()
    assert bot.slack.count("views.push") == pushes + 1 and bot.slack.count("views.update") == updates + 1
    pushed, filled = bot.slack.calls("views.push")[-1], bot.slack.calls("views.update")[-1]
    assert "Preparing" in json.dumps(pushed["view"])
    view = bot.slack.views[filled["view_id"]]
    assert view["callback_id"] == "rf_psa_statuses", view
    assert option_texts(element(view, board_block(1, R))) == ["Don't change", "New", "In Progress", "Escalated",
                                                              "Resolved (closes)"]
    assert option_texts(element(view, board_block(2, E))) == ["Don't change", "Planned", "Done (closes)"]
    assert element(view, board_block(1, R))["initial_option"]["value"] == "none"


async def test_a_status_of_another_board_is_refused_inline_and_the_boards_own_is_saved(
        bot: SlackBot, cw: FakeConnectWise) -> None:
    await connect(bot)
    view = await open_psa_modal(bot, "UDANA", OPEN_STATUSES)
    dana = await actor(bot, "UDANA")
    refused = answer(await bot.submit("UDANA", view, {board_block(1, R): "202"}))  # Projects' "Done"
    assert refused["response_action"] == "errors", refused
    assert list(refused["errors"]) == [board_block(1, R)] and "another board" in refused["errors"][board_block(1, R)]
    assert (await bot.app.engine.psa_settings.overview(actor=dana)).board_statuses == []

    saved = answer(await bot.submit("UDANA", view, {board_block(1, R): "104", board_block(1, E): "103"}))
    assert saved["response_action"] == "update", saved
    shown = json.dumps(saved["view"])
    assert "Help Desk" in shown and "Resolved (closes)" in shown and "Projects" not in shown
    chosen = {(s.board_id, s.role): s.status_id
              for s in (await bot.app.engine.psa_settings.overview(actor=dana)).board_statuses}
    assert chosen == {(1, R): 104, (1, E): 103}
    again = await open_psa_modal(bot, "UDANA", OPEN_STATUSES)
    assert element(again, board_block(1, R))["initial_option"]["text"]["text"] == "Resolved (closes)"


async def test_time_entry_settings_are_saved_from_the_psa_s_own_lists(bot: SlackBot, cw: FakeConnectWise) -> None:
    await connect(bot)
    view = await open_psa_modal(bot, "UDANA", OPEN_TIME)
    assert option_texts(element(view, WORK_TYPE_BLOCK)) == ["ConnectWise's default", "Onsite",
                                                            "Remote (ConnectWise default)"]
    assert option_texts(element(view, BILLABLE_BLOCK)) == ["Billable", "Do not bill", "No charge",
                                                           "As the work type says"]
    saved = answer(await bot.submit("UDANA", view, {TIME_ON_BLOCK: "on", WORK_TYPE_BLOCK: "2", WORK_ROLE_BLOCK: "7",
                                                    BILLABLE_BLOCK: "do_not_bill"}))
    assert saved["response_action"] == "update", saved
    assert "Time entries are *on*; work type Onsite, work role Engineer, billing: Do not bill" in json.dumps(saved)
    t = (await bot.app.engine.psa_settings.overview(actor=await actor(bot, "UDANA"))).time
    assert (t.enabled, t.work_type_id, t.work_role_id, t.billable.value) == (True, 2, 7, "do_not_bill")
    unknown = answer(await bot.submit("UDANA", view, {WORK_TYPE_BLOCK: "99"}))
    assert unknown["response_action"] == "errors" and list(unknown["errors"]) == [WORK_TYPE_BLOCK], unknown


async def test_an_engineer_matches_their_member_by_search_or_by_email(bot: SlackBot, cw: FakeConnectWise) -> None:
    await connect(bot)
    root = await settings_view(bot, "USAM")  # not an admin: only their own member
    assert [b["action_id"] for b in find_buttons(root["blocks"], OPEN_MEMBER)] == [OPEN_MEMBER]
    assert not find_buttons(root["blocks"], OPEN_CONNECTION) and "submit" not in root
    view = await open_psa_modal(bot, "USAM", OPEN_MEMBER)
    assert view["callback_id"] == "rf_psa_member" and "not matched" in json.dumps(view)

    by_email = answer(await bot.submit("USAM", view, {BY_EMAIL_BLOCK: "email"}))
    assert by_email["response_action"] == "errors" and "sam@acme.example" in by_email["errors"][BY_EMAIL_BLOCK]
    nothing = answer(await bot.submit("USAM", view))
    assert list(nothing["errors"]) == [MEMBER_BLOCK], nothing

    found = answer(await bot.client.post_interaction(block_suggestion(TEAM, "USAM", MEMBER_SEARCH, "ann", view)))
    assert found == {"options": [{"text": {"type": "plain_text", "text": "Ann Smith (asmith)"}, "value": "502"}]}
    everyone = answer(await bot.client.post_interaction(block_suggestion(TEAM, "USAM", MEMBER_SEARCH, "", view)))
    assert [o["value"] for o in everyone["options"]] == ["501", "502", "503"]  # the inactive member is not offered
    matched = answer(await bot.submit("USAM", view, {MEMBER_BLOCK: "502"}))
    assert matched["response_action"] == "update" and "*Ann Smith* (chosen by you)" in json.dumps(matched), matched
    me = (await bot.app.engine.psa_settings.overview(actor=await actor(bot, "USAM"))).me
    assert me is not None and (me.psa_member_id, me.matched_by) == (502, "chosen")

    john = await open_psa_modal(bot, "UJOHN", OPEN_MEMBER)
    by_mail = answer(await bot.submit("UJOHN", john, {BY_EMAIL_BLOCK: "email"}))
    assert "*John Doe* (matched by e-mail)" in json.dumps(by_mail), by_mail


async def test_the_link_form_searches_open_tickets_of_the_callers_account_only(bot: SlackBot, cw: FakeConnectWise) -> None:
    await connect(bot)
    bot.anthropic.push_update("Let's look at the printer.")
    await bot.mention("UDANA", "Printer offline in accounting")
    await bot.settle()
    await bot.load_lane_ref(1)
    await bot.click("UDANA", "rf_link_ticket", 1)
    await bot.settle()
    form = bot.last_view()
    assert form["callback_id"] == "rf_link_ticket" and element(form, "ticket")["action_id"] == TICKET_SEARCH

    printers = answer(await bot.client.post_interaction(block_suggestion(TEAM, "UDANA", TICKET_SEARCH, "printer", form)))
    labels = {o["value"]: o["text"]["text"] for o in printers["options"]}
    assert labels == {"1001": "#1001 Printer offline in accounting — Contoso",
                      "1003": "#1003 Printer jam on 2nd floor — Fabrikam",
                      "2001": "#2001 Printer fleet refresh — Contoso"}  # 1005 is closed
    by_number = answer(await bot.client.post_interaction(block_suggestion(TEAM, "UDANA", TICKET_SEARCH, "1002", form)))
    assert by_number["options"][0]["value"] == "1002"
    closed = answer(await bot.client.post_interaction(block_suggestion(TEAM, "UDANA", TICKET_SEARCH, "#1005", form)))
    assert all(o["value"] != "1005" for o in closed["options"]), closed

    asked = len(cw.requests)
    elsewhere = answer(await bot.client.post_interaction(block_suggestion(OTHER_TEAM, "UOTHER", TICKET_SEARCH,
                                                                          "printer", form)))
    assert elsewhere == {"options": []} and len(cw.requests) == asked  # another account: not this PSA's tickets

    linked = await bot.submit("UDANA", form, {"ticket": "1001"})  # the option's value: the ticket number
    assert linked.status == 200 and not linked.body.strip(), linked.body
    await bot.settle()
    session = await bot.app.engine.sessions.view(actor=await actor(bot, "UDANA"), session_id=1)
    assert session.session.ticket_ref == "1001"


async def test_a_block_suggestion_with_a_bad_signature_is_refused(bot: SlackBot, cw: FakeConnectWise) -> None:
    await connect(bot)
    view = {"id": "V1", "callback_id": "rf_link_ticket", "type": "modal", "private_metadata": '{"s":1}'}
    asked = len(cw.requests)
    forged = await bot.client.post_interaction(block_suggestion(TEAM, "UDANA", TICKET_SEARCH, "printer", view),
                                               bad_signature=True)
    stale = await bot.client.post_interaction(block_suggestion(TEAM, "UDANA", TICKET_SEARCH, "printer", view),
                                              timestamp=int(time.time()) - 600)
    assert (forged.status, stale.status) == (401, 401) and "options" not in forged.body + stale.body
    assert len(cw.requests) == asked
    signed = await bot.client.post_interaction(block_suggestion(TEAM, "UDANA", TICKET_SEARCH, "printer", view))
    assert signed.status == 200 and signed.json()["options"]


def test_trigger_ids_of_pushed_views_are_single_use() -> None:
    """The fake's views.push refuses what Slack refuses, so a test cannot pass on a reused trigger."""
    slack = StackedSlack()
    trigger = slack.trigger_id()
    view = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}
    assert slack._views_push({"trigger_id": trigger, "view": view}, "xoxb-test")["ok"]
    with pytest.raises(SlackError):
        slack._views_push({"trigger_id": trigger, "view": view}, "xoxb-test")
    with pytest.raises(SlackError):
        slack._views_push({"trigger_id": "", "view": view}, "xoxb-test")
