"""ConnectWise writeback through the console process: link, resolve with a verified status, a silent
rejection reported loudly, a skipped transition, escalation as an internal note, never two notes."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator

import pytest

from adapters.psa.cw_api import ConnectWiseApi
from adapters.psa.cw_site import cw_settings
from bot.secretbox import new_key
from tests.e2e.conftest import Rflow
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import credentials_for, seed_demo

CONNECT = ("/psa connect site=acme.myconnectwise.example company=acme public_key=pub-4f1c "
           "private_key=PRIV-9d2e-s3cr3t client_id=5b1d6a0e-client-guid")
STATUSES = "/psa statuses 1 resolved=104 escalated=103"


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
{STATUSES}
/psa
/new VPN drops every hour
/link CW 1002
/resolve Raised the idle timeout
""", "--strict")
    out = run.out
    assert run.code == 0, out + run.err
    assert "private_key = •••••• (set)" in out and "PRIV-9d2e-s3cr3t" not in out + run.err
    assert "✓ ConnectWise answered: the connection works" in out
    assert "This mentions ticket #1001: /link 1001 links the session to it." in out
    assert "Linked ConnectWise ticket #1001: Printer offline in accounting — Contoso · Help Desk · New" in out
    assert "ticket #1001 Printer offline in accounting (Contoso · Help Desk · New)" in out
    assert "✓ Posted the resolution note to ConnectWise ticket #1001" in out
    assert "Status unchanged: no resolved status is chosen for the board 'Help Desk'." in out
    assert "Board 1 Help Desk — on resolve: Resolved, on escalate: Escalated" in out
    assert "board Help Desk, on resolve: Resolved (closes the ticket)" in out
    assert "Ticket status is now 'Resolved' (verified)." in out
    first, second = cw.notes_of(1001), cw.notes_of(1002)
    assert len(first) == 1 and len(second) == 1
    assert first[0]["resolutionFlag"] is True and first[0]["internalAnalysisFlag"] is False
    assert "The print spooler had 14 stuck jobs" in first[0]["text"]
    assert "Resolution: Raised the idle timeout" in second[0]["text"]  # the engineer's summary is in the note
    assert cw.ticket_view(1002)["status"]["id"] == 104 and cw.ticket_view(1001)["status"]["id"] == 101


async def test_a_status_of_another_board_is_refused_when_saved(psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    run = await psa_rflow.console(f"""
{CONNECT}
/psa statuses 1 resolved=202
/psa boards
/psa
""")
    assert ("✗ Status 202 is not a status of the board 'Help Desk'; choose one of its own. "
            "/psa boards lists each board's own statuses.") in run.out
    assert "Board 2 Projects" in run.out and "   202 Done (closed)" in run.out and "   104 Resolved (closed)" in run.out
    assert "No board statuses chosen" in run.out


async def test_a_retry_after_a_settings_fix_uses_the_new_status(psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    """The chosen status went inactive on the board after it was saved: checked again before use,
    the writeback fails loudly; the admin picks another and /retry uses it, with no second note."""
    setup = await psa_rflow.console(f"{CONNECT}\n{STATUSES}\n", "--strict")
    assert setup.code == 0, setup.out + setup.err
    cw.statuses[104]["inactive"] = True
    run = await psa_rflow.console("""
/new Outlook asks for the password
/link 1004
/resolve Rebuilt the profile
/psa statuses 1 resolved=102
/retry
""")
    assert "✗ Posted the resolution note to ConnectWise ticket #1004" in run.out
    assert "The resolved status 'Resolved' is no longer a status of the board 'Help Desk'." in run.out
    assert "Ticket status is now 'In Progress' (verified)." in run.out
    assert len(cw.notes_of(1004)) == 1  # the retry never posts a second note (R39)
    assert cw.ticket_view(1004)["status"]["id"] == 102
    with sqlite3.connect(psa_rflow.tmp / "rflow.db") as db:
        rows = list(db.execute("select outcome, status_outcome from writebacks"))
    assert rows == [("resolved", "verified")]


async def read_back(cw: FakeConnectWise, ticket_id: int) -> str:
    """The ticket's only note as ConnectWise serves it (`GET /service/tickets/{id}/notes/{noteId}`),
    read over HTTP with the API member's own credentials: exactly what the customer reads."""
    [stored] = cw.notes_of(ticket_id)
    api = ConnectWiseApi(cw_settings(credentials_for(cw.api_keys[0])), api_version="2022.1", base_url=cw.base_url,
                         timeout=5, max_retries=0, transport=None, backoff_base=0.01, max_retry_after=1)
    try:
        note = await api.request("GET", f"service/tickets/{ticket_id}/notes/{stored['id']}", what="the note")
    finally:
        await api.aclose()
    text = str(note["text"])
    assert "[rf:" not in text and "rf:" not in text
    return text


async def test_escalation_posts_an_internal_analysis_note(psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    run = await psa_rflow.console(f"""
{CONNECT}
{STATUSES}
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
    assert "Resolution: Cleared the stuck spooler" in cw.notes_of(1001)[0]["text"]
    text = await read_back(cw, 1001)
    assert WHEN.sub("<when>", text) == RESOLUTION_AS_SHOWN
    assert cw.notes_of(1001)[0]["resolutionFlag"] is True


RESOLUTION_AS_SHOWN = """Resolution: Cleared the stuck spooler

Problem
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


