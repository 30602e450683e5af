"""The PSA settings modals as Block Kit (R40): valid views within Slack's limits, each board's own
statuses, secrets never shown, the time options, and submissions read back strictly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.slack import psa_views as pv
from adapters.slack.actions import ModalMeta, read_submission
from adapters.slack.limits import VIEW_BLOCKS, check_view
from adapters.slack.psa_actions import (
    BILLABLE_BLOCK,
    BY_EMAIL_BLOCK,
    MEMBER_BLOCK,
    OPEN_BUTTONS,
    OPEN_MEMBER,
    TICKET_SEARCH,
    TIME_ON_BLOCK,
    WORK_ROLE_BLOCK,
    WORK_TYPE_BLOCK,
    ShownBoard,
    board_block,
    decode_boards,
    encode_boards,
    field_block,
    parse_board_block,
)
from adapters.slack.views import form_modal, settings_modal
from core.actions import ActionId
from core.errors import InvalidInput
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
from core.psa_link import SET
from core.psa_settings import BoardOptions, TimeOptions
from core.psa_time import TimeSettings

NOW = datetime(2025, 3, 1, tzinfo=UTC)
FIELDS = (PsaField("site", "Site"), PsaField("company", "Company id"), PsaField("private_key", "Private key", secret=True),
          PsaField("codebase", "Codebase", required=False))
R, E = StatusRole.RESOLVED, StatusRole.ESCALATED


def chosen(board: PsaBoard, role: StatusRole, status: TicketStatus) -> BoardStatus:
    return BoardStatus(account_id=1, board_id=board.id, board_name=board.name, role=role, status_id=status.id,
                       status_name=status.name, closes=status.closed, updated_at=NOW, updated_by=1)


def board(board_id: int, name: str, statuses: list[tuple[int, str, bool]], *, warning: str | None = None,
          picks: dict[StatusRole, int] | None = None) -> BoardOptions:
    b = PsaBoard(board_id, name)
    listed = [TicketStatus(i, n, board_id, closed) for i, n, closed in statuses]
    by_id = {s.id: s for s in listed}
    return BoardOptions(board=b, statuses=PsaList(listed, warning=warning),
                        chosen={role: chosen(b, role, by_id[i]) for role, i in (picks or {}).items()})


HELP_DESK = board(1, "Help Desk", [(101, "New", False), (103, "Escalated", False), (104, "Resolved", True)],
                  picks={R: 104})
PROJECTS = board(2, "Projects", [(201, "Planned", False), (202, "Done", True)])


def element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    [found] = [b["element"] for b in view["blocks"] if b.get("block_id") == block_id]
    return found


def texts(options: list[dict[str, Any]]) -> list[str]:
    return [o["text"]["text"] for o in options]


def test_the_settings_panel_gives_admins_every_modal_and_everyone_their_member() -> None:
    admin = pv.panel("ConnectWise", connected=True, admin=True)
    [buttons] = [b["elements"] for b in admin if b["type"] == "actions"]
    assert [b["action_id"] for b in buttons] == list(OPEN_BUTTONS)
    assert buttons[-1]["text"]["text"] == "My ConnectWise member"
    check_view(settings_modal({}, psa_panel=admin))
    engineer = pv.panel("Autotask", connected=False, admin=False)
    [only] = [b["elements"] for b in engineer if b["type"] == "actions"]
    assert [(b["action_id"], b["text"]["text"]) for b in only] == [(OPEN_MEMBER, "My Autotask member")]
    assert "Not connected yet" in str(engineer)


def test_the_connection_never_shows_a_secret_and_an_empty_secret_keeps_it() -> None:
    shown = {"site": "acme.example", "company": "acme", "private_key": SET}
    view = pv.connection_modal("ConnectWise", FIELDS, shown)
    assert element(view, field_block("site"))["initial_value"] == "acme.example"
    secret_block = next(b for b in view["blocks"] if b.get("block_id") == field_block("private_key"))
    assert "initial_value" not in secret_block["element"] and SET not in str(view)
    assert secret_block["optional"] is True and "empty to keep" in secret_block["hint"]["text"]
    first = pv.connection_modal("ConnectWise", FIELDS, {})
    assert "optional" not in next(b for b in first["blocks"] if b.get("block_id") == field_block("private_key"))
    typed = {field_block("site"): " new.example ", field_block("company"): "acme", field_block("private_key"): "",
             field_block("codebase"): None}
    assert pv.connection_values(FIELDS, shown, typed) == {"site": "new.example", "company": "acme"}
    cleared = pv.connection_values(FIELDS, {**shown, "codebase": "v1/"}, typed)
    assert cleared["codebase"] == "" and "private_key" not in cleared


def test_a_connection_refusal_lands_on_the_box_it_names() -> None:
    empty = InvalidInput("site can't be empty.", reason="psa.setting_empty", params={"key": "site"})
    missing = InvalidInput("Also give company.", reason="psa.settings_missing", params={"keys": ["company"]})
    other = InvalidInput("Set RF_SECRET_KEY.", reason="psa.secret_key_unset")
    assert pv.connection_error_block(FIELDS, empty) == field_block("site")
    assert pv.connection_error_block(FIELDS, missing) == field_block("company")
    assert pv.connection_error_block(FIELDS, other) == field_block("site")


def test_the_report_says_ok_or_each_problem() -> None:
    ok = pv.report_modal("ConnectWise", ConnectionReport(discovered={"codebase": "v2025_1/"}, api_member="api<x>"))
    assert "ConnectWise answered: the connection works (API member api&lt;x&gt;)" in str(ok) and "v2025_1/" in str(ok)
    bad = pv.report_modal("ConnectWise", ConnectionReport(problems=(
        CheckProblem(CheckCode.CREDENTIALS_REFUSED, "The keys were refused."),
        CheckProblem(CheckCode.PERMISSION_MISSING, "Missing Service Tickets.", permission="x"))))
    assert "The keys were refused." in str(bad) and "Missing Service Tickets." in str(bad) and "submit" not in bad


def test_each_board_offers_its_own_statuses_with_the_closing_ones_marked() -> None:
    view = pv.statuses_modal("ConnectWise", [HELP_DESK, PROJECTS])
    resolved = element(view, board_block(1, R))
    assert texts(resolved["options"]) == ["Don't change", "New", "Escalated", "Resolved (closes)"]
    assert resolved["initial_option"]["value"] == "104"
    assert element(view, board_block(1, E))["initial_option"]["text"]["text"] == "Don't change"
    assert texts(element(view, board_block(2, R))["options"]) == ["Don't change", "Planned", "Done (closes)"]
    assert decode_boards(view["private_metadata"]) == [ShownBoard(1, 104, None), ShownBoard(2, None, None)]
    assert parse_board_block(board_block(2, E)) == (2, E)


def test_many_boards_stop_at_the_block_limit_and_say_so() -> None:
    boards = [board(i, f"Board {i}", [(i * 10 + k, f"S{k}", k == 2) for k in range(3)]) for i in range(1, 81)]
    view = pv.statuses_modal("ConnectWise", boards)
    assert len(view["blocks"]) <= VIEW_BLOCKS
    shown = decode_boards(view["private_metadata"])
    assert 30 <= len(shown) < 80 and f"Only the first {len(shown)} of 80 boards" in str(view["blocks"][-1])


def test_an_unreadable_list_is_a_warning_not_a_silent_blank() -> None:
    blind = board(3, "Blind", [], warning="Could not read statuses: the API member lacks Table Setup.")
    view = pv.statuses_modal("ConnectWise", [blind], warning="Could not read every board.")
    assert "lacks Table Setup" in str(view) and "Could not read every board." in str(view)
    assert texts(element(view, board_block(3, R))["options"]) == ["Don't change"]
    empty = pv.statuses_modal("ConnectWise", [])
    assert "ConnectWise lists no active boards." in str(empty) and "submit" not in empty


def test_only_the_changed_choices_are_saved() -> None:
    shown = [ShownBoard(1, 104, None), ShownBoard(2, None, None)]
    values = {board_block(1, R): "104", board_block(1, E): "103", board_block(2, R): "none", board_block(2, E): "none"}
    assert pv.changed_statuses(shown, values) == {1: {E: 103}}
    assert pv.changed_statuses(shown, {**values, board_block(1, R): "none"}) == {1: {R: None, E: 103}}
    with pytest.raises(ValueError):
        pv.changed_statuses(shown, {board_block(1, R): "104; drop"})
    with pytest.raises(ValueError):
        decode_boards('{"b": [[1, "x", null]]}')
    assert decode_boards(encode_boards(shown)) == shown
    refusal = InvalidInput("no", reason="psa.status_not_on_board", params={"role": "escalated"})
    assert pv.status_error_block(1, [R, E], refusal) == board_block(1, E)


def time_options(settings: TimeSettings, *, warning: str | None = None) -> TimeOptions:
    return TimeOptions(settings=settings,
                       work_types=PsaList([WorkCode(1, "Remote", default=True), WorkCode(2, "Onsite")], warning=warning),
                       work_roles=PsaList([WorkCode(7, "Engineer")]))


def test_the_time_modal_marks_the_psa_default_and_reads_back() -> None:
    view = pv.time_modal("ConnectWise", time_options(TimeSettings(enabled=True, work_role_id=7, work_role_name="Engineer",
                                                                  billable=BillableOption.NO_CHARGE)))
    types = element(view, WORK_TYPE_BLOCK)
    assert texts(types["options"]) == ["ConnectWise's default", "Remote (ConnectWise default)", "Onsite"]
    assert types["initial_option"]["value"] == "none" and element(view, WORK_ROLE_BLOCK)["initial_option"]["value"] == "7"
    billing = element(view, BILLABLE_BLOCK)
    assert texts(billing["options"]) == ["Billable", "Do not bill", "No charge", "As the work type says"]
    assert billing["initial_option"]["value"] == "no_charge"
    assert element(view, TIME_ON_BLOCK)["initial_options"][0]["value"] == "on"
    assert pv.time_values({TIME_ON_BLOCK: "on", WORK_TYPE_BLOCK: "2", WORK_ROLE_BLOCK: "none",
                           BILLABLE_BLOCK: "billable"}) == (True, 2, None, "billable")
    assert pv.time_values({TIME_ON_BLOCK: None, WORK_TYPE_BLOCK: "none"})[0] is False


def test_a_stored_work_type_stays_choosable_when_the_psa_list_is_unreadable() -> None:
    settings = TimeSettings(work_type_id=9, work_type_name="Legacy")
    options = TimeOptions(settings=settings, work_types=PsaList([], warning="lacks Time Entry"), work_roles=PsaList([]))
    view = pv.time_modal("ConnectWise", options)
    assert element(view, WORK_TYPE_BLOCK)["initial_option"] == {"text": {"type": "plain_text", "text": "Legacy"},
                                                                "value": "9"}
    assert "lacks Time Entry" in str(view)


def test_the_member_modal_searches_and_offers_the_email_match() -> None:
    me = PsaMemberLink(account_id=1, member_id=1, psa_member_id=501, psa_member_name="John Doe", matched_by="email",
                       updated_at=NOW)
    view = pv.member_modal("ConnectWise", me)
    select = element(view, MEMBER_BLOCK)
    assert select["type"] == "external_select" and select["min_query_length"] == 0
    assert "You are matched to *John Doe* (matched by e-mail)" in str(view)
    assert element(view, BY_EMAIL_BLOCK)["options"][0]["text"]["text"] == "Match me by my e-mail address"
    assert pv.member_choice({MEMBER_BLOCK: "502", BY_EMAIL_BLOCK: None}) == (False, 502)
    assert pv.member_choice({MEMBER_BLOCK: None, BY_EMAIL_BLOCK: "email"}) == (True, None)
    members = [PsaMember(500 + i, f"user{i}", f"User {i}", f"user{i}@acme.example") for i in range(150)]
    assert len(pv.member_options(members, "")) == 100
    assert [o["value"] for o in pv.member_options(members, "USER 149")] == ["649"]
    assert texts(pv.member_options(members, "user7@")) == ["User 7 (user7)"]


def test_ticket_options_keep_number_and_company_within_75_characters() -> None:
    def ticket(i: int, summary: str, company: str | None) -> Ticket:
        return Ticket(i, summary, 10, company, 1, "Help Desk", 101, "New")
    [short, long, bare] = pv.ticket_options([ticket(1001, "Printer offline in accounting", "Contoso"),
                                            ticket(1002, "VPN " * 40, "Fabrikam International Holdings Ltd"),
                                            ticket(1003, "No company", None)])
    assert short == {"text": {"type": "plain_text", "text": "#1001 Printer offline in accounting — Contoso"},
                     "value": "1001"}
    text = long["text"]["text"]
    assert len(text) <= 75 and text.startswith("#1002 VPN") and "…" in text and text.endswith("— Fabrikam International…")
    assert bare["text"]["text"] == "#1003 No company"


def test_the_link_form_picks_its_ticket_from_a_search() -> None:
    view = form_modal(ActionId.LINK_TICKET, ModalMeta(session_id=7), searches={"ticket": TICKET_SEARCH})
    select = element(view, "ticket")
    assert select == {"type": "external_select", "action_id": TICKET_SEARCH, "min_query_length": 1,
                      "placeholder": {"type": "plain_text", "text": "Type a ticket number or words from its summary"}}
    state = {"ticket": {TICKET_SEARCH: {"type": "external_select", "selected_option": {
        "text": {"type": "plain_text", "text": "#1001 Printer offline"}, "value": "1001"}}}}
    assert read_submission(state) == {"ticket": "1001"}
    typed = form_modal(ActionId.LINK_TICKET, ModalMeta(session_id=7))
    assert element(typed, "ticket")["type"] == "plain_text_input"
