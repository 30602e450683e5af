"""The PSA settings card and the typeahead searches in Teams (R34, R40), over /api/messages with
signed tokens against the fake ConnectWise: the card connects the PSA and lists each board's own
statuses, a status of another board is refused by its board, time-entry settings are saved, the
open tickets of the caller's own account are searched (and linked from the Link a ticket form), the
PSA's members are searched for My member, and a search without a valid token is 401."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.secretbox import new_key
from core.access import Actor
from core.models import StatusRole
from core.psa import BillableOption
from tests.adapters.teams.card_schema import validate_card
from tests.e2e.teams.conftest import (
    APP_ID,
    DESK,
    EVE,
    SAM_T,
    TENANT,
    TeamsBot,
    TeamsUser,
    button,
    card_of,
    running_bot,
    shown_text,
    walk,
)
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import credentials_for, seed_demo

CARD = "application/vnd.microsoft.card.adaptive"
SEARCH_RESPONSE = "application/vnd.microsoft.search.searchResponse"
ERROR = "application/vnd.microsoft.error"
OTHER_TENANT = "22222222-3333-4444-5555-666666666666"
OLGA = TeamsUser("29:olga", "Olga", "olga@other.example", "aad-olga", tenant=OTHER_TENANT)
OTHER_DESK = "19:other-desk@thread.tacv2"
ROOT = "1900000000001"


@pytest.fixture
async def cw() -> AsyncIterator[FakeConnectWise]:
    async with FakeConnectWise() as fake:
        seed_demo(fake)
        fake.add_ticket(1005, "Printer toner replaced", company_id=10, board_id=1, status_id=104)  # closed
        fake.add_work_type(31, "Remote support", default=True)
        fake.add_work_type(32, "Onsite")
        fake.add_work_role(41, "Engineer")
        fake.add_work_role(42, "Senior engineer")
        yield fake


@pytest.fixture
async def bot(tmp_path: Path, cw: FakeConnectWise) -> AsyncIterator[TeamsBot]:
    async with running_bot(tmp_path, RF_CW_API_URL=cw.base_url, RF_SECRET_KEY=new_key(), RF_PSA_TIMEOUT=3) as running:
        yield running


def connection_inputs(cw: FakeConnectWise) -> dict[str, str]:
    """The connection form as an admin fills it in: each field of the fixture's credentials."""
    credentials = credentials_for(cw.api_keys[0])
    return {f"psa_{k}": v for k, v in {**credentials.settings, **credentials.secrets}.items()}


def settings_button(card: dict[str, Any], verb: str) -> dict[str, Any]:
    found = [n for n in walk(card) if n.get("type") == "Action.Execute" and n.get("verb") == verb]
    assert found, f"no {verb} button in the card: {shown_text(card)}"
    return found[0]


def inputs_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in walk(card) if str(n.get("type", "")).startswith("Input.")}


def board_container(card: dict[str, Any], board: str) -> dict[str, Any]:
    [found] = [n for n in walk(card) if n.get("type") == "Container"
               and any(b.get("type") == "TextBlock" and b.get("text") == f"**{board}**" for b in n["items"])]
    return found


async def settings_card(bot: TeamsBot, user: TeamsUser = EVE) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """`@ResolutionFlow settings` in the desk channel: (the conversation, the chain id, the card)."""
    chain = await bot.mention(user, "settings", root=ROOT)
    await bot.settle()
    [(activity_id, card)] = [(i, c) for i, c in bot.cards(chain) if "settings" in shown_text(c)][-1:]
    validate_card(card)
    return bot.channel(DESK, ROOT), activity_id, card


async def owner(bot: TeamsBot, tenant: str = TENANT) -> Actor:
    account = await bot.account_of(tenant=tenant)
    assert account is not None
    async with bot.app.engine.deps.uow_factory() as uow:
        members = await uow.members.list(account_id=account, active_only=False)
    [first] = [m for m in members if str(m.role) == "owner"]
    return Actor(account_id=account, member_id=first.id or 0)


