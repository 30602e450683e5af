"""The console's action commands (issue 11): one per action, each usage drawn from core's form, and
every outcome worded for people."""

from __future__ import annotations

import re

import adapters.console.actions as console_actions
from adapters.console import messages as m
from adapters.console import render
from adapters.console.console import COMMANDS
from core.actions import Action, ActionId, Outcome, OutcomeCode
from core.forms import FORMS, FormName

# Params as core/perform.py hands them out, by outcome (a closing outcome with a ticket).
PARAMS: dict[OutcomeCode, dict[str, object]] = {
    OutcomeCode.FACT_ADDED: {"label": "F2", "text": "Queue has 40 jobs", "fact_id": 9},
    OutcomeCode.FACT_CONFIRMED: {"label": "F1", "text": "Every printer", "fact_id": 8, "own_words": True},
    OutcomeCode.FACT_EDITED: {"label": "F2", "text": "Queue has 41 jobs", "fact_id": 9},
    OutcomeCode.FACT_DELETED: {"label": "F2", "text": "Queue has 41 jobs", "fact_id": 9},
    OutcomeCode.FIX_ADDED: {"title": "Clear the spooler", "fix_id": 3, "outcome": "proposed", "outcome_label": ""},
    OutcomeCode.FIX_APPLIED: {"title": "Clear the spooler", "fix_id": 3, "outcome": "verifying", "outcome_label": ""},
    OutcomeCode.FIX_OUTCOME: {"title": "Clear the spooler", "fix_id": 3, "outcome": "applied_partial",
                              "outcome_label": "partly worked"},
    OutcomeCode.OUTCOME_NOT_YET: {"title": "Clear the spooler", "fix_id": 3, "outcome": "verifying", "outcome_label": ""},
    OutcomeCode.RESOLVED: {"outcome": "writeback_pending", "ticket_id": 1001, "time_minutes": None, "summary": "s"},
    OutcomeCode.ESCALATED: {"outcome": "escalated_local", "ticket_id": None, "reason": "r", "target": "Sam"},
    OutcomeCode.PARKED: {},
    OutcomeCode.PICKED_UP: {"escalated_by": None, "title": "VPN"},
    OutcomeCode.TICKET_LINKED: {"ticket_id": 1001, "summary": "Printer", "company": "Contoso", "board": "Help Desk",
                                "status": "New"},
    OutcomeCode.WRITEBACK_RETRIED: {"ticket_id": 1001},
}
RAW = re.compile(r"applied_|_local|writeback_pending|\{|\}|None")


def test_every_action_has_one_console_command() -> None:
    actions = {a for cmd in console_actions.COMMAND_TABLE for a in (cmd.action, *cmd.choices.values())}
    assert actions == set(ActionId)
    assert all(COMMANDS[cmd.name][1] == cmd.usage() for cmd in console_actions.COMMAND_TABLE)


def test_usages_follow_the_forms() -> None:
    usage = {cmd.name: cmd.usage() for cmd in console_actions.COMMAND_TABLE}
    assert usage["partial"] == "/partial <notes>" and FORMS[FormName.FIX_PARTIAL].field("notes").required
    assert usage["failed"] == "/failed [reason]" and not FORMS[FormName.FIX_FAILED].field("reason").required
    assert usage["resolve"] == "/resolve [+time] [summary]"
    assert usage["escalate"] == "/escalate <reason> [@name]"
    assert usage["promote"] == "/promote <Q1|C1|P1> [text]" and usage["pickup"] == "/pickup <session>"
    help_text = m.HELP.format_map({name: u for name, (_, u) in COMMANDS.items()})
    assert all(u in help_text for u in usage.values())


def test_every_outcome_is_worded_for_people() -> None:
    assert set(m.OUTCOMES) == set(OutcomeCode)
    for code, params in PARAMS.items():
        lines = render.outcome(Outcome(code=code, action=ActionId.PARK, session_id=7, params=params))
        assert lines and not RAW.search("\n".join(lines)), (code, lines)
    resolved = render.outcome(Outcome(code=OutcomeCode.RESOLVED, action=ActionId.RESOLVE, session_id=7,
                                      params=PARAMS[OutcomeCode.RESOLVED]))
    assert resolved == ["Resolved session #7. The note goes to the linked ticket.", "Posting to ConnectWise ticket #1001…"]
    picked = render.outcome(Outcome(code=OutcomeCode.PICKED_UP, action=ActionId.PICKUP, session_id=7,
                                    params=PARAMS[OutcomeCode.PICKED_UP]))
    assert picked == ["You picked up session #7 (escalated by ?). You are its handler now."]


def test_a_command_line_becomes_an_action() -> None:
    class Here:
        def session_id(self) -> int:
            return 4

    by_name = {cmd.name: cmd for cmd in console_actions.COMMAND_TABLE}
    here = Here()
    assert by_name["editfact"].parse(here, "2 The queue holds 15 jobs") == Action(  # type: ignore[arg-type]
        id=ActionId.EDIT_FACT, session_id=4, ref="2", values={"text": "The queue holds 15 jobs"})
    assert by_name["escalate"].parse(here, "Needs firewall access @Sam").values == {  # type: ignore[arg-type]
        "reason": "Needs firewall access", "target": "@Sam"}
    assert by_name["pickup"].parse(here, "#12").session_id == 12  # type: ignore[arg-type]
    assert by_name["preview"].parse(here, "escalate").id == ActionId.PREVIEW_ESCALATE  # type: ignore[arg-type]
    assert by_name["apply"].parse(here, "").ref is None  # type: ignore[arg-type]  (the console names no fix)
