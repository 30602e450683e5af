"""R38 over the wire: a markdown note posted through the client is stored in ConnectWise as plain
text, and reading it back (`GET /service/tickets/{id}/notes/{noteId}`) gives exactly that text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.psa.connectwise import ConnectWiseClient
from adapters.psa.cw_api import ConnectWiseApi
from adapters.psa.cw_site import cw_settings
from core.psa import NoteKind, PsaNotFound
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import credentials_for, cw_client, cw_fake

__all__ = ["cw_client", "cw_fake"]

PACKAGE = """## Problem
Printer **PRN-02** is offline for _accounting_.
Reason for escalation: needs an onsite visit

## What we've tried
- Restarted the spooler on `\\\\fs01\\spool`
- Cleared C:\\Windows\\System32\\spool\\PRINTERS\\*.*

## Suggested next steps
1. Check the jam sensor
2. Run:

```
Get-Printer -Name PRN-02 | Format-List
```

See [the runbook](https://kb.example/printers)."""

PLAIN = """Problem
-------

Printer PRN-02 is offline for accounting.
Reason for escalation: needs an onsite visit

What we've tried
----------------

- Restarted the spooler on \\\\fs01\\spool
- Cleared C:\\Windows\\System32\\spool\\PRINTERS\\*.*

Suggested next steps
--------------------

1. Check the jam sensor
2. Run:

    Get-Printer -Name PRN-02 | Format-List

See the runbook (https://kb.example/printers)."""


@pytest.fixture
async def api(cw_fake: FakeConnectWise) -> AsyncIterator[ConnectWiseApi]:
    """A second, independent reader of the fake: the ConnectWise HTTP layer, not the notes code."""
    client = ConnectWiseApi(cw_settings(credentials_for(cw_fake.api_keys[0])), api_version="2022.1", base_url=cw_fake.base_url,
                            timeout=5, max_retries=0, transport=None, backoff_base=0.01, max_retry_after=1)
    try:
        yield client
    finally:
        await client.aclose()


async def read_note(api: ConnectWiseApi, ticket_id: int, note_id: int) -> dict[str, Any]:
    note = await api.request("GET", f"service/tickets/{ticket_id}/notes/{note_id}", what="the note")
    assert isinstance(note, dict)
    return note


async def test_a_package_round_trips_as_plain_text(cw_client: ConnectWiseClient, api: ConnectWiseApi,
                                                   cw_fake: FakeConnectWise) -> None:
    posted = await cw_client.post_note(ticket_id=1003, kind=NoteKind.INTERNAL_ANALYSIS, text=PACKAGE)
    note = await read_note(api, 1003, posted.id)
    assert note["id"] == posted.id and note["internalAnalysisFlag"] is True
    assert note["text"] == PLAIN  # nothing of ours is added: the customer's PSA shows exactly this
    sent = cw_fake.requests_to("POST", "service/tickets/1003/notes")[0].body
    assert sent["text"] == note["text"]  # what we sent is what ConnectWise keeps and shows


async def test_find_note_recognises_the_rendered_markdown(cw_client: ConnectWiseClient) -> None:
    since = datetime.now(UTC) - timedelta(seconds=5)
    posted = await cw_client.post_note(ticket_id=1001, kind=NoteKind.RESOLUTION, text="## Resolution\n**Done**")
    found = await cw_client.find_note(ticket_id=1001, kind=NoteKind.RESOLUTION, text="## Resolution\n**Done**",
                                      since=since)  # fmt: skip
    assert found == posted


async def test_find_note_ignores_crlf_and_trailing_blanks_connectwise_may_add(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=5)
    stored = cw_fake.add_note(1003, PLAIN.replace("\n", "  \r\n") + "\r\n", internalAnalysisFlag=True)
    found = await cw_client.find_note(ticket_id=1003, kind=NoteKind.INTERNAL_ANALYSIS, text=PACKAGE, since=since)
    assert found is not None and found.id == stored["id"]
    changed = PACKAGE.replace("onsite visit", "remote session")
    assert await cw_client.find_note(ticket_id=1003, kind=NoteKind.INTERNAL_ANALYSIS, text=changed,
                                     since=since) is None  # fmt: skip


async def test_a_note_of_another_ticket_is_not_found(cw_client: ConnectWiseClient, api: ConnectWiseApi) -> None:
    posted = await cw_client.post_note(ticket_id=1001, kind=NoteKind.DISCUSSION, text="fyi")
    assert (await read_note(api, 1001, posted.id))["text"] == "fyi"
    with pytest.raises(PsaNotFound):
        await read_note(api, 1002, posted.id)
