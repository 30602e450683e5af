"""The PSA settings card, its buttons and Teams' typeahead (pure: no connector, no PSA). Every card
validates against the 1.5 schema (with Teams' typeahead additions checked, card_schema.py) and fits
one message; each board offers only its own statuses; secrets are never filled in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import ValidationError

from adapters.teams import cards
from adapters.teams.card_actions import parse_action
from adapters.teams.cards_base import card_size_ok
from adapters.teams.cards_forms import form_card, form_of
from adapters.teams.cards_psa import Notice, Section, SettingsView, psa_settings_card, report_notices
from adapters.teams.search import member_result, parse_query, search_error, search_response, ticket_result
from adapters.teams.settings_actions import (
    SettingsAction,
    SettingsClick,
    board_inputs,
    is_settings,
    parse_settings,
    settings_verb,
)
from adapters.teams.typeahead import Dataset
from core.actions import ActionId
from core.models import BoardStatus, PsaMemberLink, StatusRole
from core.psa import (
    BillableOption,
    CheckCode,
    CheckProblem,
    ConnectionReport,
    PsaBoard,
    PsaField,
    PsaList,
    PsaMember,
    Ticket,
    TicketStatus,
    WorkCode,
)
from core.psa_settings import BoardOptions, PsaOverview, TimeOptions
from core.psa_time import TimeSettings
from tests.adapters.teams.card_schema import validate_card

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
FIELDS = (PsaField("site", "Site (e.g. na.myconnectwise.net)"), PsaField("private_key", "Private key", secret=True),
          PsaField("codebase", "API codebase", required=False))
HELP_DESK = PsaBoard(1, "Help Desk")
PROJECTS = PsaBoard(2, "Projects <at>x</at>")


def walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def inputs_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in walk(card) if str(n.get("type", "")).startswith("Input.")}


def shown(card: dict[str, Any]) -> str:
    return "\n".join(n["text"] for n in walk(card) if n.get("type") == "TextBlock")


def chosen(board: PsaBoard, role: StatusRole, status_id: int, name: str) -> BoardStatus:
    return BoardStatus(account_id=1, board_id=board.id, board_name=board.name, role=role, status_id=status_id,
                       status_name=name, closes=False, updated_at=NOW, updated_by=1)


def overview(*, connected: bool = True, me: PsaMemberLink | None = None) -> PsaOverview:
    return PsaOverview(psa_name="ConnectWise", connected=connected,
                       shown={"site": "acme.example", "private_key": "•••••• (set)"} if connected else {},
                       board_statuses=[], time=TimeSettings(), me=me)


def boards() -> list[BoardOptions]:
    desk = PsaList([TicketStatus(101, "New", 1), TicketStatus(104, "Resolved", 1, closed=True)])
    projects = PsaList([TicketStatus(201, "Planned", 2), TicketStatus(202, "Done", 2, closed=True)])
    return [BoardOptions(board=HELP_DESK, statuses=desk, chosen={
                StatusRole.RESOLVED: chosen(HELP_DESK, StatusRole.RESOLVED, 104, "Resolved"),
                StatusRole.ESCALATED: chosen(HELP_DESK, StatusRole.ESCALATED, 109, "Escalated (old)")}),
            BoardOptions(board=PROJECTS, statuses=projects, chosen={})]


def time_options() -> TimeOptions:
    return TimeOptions(settings=TimeSettings(enabled=True, work_type_id=32, work_type_name="Onsite",
                                             billable=BillableOption.NO_CHARGE),
                       work_types=PsaList([WorkCode(31, "Remote", default=True), WorkCode(32, "Onsite")]),
                       work_roles=PsaList([], warning="The API member lacks Time › Work Roles."))


def full_view(**kwargs: Any) -> SettingsView:
    me = PsaMemberLink(account_id=1, member_id=1, psa_member_id=502, psa_member_name="Ann Smith", matched_by="chosen",
                       updated_at=NOW)
    return SettingsView(fields=FIELDS, overview=overview(me=me), boards=boards(), time=time_options(), **kwargs)


def test_the_card_validates_and_offers_each_board_its_own_statuses() -> None:
    card = psa_settings_card(full_view(board_notices={1: [Notice(text="Status 202 is not a status of Help Desk.")]}))
    validate_card(card)
    assert card["version"] == "1.5" and card_size_ok(card)
    inputs = inputs_of(card)
    desk = [(c["title"], c["value"]) for c in inputs["board_1_resolved"]["choices"]]
    assert desk == [("Don't change the status", "none"), ("New", "101"), ("Resolved (closes the ticket)", "104")]
    assert inputs["board_1_resolved"]["value"] == "104"
    # A chosen status the board no longer has still reads as chosen, marked so.
    assert inputs["board_1_escalated"]["value"] == "109"
    assert inputs["board_1_escalated"]["choices"][-1] == {"title": "Escalated (old) (no longer on the board)", "value": "109"}
    assert [c["value"] for c in inputs["board_2_resolved"]["choices"]] == ["none", "201", "202"]
    assert inputs["board_2_escalated"]["value"] == "none"
    # The refusal sits inside its board's container, not elsewhere.
    [desk_box] = [n for n in walk(card) if n.get("type") == "Container" and "**Help Desk**" in shown(n)]
    assert "Status 202 is not a status of Help Desk." in shown(desk_box)
    assert "＜at>x＜/at>" in shown(card) and "<at>" not in json.dumps(card, ensure_ascii=False)


def test_secrets_are_never_filled_in_and_required_only_on_first_setup() -> None:
    card = psa_settings_card(full_view(typed={"site": "typed.example", "private_key": "SHOULD-NOT-SHOW"}))
    inputs = inputs_of(card)
    assert inputs["psa_site"]["value"] == "typed.example"  # what was typed before a refusal
    assert "value" not in inputs["psa_private_key"] and inputs["psa_private_key"]["placeholder"].startswith("Stored")
    assert "SHOULD-NOT-SHOW" not in json.dumps(card) and "••••••" in json.dumps(card, ensure_ascii=False)  # the fact set says it is set
    assert not any(n.get("isRequired") for n in inputs.values())
    first = psa_settings_card(SettingsView(fields=FIELDS, overview=overview(connected=False)))
    validate_card(first)
    fresh = inputs_of(first)
    assert [k for k, v in fresh.items() if v.get("isRequired")] == ["psa_site", "psa_private_key"]
    assert "value" not in fresh["psa_private_key"] and "placeholder" not in fresh["psa_private_key"]
    assert shown(first).count("Connect ConnectWise first.") == 3  # statuses, time entries, my member
    assert not [k for k in fresh if k.startswith("board_") or k == "me_member"]


def test_the_connection_inputs_live_in_a_card_of_their_own() -> None:
    """Their required fields then hold back only their own submit (associatedInputs: auto)."""
    card = psa_settings_card(SettingsView(fields=FIELDS, overview=overview(connected=False)))
    [connect] = [n for n in walk(card) if n.get("type") == "Action.ShowCard"]
    assert connect["title"] == "Connect ConnectWise…"
    assert {n["id"] for n in walk(connect["card"]) if str(n.get("type", "")).startswith("Input.")} == {
        "psa_site", "psa_private_key", "psa_codebase"}
    [submit] = [n for n in walk(connect["card"]) if n.get("type") == "Action.Execute"]
    assert submit["verb"] == "rfs_connection"


def test_time_menus_mark_the_psa_default_and_say_a_missing_permission() -> None:
    card = psa_settings_card(full_view(notices={Section.TIME: [Notice(text="Saved.", ok=True)]}))
    inputs = inputs_of(card)
    assert inputs["time_enabled"]["value"] == "true"
    assert [c["title"] for c in inputs["time_work_type"]["choices"]] == [
        "Not set: ConnectWise decides", "Remote (ConnectWise's default)", "Onsite"]
    assert inputs["time_work_type"]["value"] == "32" and inputs["time_work_role"]["value"] == "none"
    assert inputs["time_billable"]["value"] == "no_charge"
    assert "⚠ The API member lacks Time › Work Roles." in shown(card) and "Saved." in shown(card)


def test_my_member_is_a_typeahead_on_the_members() -> None:
    card = psa_settings_card(full_view())
    picker = inputs_of(card)["me_member"]
    assert picker["choices.data"] == {"type": "Data.Query", "dataset": "members"} and picker["style"] == "filtered"
    assert picker["value"] == "502" and picker["choices"] == [{"title": "Ann Smith", "value": "502"}]
    assert "You are **Ann Smith** in ConnectWise (chosen by you)." in shown(card)


def test_many_boards_are_counted_when_they_do_not_fit() -> None:
    statuses = PsaList([TicketStatus(n, f"Status number {n} " + "x" * 40, 1) for n in range(1, 40)])
    many = [BoardOptions(board=PsaBoard(b, f"Board {b}"), statuses=statuses, chosen={}) for b in range(1, 101)]
    card = psa_settings_card(SettingsView(fields=FIELDS, overview=overview(), boards=many, time=time_options()))
    validate_card(card)
    assert card_size_ok(card)
    listed = len([k for k in inputs_of(card) if k.endswith("_resolved")])
    assert 0 < listed < 100 and f"…and {100 - listed} more boards" in shown(card)


def test_the_report_of_a_connection_test_is_worded() -> None:
    ok = report_notices("ConnectWise", ConnectionReport(discovered={"codebase": "v4_6_release/"}, api_member="rf-api"))
    assert [(n.text, n.ok) for n in ok] == [("Found codebase: v4_6_release/", True),
                                            ("✓ ConnectWise answered: the connection works (API member rf-api).", True)]
    bad = report_notices("ConnectWise", ConnectionReport(problems=(
        CheckProblem(CheckCode.CREDENTIALS_REFUSED, "The public or private key was refused."),)))
    assert [(n.text, n.ok) for n in bad] == [("✗ The public or private key was refused.", False)]


def test_settings_buttons_round_trip_and_forgeries_are_refused() -> None:
    card = psa_settings_card(full_view())
    buttons = [n for n in walk(card) if n.get("type") == "Action.Execute"]
    assert {b["verb"] for b in buttons} == {settings_verb(a) for a in SettingsAction if a != SettingsAction.OPEN}
    for b in buttons:
        invoke = {"action": {"type": "Action.Execute", "verb": b["verb"], "data": {**b["data"], "time_enabled": "true"}}}
        fallback = {**b["fallback"]["data"], "time_enabled": "true"}
        assert is_settings(invoke) and is_settings(fallback) and b["fallback"]["type"] == "Action.Submit"
        assert parse_settings(invoke) == parse_settings(fallback) == SettingsClick(
            kind=SettingsAction(b["data"]["rfs"]), inputs={"time_enabled": "true"})
    assert parse_settings({"rfs": "time", "n": 3}).inputs == {}  # only text is an input
    for forged in ([], {"rfs": "drop_tables"}, {"action": {"type": "Action.Submit", "data": {"rfs": "time"}}},
                   {"action": {"type": "Action.Execute", "verb": "rfs_test", "data": {"rfs": "time"}}},
                   {"action": {"type": "Action.Execute", "verb": "rfs_time", "data": "time"}}):
        with pytest.raises(ValueError):
            parse_settings(forged)
    assert not is_settings({"rf": "park", "s": 1}) and not is_settings({"action": {"data": {"rf": "park"}}})
    assert board_inputs({"board_1_resolved": "104", "board_22_escalated": "none", "board_x_resolved": "1",
                         "board_3_closed": "1", "time_enabled": "true"}) == {
        1: {StatusRole.RESOLVED: "104"}, 22: {StatusRole.ESCALATED: "none"}}


def test_the_help_card_opens_the_settings_card() -> None:
    card = cards.help_card()
    validate_card(card)
    [open_settings] = card["actions"]
    assert open_settings["verb"] == "rfs_open" and parse_settings(open_settings["fallback"]["data"]).kind == SettingsAction.OPEN
    assert "**settings** — the PSA connection" in shown(card)


def test_the_link_form_searches_the_open_tickets() -> None:
    form = form_card(ActionId.LINK_TICKET, 42)
    validate_card(form)
    [picker] = [n for n in walk(form) if n.get("id") == "ticket"]
    assert picker["type"] == "Input.ChoiceSet" and picker["choices"] == []
    assert picker["choices.data"] == {"type": "Data.Query", "dataset": Dataset.TICKETS.value}
    assert picker["label"] == form_of(ActionId.LINK_TICKET).field("ticket").label and picker["isRequired"]
    [submit] = [n for n in walk(form) if n.get("type") == "Action.Execute"]
    chosen_ticket = parse_action({"action": {"type": "Action.Execute", "verb": submit["verb"],
                                             "data": {**submit["data"], "ticket": "1001"}}})
    assert chosen_ticket.id == ActionId.LINK_TICKET and chosen_ticket.values == {"ticket": "1001"}
    # Sent back after a refusal, the ticket typed before stays chosen.
    again = form_card(ActionId.LINK_TICKET, 42, values={"ticket": "1001"}, error=("ticket", "No such ticket."))
    validate_card(again)
    [picker] = [n for n in walk(again) if n.get("id") == "ticket"]
    assert picker["value"] == "1001" and picker["choices"] == [{"title": "#1001", "value": "1001"}]
    assert "No such ticket." in shown(again)


def test_the_schema_check_still_refuses_a_malformed_typeahead() -> None:
    good = {"type": "AdaptiveCard", "version": "1.5", "body": [
        {"type": "Input.ChoiceSet", "id": "x", "style": "filtered", "choices": [],
         "choices.data": {"type": "Data.Query", "dataset": "tickets"}}]}
    validate_card(good)
    for query in ({"type": "Data.Query"}, {"type": "Data.Fetch", "dataset": "t"}, {"type": "Data.Query", "dataset": "t",
                                                                                  "bogus": 1}, "tickets"):
        with pytest.raises(ValidationError):
            validate_card({**good, "body": [{**good["body"][0], "choices.data": query}]})
    with pytest.raises(ValidationError):
        validate_card({**good, "body": [{**good["body"][0], "choices": "none"}]})


def test_search_requests_and_answers_have_teams_shapes() -> None:
    query = parse_query({"queryText": " printer ", "dataset": "tickets", "queryOptions": {"skip": 15, "top": 15}})
    assert (query.dataset, query.text, query.skip, query.top) == (Dataset.TICKETS, "printer", 15, 15)
    assert parse_query({"dataset": "members"}).text == "" and parse_query({"dataset": "members"}).top == 15
    assert parse_query({"dataset": "members", "queryOptions": {"top": 10_000}}).top == 50
    for bad in (None, [], {"dataset": "secrets"}, {"queryText": "x"}, {"dataset": "tickets", "queryText": 5},
                {"dataset": "tickets", "queryOptions": {"skip": -1}}, {"dataset": "tickets", "queryOptions": {"top": True}}):
        with pytest.raises(ValueError):
            parse_query(bad)
    ticket = Ticket(1001, "Printer  offline\\nin accounting", 10, "Contoso", 1, "Help Desk", 101, "New")
    assert ticket_result(ticket) == {"title": "#1001 Printer offline\\nin accounting — Contoso", "value": "1001"}
    no_company = Ticket(7, "x" * 400, None, None, None, None, None, None)
    assert len(ticket_result(no_company)["title"]) == 150 and ticket_result(no_company)["title"].endswith("…")
    assert member_result(PsaMember(502, "asmith", "Ann Smith")) == {"title": "Ann Smith (asmith)", "value": "502"}
    ok = search_response([{"title": "a", "value": "1"}])
    assert ok.status == 200 and ok.body == {"statusCode": 200, "type": "application/vnd.microsoft.search.searchResponse",
                                            "value": {"results": [{"title": "a", "value": "1"}]}}
    refused = search_error("BadRequest", "unknown dataset")
    assert refused.status == 400 and refused.body["type"] == "application/vnd.microsoft.error"
    assert refused.body["value"] == {"code": "BadRequest", "message": "unknown dataset"}
