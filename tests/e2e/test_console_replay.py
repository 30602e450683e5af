"""Console replay scenarios of the core issue, through the real CLI process and database."""

from __future__ import annotations

from tests.e2e.conftest import Rflow
from tests.fakes.anthropic_api import FakeAnthropic, fact_input, fix_input, outcome_input


async def test_resolved_locally_with_facts_and_a_fix_through_worked(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    anthropic.push_update("Let's narrow it down.", questions=["Does the printer answer ping?"],
                          checks=["Count the jobs in the print queue"])
    anthropic.push_update("A stuck spooler fits.", facts=[fact_input("There are 14 jobs stuck", "14 jobs stuck", "C1")],
                          fixes=[fix_input("Clear the print spooler", "Stop the spooler, delete the jobs, start it.", 80)])
    run = await rflow.console("""
/new Printer on floor 2 is offline for everyone
/lane
/promote Q1 The printer answers ping
it pings, and there are 14 jobs stuck in the queue
/promote P1
/apply
/worked
/preview resolve
/preview resolve
/resolve Cleared a stuck print spooler
/resolve
""")
    out = run.out
    assert "Session #1 started: Printer on floor 2 is offline for everyone" in out
    assert "assistant> Let's narrow it down." in out and "Q1 Does the printer answer ping?" in out
    assert "Confirmed as F1: The printer answers ping" in out
    assert "? P1 There are 14 jobs stuck (a proposed fact: /promote P1 to confirm it" in out  # R6: shown first
    assert "Confirmed as F2: There are 14 jobs stuck" in out
    assert "Suggested fix: Clear the print spooler (confidence 80%)" in out
    assert "Recorded: the fix worked." in out
    assert "Resolution note preview (state v" in out and ", cached)" in out
    assert "Resolved session #1. No ticket is linked: the note is stored here and nothing was posted." in out
    assert "resolved_local" not in out  # outcome codes are for the engine, words for people
    assert "✗ Session #1 was already resolved at" in out and "by Dana." in out
    assert run.code == 0  # not strict: the refused second /resolve does not fail the run


async def test_outcome_proposals_confirmed_and_not_yet(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    anthropic.push_update("Try a fresh profile.", fixes=[fix_input("Recreate the Outlook profile", confidence=65)])
    anthropic.push_update("Sounds like it helped.", outcome=outcome_input("worked", "it opens now"))
    anthropic.push_update("Glad it holds.", outcome=outcome_input("worked", "still fine after reboot"))
    run = await rflow.console("""
/new Outlook asks for the password in a loop
/apply
it opens now
/notyet
/lane
still fine after reboot
/confirm
/lane
""", "--strict")
    assert run.code == 0, run.out + run.err
    assert run.out.count("Confirm outcome? /confirm or /notyet") == 2
    assert "Left as is: the outcome stays open." in run.out
    assert "Recorded: the fix worked." in run.out
    assert "Recreate the Outlook profile (confidence 65%) — worked" in run.out


async def test_escalation_picked_up_by_a_colleague_and_the_metric(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    run = await rflow.console("""
/as Olive
/as Sam engineer
/as Val viewer
/as Dana
/new VPN drops every hour for the sales team
/fact Drops happen at exactly 60 minutes
/escalate Needs firewall access I don't have @Sam
/queue
/as Val
/pickup 1
/as Sam
/pickup 1
/pickup 1
checking the firewall session timeout now
/stats 7d
/as Val
/stats
""")
    out = run.out
    assert "Escalated session #1. Target: Sam." in out and "escalated_local" not in out
    assert ("📣 Escalation: #1 VPN drops every hour for the sales team\n   Ticket: no ticket linked · Escalated by: Dana · "
            "Asked for: Sam · Reason: Needs firewall access I don't have\n   Awaiting pickup. /pickup 1") in out
    assert ("  Escalation: #1 VPN drops every hour for the sales team (0s ago)\n    Ticket: no ticket linked · "
            "Escalated by: Dana · Reason: Needs firewall access I don't have\n    Awaiting pickup. /pickup 1") in out
    assert "✗ Engineer or admin access required." in out  # the viewer's pickup
    assert "You picked up session #1 (escalated by Dana). You are its handler now." in out
    assert "## What we've confirmed" in out and "Drops happen at exactly 60 minutes" in out
    assert "📣 #1 VPN drops every hour for the sales team: Sam picked up this session from Dana and is on it." in out
    assert "✗ Already picked up by Sam." in out
    assert "Pickup-to-first-action, last 7 days: 1 claimed, 1 with an action." in out
    assert "not time saved" in out
    assert out.rstrip().endswith("✗ Engineer or admin access required.")  # viewers don't read the metric


async def test_strict_replay_fails_on_a_bad_line_and_changes_nothing(rflow: Rflow) -> None:
    run = await rflow.console("/new Disk full on the file server\n/editfact 9 nothing here\n/frobnicate\n", "--strict",
                              ANTHROPIC_API_KEY="")
    assert run.code == 1
    assert "The assistant is off (no ANTHROPIC_API_KEY)" in run.out
    assert "✗ There is no fact 9 in this session." in run.out
    assert "✗ Unknown command /frobnicate. /help lists the commands." in run.out


async def test_connect_makes_a_one_time_code_for_admins_only(rflow: Rflow) -> None:
    run = await rflow.console("""
/connect
/as Sam
/connect
""")
    out = run.out
    codes = [line for line in out.splitlines() if "Connect code" in line]
    assert len(codes) == 1 and "expires in 15 minutes" in codes[0], out
    code = codes[0].split("Connect code ", 1)[1].split(" ", 1)[0]
    assert len(code) == 9 and code[4] == "-", code
    assert "Admin access required." in out
