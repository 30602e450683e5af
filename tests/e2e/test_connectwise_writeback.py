"""ConnectWise writeback through the console process: link, resolve with a verified status, a silent
rejection reported loudly, a skipped transition, escalation as an internal note, never two notes."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator

import pytest

from adapters.psa.cw_api import ConnectWiseApi
from bot.secretbox import new_key
from tests.e2e.conftest import Rflow
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import credentials_for, seed_demo

CONNECT = ("/prefs cw_site=acme.myconnectwise.example cw_company=acme cw_public_key=pub-4f1c "
           "cw_private_key=PRIV-9d2e-s3cr3t cw_client_id=5b1d6a0e-client-guid")


@pytest.fixture
async def cw() -> AsyncIterator[FakeConnectWise]:
    async with FakeConnectWise() as fake:
        seed_demo(fake)
        yield fake


@pytest.fixture
def psa_rflow(rflow: Rflow, cw: FakeConnectWise) -> Rflow:
    rflow.env.update({"RF_CW_API_URL": cw.base_url, "RF_SECRET_KEY": new_key(), "ANTHROPIC_API_KEY": "",
                      "RF_PSA_TIMEOUT": "3"})
    return rflow


async def test_link_resolve_verified_and_skipped(psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    run = await psa_rflow.console(f"""
{CONNECT}
/new Printer offline in accounting, customer ref #1001
/link 1001
/lane
/fact The print spooler had 14 stuck jobs
/resolve Cleared the stuck spooler
/prefs cw_resolved_status_id=104
/new VPN drops every hour
/link CW 1002
/resolve Raised the idle timeout
""", "--strict")
    out = run.out
    assert run.code == 0, out + run.err
    assert "cw_private_key = •••••• (set)" in out and "PRIV-9d2e-s3cr3t" not in out + run.err
    assert "This mentions ticket #1001: /link 1001 links the session to it." in out
    assert "Linked ConnectWise ticket #1001: Printer offline in accounting — Contoso · Help Desk · New" in out
    assert "ticket #1001 Printer offline in accounting (Contoso · Help Desk · New)" in out
    assert "✓ Posted the resolution note to ConnectWise ticket #1001" in out
    assert "Status unchanged: no cw_resolved_status_id is set for this account." in out
    assert "Ticket status is now 'Resolved' (verified)." in out
    first, second = cw.notes_of(1001), cw.notes_of(1002)
    assert len(first) == 1 and len(second) == 1
    assert first[0]["resolutionFlag"] is True and first[0]["internalAnalysisFlag"] is False
    assert "The print spooler had 14 stuck jobs" in first[0]["text"]
    assert cw.ticket_view(1002)["status"]["id"] == 104 and cw.ticket_view(1001)["status"]["id"] == 101


async def test_silent_rejection_is_loud_and_retry_never_reposts(psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    run = await psa_rflow.console(f"""
{CONNECT}
/prefs cw_resolved_status_id=202
/new Outlook asks for the password
/link 1004
/resolve Rebuilt the profile
/retry
""")
    assert "✗ ConnectWise kept ticket #1004 in 'New' instead of" in run.out
    assert "The note is posted; only the status did not change. /retry tries again once it is fixed." in run.out
    assert run.out.count("✗ ConnectWise kept ticket #1004") == 2  # the retry fails the same way, loudly
    assert len(cw.notes_of(1004)) == 1  # and never posts a second note (R19)
    with sqlite3.connect(psa_rflow.tmp / "rflow.db") as db:
        outcomes = [r[0] for r in db.execute("select outcome from writeups")]
    assert outcomes == ["status_not_verified"]


async def read_back(cw: FakeConnectWise, ticket_id: int) -> str:
    """The ticket's only note as ConnectWise serves it (`GET /service/tickets/{id}/notes/{noteId}`),
    read over HTTP with the API member's own credentials, without its idempotency marker."""
    [stored] = cw.notes_of(ticket_id)
    api = ConnectWiseApi(credentials_for(cw.api_keys[0]), api_version="2022.1", base_url=cw.base_url, timeout=5,
                         max_retries=0, transport=None, backoff_base=0.01, max_retry_after=1)
    try:
        note = await api.request("GET", f"service/tickets/{ticket_id}/notes/{stored['id']}", what="the note")
    finally:
        await api.aclose()
    text = str(note["text"])
    return text[: text.rindex("\n\n[rf:")]