async def connected(bot: TeamsBot, cw: FakeConnectWise) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The settings card, connected from its own Connection form; the answer is the card refreshed."""
    conversation, activity_id, card = await settings_card(bot)
    status, body = await bot.click(EVE, conversation, settings_button(card, "rfs_connection"), reply_to=activity_id,
                                   inputs=connection_inputs(cw))
    assert status == 200 and body["type"] == CARD, body
    validate_card(body["value"])
    return conversation, activity_id, body["value"]


async def test_the_card_connects_the_psa_and_lists_each_boards_own_statuses(bot: TeamsBot, cw: FakeConnectWise) -> None:
    conversation, activity_id, card = await settings_card(bot)
    shown = shown_text(card)
    assert "ConnectWise settings" in shown and "Not connected yet" in shown and "Connect ConnectWise first." in shown
    # First setup: every required field is required by the form itself; nothing is filled in.
    fields = bot.app.engine.deps.psa.fields if bot.app.engine.deps.psa else ()
    inputs = inputs_of(card)
    for f in fields:
        element = inputs[f"psa_{f.name}"]
        assert element["type"] == "Input.Text" and "value" not in element
        assert element.get("isRequired", False) == f.required

    # A refusal (a required key left out) is shown on the card, by the connection; the keys typed stay.
    partial = {k: v for k, v in connection_inputs(cw).items() if k != "psa_client_id"}
    status, body = await bot.click(EVE, conversation, settings_button(card, "rfs_connection"), reply_to=activity_id,
                                   inputs=partial)
    assert status == 200 and body["type"] == CARD, body
    refused = body["value"]
    assert "Also give client_id to connect ConnectWise." in shown_text(refused), shown_text(refused)
    assert "under **Connection** on the settings card" in shown_text(refused)
    assert inputs_of(refused)["psa_site"]["value"] == partial["psa_site"]
    assert "PRIV-9d2e-s3cr3t" not in json.dumps(refused)  # a typed secret is never sent back

    _, _, card = await connected(bot, cw)
    shown = shown_text(card)
    assert "✓ ConnectWise answered: the connection works" in shown, shown
    assert "PRIV-9d2e-s3cr3t" not in json.dumps(card)
    key = inputs_of(card)["psa_private_key"]
    assert "value" not in key and key["placeholder"].startswith("Stored")
    assert not any(n.get("isRequired") for n in inputs_of(card).values() if n["id"].startswith("psa_"))

    # Each board's two menus offer that board's own statuses (closed ones marked) and "Don't change".
    for role in ("resolved", "escalated"):
        assert [c["title"] for c in inputs_of(card)[f"board_1_{role}"]["choices"]] == [
            "Don't change the status", "New", "In Progress", "Escalated", "Resolved (closes the ticket)"]
        assert [c["title"] for c in inputs_of(card)[f"board_2_{role}"]["choices"]] == [
            "Don't change the status", "Planned", "Done (closes the ticket)"]
        assert inputs_of(card)[f"board_1_{role}"]["value"] == "none"
    assert "Help Desk" in shown and "Projects" in shown
    assert bot.assert_cards_valid() >= 1


async def test_a_status_of_another_board_is_refused_by_its_board(bot: TeamsBot, cw: FakeConnectWise) -> None:
    conversation, activity_id, card = await connected(bot, cw)
    save = settings_button(card, "rfs_statuses")
    # A forged submit: Help Desk given Projects' "Done"; Projects its own "Done".
    status, body = await bot.click(EVE, conversation, save, reply_to=activity_id, inputs={
        "board_1_resolved": "202", "board_1_escalated": "103", "board_2_resolved": "202", "board_2_escalated": "none"})
    assert status == 200 and body["type"] == CARD, body
    card = body["value"]
    validate_card(card)
    help_desk, projects = board_container(card, "Help Desk"), board_container(card, "Projects")
    [error] = [b for b in help_desk["items"] if b.get("color") == "Attention"]
    assert error["text"] == ("Status 202 is not a status of the board 'Help Desk'; choose one of its own. "
                             "Its menus on the settings card offer only the board's own statuses.")
    assert any(b.get("text") == "Saved." and b.get("color") == "Good" for b in projects["items"])
    assert inputs_of(card)["board_2_resolved"]["value"] == "202" and inputs_of(card)["board_1_resolved"]["value"] == "none"
    overview = await bot.app.engine.psa_settings.overview(actor=await owner(bot))
    assert [(s.board_id, s.role, s.status_id) for s in overview.board_statuses] == [(2, StatusRole.RESOLVED, 202)]

    # Saved again unchanged: nothing is sent to core, and the card says so.
    status, body = await bot.click(EVE, conversation, save, reply_to=activity_id,
                                   inputs={k: str(v["value"]) for k, v in inputs_of(card).items() if k.startswith("board_")})
    assert "Nothing changed." in shown_text(body["value"])

    # An engineer sees the card, but core refuses the change, and the card says so.
    await bot.say(SAM_T, bot.channel(DESK, "1900000000777"), "hello")
    await bot.settle()
    status, body = await bot.click(SAM_T, conversation, save, reply_to=activity_id,
                                   inputs={"board_1_resolved": "104", "board_2_resolved": "202"})
    assert status == 200 and "Admin access required." in shown_text(body["value"])
    overview = await bot.app.engine.psa_settings.overview(actor=await owner(bot))
    assert [(s.board_id, s.status_id) for s in overview.board_statuses] == [(2, 202)]
    assert bot.assert_cards_valid() >= 1


async def test_time_entry_settings_are_saved_from_the_card(bot: TeamsBot, cw: FakeConnectWise) -> None:
    conversation, activity_id, card = await connected(bot, cw)
    inputs = inputs_of(card)
    assert inputs["time_enabled"]["value"] == "false"
    assert [c["title"] for c in inputs["time_work_type"]["choices"]] == [
        "Not set: ConnectWise decides", "Onsite", "Remote support (ConnectWise's default)"]  # as ConnectWise lists them
    assert {c["value"] for c in inputs["time_work_role"]["choices"]} == {"none", "41", "42"}
    assert {c["value"] for c in inputs["time_billable"]["choices"]} == {o.value for o in BillableOption}

    save = settings_button(card, "rfs_time")
    status, body = await bot.click(EVE, conversation, save, reply_to=activity_id, inputs={
        "time_enabled": "true", "time_work_type": "32", "time_work_role": "41", "time_billable": "do_not_bill"})
    assert status == 200 and body["type"] == CARD, body
    card = body["value"]
    validate_card(card)
    assert "Saved." in shown_text(card)
    inputs = inputs_of(card)
    assert (inputs["time_enabled"]["value"], inputs["time_work_type"]["value"], inputs["time_work_role"]["value"],
            inputs["time_billable"]["value"]) == ("true", "32", "41", "do_not_bill")
    time = (await bot.app.engine.psa_settings.overview(actor=await owner(bot))).time
    assert (time.enabled, time.work_type_id, time.work_type_name, time.work_role_id, time.billable) == (
        True, 32, "Onsite", 41, BillableOption.DO_NOT_BILL)

    # A work type ConnectWise does not have is refused on the card, in Teams' words; nothing changes.
    status, body = await bot.click(EVE, conversation, save, reply_to=activity_id, inputs={"time_work_type": "999"})
    assert "999 is not a work type in ConnectWise. Choose one from the **Work type** menu" in shown_text(body["value"])
    assert (await bot.app.engine.psa_settings.overview(actor=await owner(bot))).time.work_type_id == 32


async def test_ticket_search_offers_open_tickets_of_the_callers_account(bot: TeamsBot, cw: FakeConnectWise) -> None:
    conversation, _, _ = await connected(bot, cw)
    status, body = await bot.search(EVE, conversation, "tickets", "printer")
    assert status == 200 and body["type"] == SEARCH_RESPONSE, body
    results = body["value"]["results"]
    assert {r["value"] for r in results} == {"1001", "1003", "2001"}  # 1005 is closed
    assert {"title": "#1001 Printer offline in accounting — Contoso", "value": "1001"} in results
    status, body = await bot.search(EVE, conversation, "tickets", "#1002")
    assert body["value"]["results"][0] == {"title": "#1002 VPN drops every hour — Contoso", "value": "1002"}
    status, body = await bot.search(EVE, conversation, "tickets", "1005")
    assert "1005" not in [r["value"] for r in body["value"]["results"]]  # a closed ticket, even by number
    status, body = await bot.search(EVE, conversation, "tickets", "printer", skip=1, top=1)
    assert len(body["value"]["results"]) == 1 and body["value"]["results"][0]["value"] in {"1001", "1003", "2001"}

    # Another tenant's account has no PSA: it is told so, and sees none of these tickets.
    status, body = await bot.search(OLGA, bot.channel(OTHER_DESK, "1900000000555", OTHER_TENANT), "tickets", "printer")
    assert status == 400 and body["type"] == ERROR, body
    assert body["value"]["code"] == "psa.not_configured"
    assert "an admin connects it under **Connection** on the settings card" in body["value"]["message"]
    assert "1001" not in json.dumps(body)

    # An unknown dataset and a malformed value are answered as bad requests, not failures.
    status, body = await bot.search(EVE, conversation, "passwords", "x")
    assert status == 400 and body["type"] == ERROR and body["value"]["code"] == "BadRequest", body
    status, body = await bot.post(bot.activity(EVE, conversation, type="invoke", name="application/search", value=[1]))
    assert status == 400 and body["value"]["code"] == "BadRequest", body


async def test_the_link_form_links_the_ticket_chosen_in_its_search(bot: TeamsBot, cw: FakeConnectWise) -> None:
    await connected(bot, cw)
    bot.anthropic.push_update("Let's look at the printer.")
    chain = await bot.mention(EVE, "Printer offline in accounting")
    await bot.settle()
    lane = await bot.lane(1)
    card = card_of(bot.current(chain, lane["activity_id"]))
    assert card is not None
    [form] = [n["card"] for n in walk(card) if n.get("type") == "Action.ShowCard" and n["title"] == "Link a ticket"]
    [picker] = [n for n in walk(form) if n.get("id") == "ticket"]
    assert picker["type"] == "Input.ChoiceSet" and picker["choices.data"] == {"type": "Data.Query", "dataset": "tickets"}
    assert picker["isRequired"] and picker["style"] == "filtered"
    conversation = bot.channel(DESK, chain.split("=")[-1])
    _, found = await bot.search(EVE, conversation, "tickets", "offline")
    [chosen] = found["value"]["results"]
    status, body = await bot.click(EVE, conversation, button(form, "rf_link_ticket"), reply_to=lane["activity_id"],
                                   inputs={"ticket": chosen["value"]})
    assert status == 200, body
    await bot.settle()
    lane_now = card_of(bot.current(chain, lane["activity_id"])) or {}
    assert "ticket #1001 Printer offline in accounting" in shown_text(lane_now), shown_text(lane_now)
    bot.assert_cards_valid()


async def test_members_are_searched_for_my_member(bot: TeamsBot, cw: FakeConnectWise) -> None:
    conversation, activity_id, card = await connected(bot, cw)
    [picker] = [n for n in walk(card) if n.get("id") == "me_member"]
    assert picker["choices.data"] == {"type": "Data.Query", "dataset": "members"} and picker["choices"] == []
    status, body = await bot.search(EVE, conversation, "members", "ann")
    assert status == 200 and body["value"]["results"] == [{"title": "Ann Smith (asmith)", "value": "502"}], body
    _, everyone = await bot.search(EVE, conversation, "members", "")
    assert [r["value"] for r in everyone["value"]["results"]] == ["501", "502", "503"]  # 504 is inactive

    status, body = await bot.click(EVE, conversation, settings_button(card, "rfs_me"), reply_to=activity_id,
                                   inputs={"me_member": "502"})
    assert status == 200 and body["type"] == CARD, body
    card = body["value"]
    validate_card(card)
    assert "You are **Ann Smith** in ConnectWise (chosen by you)." in shown_text(card)
    [picker] = [n for n in walk(card) if n.get("id") == "me_member"]
    assert picker["value"] == "502" and picker["choices"] == [{"title": "Ann Smith", "value": "502"}]
    me = (await bot.app.engine.psa_settings.overview(actor=await owner(bot))).me
    assert me is not None and (me.psa_member_id, me.matched_by) == (502, "chosen")

    # By e-mail: Eve's address is no ConnectWise member's; the card says what to do, in Teams' words.
    status, body = await bot.click(EVE, conversation, settings_button(card, "rfs_me_email"), reply_to=activity_id)
    assert "No single PSA member has the e-mail address eve@contoso.example" in shown_text(body["value"])
    assert "**My member** on the settings card" in shown_text(body["value"])


async def test_the_help_card_opens_the_settings_card(bot: TeamsBot, cw: FakeConnectWise) -> None:
    chain = await bot.mention(EVE, "help", root=ROOT)
    await bot.settle()
    [(activity_id, help_card)] = bot.cards(chain)
    status, body = await bot.click(EVE, bot.channel(DESK, ROOT), settings_button(help_card, "rfs_open"),
                                   reply_to=activity_id)
    assert status == 200 and body["type"] == CARD and "ConnectWise settings" in shown_text(body["value"]), body
    validate_card(body["value"])
    # An older client's Action.Submit fallback of the same button posts the card as a message.
    fallback = settings_button(help_card, "rfs_open")["fallback"]["data"]
    status, _ = await bot.post(bot.activity(EVE, bot.channel(DESK, ROOT), value=fallback, replyToId=activity_id))
    assert status == 202
    await bot.settle()
    assert any("ConnectWise settings" in shown_text(c) for _, c in bot.cards(chain)[1:])


BAD = {
    "no token": lambda bot: None,
    "wrong audience": lambda bot: bot.issuer.make_token("another-bot", serviceurl=bot.connector.base_url),
    "expired": lambda bot: bot.issuer.make_token(APP_ID, exp_in=-400, serviceurl=bot.connector.base_url),
    "unknown key": lambda bot: bot.issuer.foreign_token(APP_ID, serviceurl=bot.connector.base_url),
    "forged": lambda bot: bot.issuer.forged_token(APP_ID, serviceurl=bot.connector.base_url),
}


@pytest.mark.parametrize("case", sorted(BAD))
async def test_a_search_without_a_valid_token_is_401(bot: TeamsBot, cw: FakeConnectWise, case: str) -> None:
    status, body = await bot.search(EVE, bot.channel(DESK, ROOT), "tickets", "printer", token=BAD[case](bot))
    assert status == 401, body
    assert await bot.account_of(tenant=TENANT) is None  # nobody was signed in
    assert bot.connector.requests == [] and cw.requests == []  # nobody was asked anything
