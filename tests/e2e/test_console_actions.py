"""Every console action command through the real CLI process (issue 11): its outcome line, worded
for people, and the state change it made in the database."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator

import pytest

from bot.secretbox import new_key
from tests.e2e.conftest import Rflow
from tests.fakes.anthropic_api import FakeAnthropic, fix_input, outcome_input
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import seed_demo

CONNECT = ("/psa connect site=acme.myconnectwise.example company=acme public_key=pub-4f1c "
           "private_key=PRIV-9d2e-s3cr3t client_id=5b1d6a0e-client-guid")
RAW_NAMES = ("applied_", "resolved_local", "escalated_local", "writeback_pending", "→")


def rows(rflow: Rflow, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(rflow.tmp / "rflow.db") as db:
        return list(db.execute(sql))


async def test_every_lane_and_closing_command(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    anthropic.push_update("Let's look.", questions=["Is it every printer?"], fixes=[fix_input("Restart the printer", confidence=40)])
    anthropic.push_update("That reads as fixed.", outcome=outcome_input("worked", "it prints"))
    anthropic.push_update("Good, it holds.", outcome=outcome_input("worked", "still prints"))
    anthropic.push_update("Firewall, then.")
    run = await rflow.console("""
/as Sam engineer
/as Dana
/new Printer on floor 2 prints nothing
/promote Q1 Every printer on the floor
/fact The queue holds 14 jobs
/editfact 2 The queue holds 15 jobs
/delfact 2
/dismiss
/fix Clear the spooler :: stop it, clear the queue, start it
/apply
/failed the queue refilled at once
/fix Reinstall the driver
/apply
/partial two of three printers print
/fix Replace the print server's disk
/apply
it prints now
/notyet
it still prints after a reboot
/confirm
/preview resolve
/resolve Replaced the spooler disk
/new VPN drops every hour
/preview escalate
/escalate Needs firewall access I don't have @Sam
/as Sam
/pickup 2
/park Waiting on the firewall vendor
""", "--strict")
    out = run.out
    assert run.code == 0, out + run.err
    for line in ("Confirmed as F1: Every printer on the floor", "Added F2: The queue holds 14 jobs",
                 "Edited F2: The queue holds 15 jobs", "Removed F2.", "Recorded: the fix was dismissed.",
                 "Fix proposed: Clear the spooler. /apply when you try it.", "Applied: Clear the spooler.",
                 "Recorded: the fix didn't work.", "Recorded: the fix partly worked.",
                 "Left as is: the outcome stays open.", "Recorded: the fix worked.",
                 "── Resolution note preview (state v", "── Escalation package preview (state v",
                 "Resolved session #1. No ticket is linked: the note is stored here and nothing was posted.",
                 "Escalated session #2. Target: Sam. No ticket is linked:",
                 "You picked up session #2 (escalated by Dana). You are its handler now.",
                 "Parked session #2. Post a message in it to pick it back up."):
        assert line in out, line
    assert not any(raw in out for raw in RAW_NAMES), out

    facts = rows(rflow, "select seq, text, deleted_at is not null from facts where session_id = 1 order by seq")
    assert facts == [(1, "Every printer on the floor", 0), (2, "The queue holds 15 jobs", 1)]
    fixes = rows(rflow, "select title, status, failure_reason, partial_notes from fixes where session_id = 1 order by id")
    assert fixes == [("Restart the printer", "dismissed", None, None),
                     ("Clear the spooler", "applied_failed", "the queue refilled at once", None),
                     ("Reinstall the driver", "applied_partial", None, "two of three printers print"),
                     ("Replace the print server's disk", "applied_success", None, None)]
    [sam] = rows(rflow, "select id from members where name = 'Sam'")
    assert rows(rflow, "select id, status, handler_id from sessions order by id") == [(1, "resolved", 1), (2, "parked", sam[0])]
    handoffs = rows(rflow, "select intent, reason, target_member_id, claimed_by from handoffs where session_id = 2 order by id")
    assert handoffs[0] == ("escalate", "Needs firewall access I don't have", sam[0], sam[0])
    assert handoffs[-1][:2] == ("park", "Waiting on the firewall vendor")


async def test_refusals_name_the_command_and_change_nothing(rflow: Rflow) -> None:
    run = await rflow.console(f"""
/new Disk full on the file server
/fact
/fact {"x" * 1001}
/editfact 1
/promote
/partial
/escalate
/link
/preview sideways
/pickup soon
/fix  :: no title
""", ANTHROPIC_API_KEY="")
    out = run.out
    for usage in ("/fact <text>", "/editfact <n> <text>", "/promote <Q1|C1|P1> [text]", "/partial <notes>",
                  "/escalate <reason> [@name]", "/link <ticket# or words>", "/preview resolve|escalate", "/pickup <session>",
                  "/fix <title> [:: description]"):
        assert f"✗ Usage: {usage}" in out, usage
    assert "✗ The text is 1,001 characters; at most 1,000. Usage: /fact <text>" in out
    assert rows(rflow, "select count(*) from facts") == [(0,)] and rows(rflow, "select count(*) from fixes") == [(0,)]
    assert rows(rflow, "select status from sessions") == [("active",)]


@pytest.fixture
async def cw() -> AsyncIterator[FakeConnectWise]:
    async with FakeConnectWise() as fake:
        seed_demo(fake)
        yield fake


async def test_link_resolve_and_retry_with_connectwise(rflow: Rflow, cw: FakeConnectWise) -> None:
    rflow.env.update({"RF_CW_API_URL": cw.base_url, "RF_SECRET_KEY": new_key(), "ANTHROPIC_API_KEY": "",
                      "RF_PSA_TIMEOUT": "3"})
    cw.deny("Close Service Tickets", "Edit")  # the API member may not close tickets: the status step fails
    run = await rflow.console(f"""
{CONNECT}
/psa statuses 1 resolved=104
/new Outlook asks for the password
/link 1004
/resolve Rebuilt the profile
/retry
""")
    out = run.out
    assert "Linked ConnectWise ticket #1004: " in out
    assert "Resolved session #1. The note goes to the linked ticket." in out
    assert "Posting to ConnectWise ticket #1004…" in out
    assert "Retrying the writeback to ConnectWise ticket #1004…" in out
    assert not any(raw in out for raw in RAW_NAMES), out
    assert rows(rflow, "select ticket_ref, status from sessions") == [("1004", "resolved")]
    assert out.count("ConnectWise refused access to the status of ticket #1004") == 2  # the retry ran again
    assert len(cw.notes_of(1004)) == 1