async def test_escalation_posts_an_internal_analysis_note(psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    run = await psa_rflow.console(f"""
{CONNECT}
/prefs cw_escalated_status_id=103
/as Sam
/as Dana
/new Printer jam on 2nd floor
/link 1003
/fact Jam sensor reports a fault with the tray empty
/escalate Hardware fault, needs an onsite visit @Sam
""", "--strict")
    assert run.code == 0, run.out + run.err
    assert "✓ Posted the internal analysis note (not customer-visible) to ConnectWise ticket #1003" in run.out
    [note] = cw.notes_of(1003)
    assert note["internalAnalysisFlag"] is True and note["resolutionFlag"] is False and note.get("externalFlag") is False
    assert await read_back(cw, 1003) == PACKAGE_AS_SHOWN  # plain text, with the reason and the target (R20, R38)
    assert cw.ticket_view(1003)["status"]["name"] == "Escalated"


PACKAGE_AS_SHOWN = """Problem
-------

Printer jam on 2nd floor
Ticket: 1003
Reason for escalation: Hardware fault, needs an onsite visit
Escalated to: Sam

What we've confirmed
--------------------

- Jam sensor reports a fault with the tray empty

What we've tried
----------------

None recorded.

Current hypothesis
------------------

None recorded.

Suggested next steps
--------------------

- Continue the diagnosis from the confirmed facts; no fix has been proposed yet.

Composed automatically from the session's confirmed facts and fix record."""

WHEN = re.compile(r"\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November|December) "
                  r"\d{4}, \d{2}:\d{2} \(Europe/Amsterdam\)")


async def test_a_resolution_reads_as_plain_text_in_the_accounts_time_zone(psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    run = await psa_rflow.console(f"""
{CONNECT}
/prefs time_zone=europe/amsterdam
/new Printer offline in accounting
/link 1001
/fact The print spooler had 14 stuck jobs
/fix Clear the print spooler :: Stop the spooler, delete the queued jobs, start it again
/apply
/worked
/resolve Cleared the stuck spooler
""", "--strict")
    assert run.code == 0, run.out + run.err
    assert "time_zone = Europe/Amsterdam" in run.out
    text = await read_back(cw, 1001)
    assert WHEN.sub("<when>", text) == RESOLUTION_AS_SHOWN
    assert cw.notes_of(1001)[0]["resolutionFlag"] is True


RESOLUTION_AS_SHOWN = """Problem
-------

Printer offline in accounting
Ticket: 1001

What we confirmed
-----------------

- The print spooler had 14 stuck jobs

Root cause
----------

The cause was what “Clear the print spooler” addressed, as these confirmed facts show:
- The print spooler had 14 stuck jobs

Applying it resolved the problem (see Resolution).

Resolution
----------

Applied “Clear the print spooler” on <when>; confirmed working on <when>.

The fix was confirmed working and the issue is resolved.

Composed automatically from the session's confirmed facts and fix record."""


async def test_crash_between_post_and_commit_posts_once(psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    setup = await psa_rflow.console(f"{CONNECT}\n/new Printer offline in accounting\n/link 1001\n", "--strict")
    assert setup.code == 0, setup.out + setup.err
    cw.hang_after_next("POST", "service/tickets/1001/notes", seconds=60)  # the note lands; the answer never comes
    proc = await psa_rflow.start("/open 1\n/resolve Cleared the spooler\n", RF_WRITEBACK_LEASE_SECONDS="1")
    for _ in range(200):
        if cw.notes_of(1001):
            break
        await asyncio.sleep(0.05)
    assert len(cw.notes_of(1001)) == 1
    proc.kill()
    await proc.wait()
    await asyncio.sleep(1.2)
    run = await psa_rflow.console("/open 1\n/lane\n", "--strict", RF_WRITEBACK_LEASE_SECONDS="1")
    assert run.code == 0, run.out + run.err
    assert "✓ Posted the resolution note to ConnectWise ticket #1001" in run.out
    assert len(cw.notes_of(1001)) == 1  # found by its marker, not posted again


async def test_working_time_is_offered_and_logged_only_when_turned_on(psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    run = await psa_rflow.console(f"""
{CONNECT}
/new Printer offline in accounting
/link 1001
/resolve +time Cleared the spooler
/prefs cw_time_entries=true
/preview resolve
/resolve +time Cleared the spooler
""")
    assert "✗ Time entries are off for this account; an admin turns them on with /prefs cw_time_entries=true." in run.out
    assert "This session has 1 min of working time: /resolve +time [summary] logs it on ticket #1001." in run.out
    assert "Logged 1 min of working time" in run.out
    [entry] = cw.time_entries_of(1001)
    assert entry["chargeToType"] == "ServiceTicket" and entry["chargeToId"] == 1001
    assert len(cw.notes_of(1001)) == 1


async def test_an_outage_is_retried_without_a_second_note(psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    setup = await psa_rflow.console(f"{CONNECT}\n/new Printer offline in accounting\n/link 1001\n", "--strict")
    assert setup.code == 0, setup.out + setup.err
    cw.fail_after_write(1)  # the note lands, the answer is a 502: ambiguous
    run = await psa_rflow.console("/open 1\n/resolve Cleared the spooler\n/lane\n", "--strict")
    assert run.code == 0, run.out + run.err
    assert "✓ Posted the resolution note to ConnectWise ticket #1001" in run.out
    assert len(cw.notes_of(1001)) == 1
