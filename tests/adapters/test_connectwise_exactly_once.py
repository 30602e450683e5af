"""Exactly-once writes without markers (R39): what the outbox relies on from the ConnectWise client.

ConnectWise has no idempotency key and shows a note's text to the customer, so nothing of ours is
written into notes or time entries. Instead: one POST, never replayed when it may have landed
(PsaUnavailable with `maybe_applied`), and `find_note` / `find_time_entry` to look for it before
writing again. A POST that certainly did not land (429, a refused connection) is retried here.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.psa.connectwise import ConnectWiseClient
from core.psa import BillableOption, NoteKind, PsaRefused, PsaUnavailable, TimeEntry, TimeEntryRequest
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import client_for, cw_client, cw_fake

__all__ = ["cw_client", "cw_fake"]

NOW = datetime(2026, 11, 2, 9, 30, 15, tzinfo=UTC)
STARTED = datetime(2026, 11, 2, 8, 5, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def nothing_of_ours_is_stored(cw_fake: FakeConnectWise) -> Iterator[None]:
    """After every test: no marker of ours in any note text or time-entry notes."""
    yield
    for note in cw_fake.notes.values():
        assert "[rf:" not in note["text"] and "rf:" not in note["text"]
    for entry in cw_fake.time_entries.values():
        assert "[rf:" not in entry["notes"] and "rf:" not in entry["notes"]
    for request in cw_fake.requests:
        assert "rf:" not in str(request.body)


@pytest.fixture
def clock(cw_fake: FakeConnectWise) -> datetime:
    """The fake server's clock (`dateCreated`) fixed at NOW."""
    cw_fake.now = lambda: NOW
    return NOW


def _entry(**overrides: object) -> TimeEntryRequest:
    values: dict = {"ticket_id": 1001, "minutes": 30, "notes": "Replaced the toner\nand cleaned the drum",
                    "started_at": STARTED, "member_id": 502, **overrides}  # fmt: skip
    return TimeEntryRequest(**values)


# ---- notes -----------------------------------------------------------------------------------


async def test_a_note_whose_answer_is_lost_is_raised_as_maybe_applied_and_written_once(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient, clock: datetime
) -> None:
    before = clock - timedelta(minutes=1)
    cw_fake.fail_after_write(1)  # stored, then answered 502
    with pytest.raises(PsaUnavailable) as caught:
        await cw_client.post_note(ticket_id=1001, kind=NoteKind.RESOLUTION, text="## Fixed\nRestarted the spooler.")
    assert caught.value.maybe_applied is True
    [stored] = cw_fake.notes_of(1001)
    assert [r.status for r in cw_fake.requests_to("POST", "service/tickets/1001/notes")] == [502]
    assert stored["text"] == "Fixed\n-----\n\nRestarted the spooler."  # exactly the rendered text

    found = await cw_client.find_note(ticket_id=1001, kind=NoteKind.RESOLUTION,
                                      text="## Fixed\nRestarted the spooler.", since=before)  # fmt: skip
    assert found is not None and (found.id, found.ticket_id, found.kind) == (stored["id"], 1001, NoteKind.RESOLUTION)
    assert await cw_client.find_note(ticket_id=1001, kind=NoteKind.RESOLUTION,
                                     text="## Fixed\nRestarted the router.", since=before) is None  # fmt: skip
    assert await cw_client.find_note(ticket_id=1001, kind=NoteKind.RESOLUTION,
                                     text="## Fixed\nRestarted the spooler.",
                                     since=clock + timedelta(seconds=1)) is None  # fmt: skip
    assert len(cw_fake.notes_of(1001)) == 1  # looking never writes


async def test_find_note_skips_an_older_note_with_the_same_text(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient, clock: datetime
) -> None:
    cw_fake.add_note(1001, "Rebooted.", resolutionFlag=True, date_created="2026-11-01T09:00:00Z")  # yesterday's
    assert await cw_client.find_note(ticket_id=1001, kind=NoteKind.RESOLUTION, text="Rebooted.",
                                     since=clock - timedelta(minutes=5)) is None  # fmt: skip
    posted = await cw_client.post_note(ticket_id=1001, kind=NoteKind.RESOLUTION, text="Rebooted.")
    assert await cw_client.find_note(ticket_id=1001, kind=NoteKind.RESOLUTION, text="Rebooted.",
                                     since=clock - timedelta(minutes=5)) == posted  # fmt: skip


async def test_a_note_answered_too_late_is_maybe_applied(cw_fake: FakeConnectWise, clock: datetime) -> None:
    cw_fake.answer_late("POST", "service/tickets/1001/notes", seconds=3)
    async with client_for(cw_fake, timeout=0.3) as client:
        with pytest.raises(PsaUnavailable) as caught:
            await client.post_note(ticket_id=1001, kind=NoteKind.DISCUSSION, text="Called the user.")
        assert caught.value.maybe_applied is True
        found = await client.find_note(ticket_id=1001, kind=NoteKind.DISCUSSION, text="Called the user.",
                                       since=clock - timedelta(minutes=1))  # fmt: skip
    [stored] = cw_fake.notes_of(1001)
    assert found is not None and found.id == stored["id"]
    assert len(cw_fake.requests_to("POST", "service/tickets/1001/notes")) == 1


# ---- time entries ----------------------------------------------------------------------------


async def test_a_time_entry_answered_after_the_timeout_is_maybe_applied_and_found(cw_fake: FakeConnectWise) -> None:
    cw_fake.answer_late("POST", "time/entries", seconds=3)
    wanted = _entry()
    async with client_for(cw_fake, timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(PsaUnavailable, match="timed out") as caught:
            await client.add_time_entry(wanted)
        assert time.monotonic() - started < 2  # gave up at the timeout, did not wait for the answer
        assert caught.value.maybe_applied is True
        found = await client.find_time_entry(wanted)
    assert len(cw_fake.requests_to("POST", "time/entries")) == 1  # never re-POSTed
    [stored] = cw_fake.time_entries_of(1001)
    assert stored["notes"] == wanted.notes  # exactly what we sent: no marker
    assert cw_fake.requests_to("POST", "time/entries")[0].body["notes"] == wanted.notes
    assert found == TimeEntry(stored["id"], 1001, 502, 30, wanted.notes)


async def test_find_time_entry_does_not_mistake_another_entry(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    await cw_client.add_time_entry(_entry())
    assert await cw_client.find_time_entry(_entry(notes="Replaced the toner")) is None
    assert await cw_client.find_time_entry(_entry(member_id=503)) is None
    assert await cw_client.find_time_entry(_entry(started_at=STARTED + timedelta(hours=1))) is None
    assert await cw_client.find_time_entry(_entry(ticket_id=1002)) is None
    assert await cw_client.find_time_entry(_entry()) is not None


async def test_a_time_entry_on_a_closed_ticket_is_refused_in_connectwise_words(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    cw_fake.add_ticket(1009, "Closed already", company_id=10, board_id=1, status_id=104)
    with pytest.raises(PsaRefused) as caught:
        await cw_client.add_time_entry(_entry(ticket_id=1009))
    assert "Time entries cannot be added to a closed ticket." in str(caught.value)
    assert "ticket #1009" in str(caught.value)
    assert cw_fake.time_entries_of(1009) == []
    assert len(cw_fake.requests_to("POST", "time/entries")) == 1  # a refusal is not retried


@pytest.mark.parametrize(
    ("billable", "sent"),
    [
        (BillableOption.BILLABLE, "Billable"),
        (BillableOption.DO_NOT_BILL, "DoNotBill"),
        (BillableOption.NO_CHARGE, "NoCharge"),
        (BillableOption.NO_DEFAULT, None),
    ],
)
async def test_a_time_entry_carries_member_work_type_work_role_and_billable_option(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient, billable: BillableOption, sent: str | None
) -> None:
    cw_fake.add_work_type(7, "Remote Support", default=True)
    cw_fake.add_work_type(8, "Onsite", bill_time="NoCharge")
    cw_fake.add_work_role(31, "Engineer")
    await cw_client.add_time_entry(_entry(member_id=503, work_type_id=8, work_role_id=31, billable=billable))
    [request] = cw_fake.requests_to("POST", "time/entries")
    assert request.body["member"] == {"id": 503}
    assert request.body["workType"] == {"id": 8}
    assert request.body["workRole"] == {"id": 31}
    assert request.body.get("billableOption") == sent
    assert ("billableOption" in request.body) is (sent is not None)
    [stored] = cw_fake.time_entries_of(1001)
    assert stored["member"]["id"] == 503
    assert (stored["workType"]["id"], stored["workRole"]["id"]) == (8, 31)


async def test_without_work_codes_none_are_sent(cw_fake: FakeConnectWise, cw_client: ConnectWiseClient) -> None:
    cw_fake.add_work_type(7, "Remote Support", default=True)
    await cw_client.add_time_entry(_entry())
    [request] = cw_fake.requests_to("POST", "time/entries")
    assert not {"workType", "workRole", "billableOption"} & set(request.body)
    [stored] = cw_fake.time_entries_of(1001)
    assert stored["workType"]["id"] == 7  # ConnectWise applies its own default


async def test_an_unknown_work_role_is_refused(cw_fake: FakeConnectWise, cw_client: ConnectWiseClient) -> None:
    with pytest.raises(PsaRefused, match="workRole"):
        await cw_client.add_time_entry(_entry(work_role_id=999))
    assert cw_fake.time_entries == {}


# ---- POSTs that certainly did not land are retried ----------------------------------------------


async def test_a_429_on_a_post_is_retried_and_writes_once(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    cw_fake.throttle(1, retry_after="0")
    entry = await cw_client.add_time_entry(_entry())
    assert [r.status for r in cw_fake.requests_to("POST", "time/entries")] == [429, 201]
    assert [e["id"] for e in cw_fake.time_entries_of(1001)] == [entry.id]
    cw_fake.throttle(1, retry_after="0")
    posted = await cw_client.post_note(ticket_id=1001, kind=NoteKind.DISCUSSION, text="hello")
    assert [r.status for r in cw_fake.requests_to("POST", "service/tickets/1001/notes")] == [429, 201]
    assert [n["id"] for n in cw_fake.notes_of(1001)] == [posted.id]


class RefusedFirst(httpx.AsyncBaseTransport):
    """The first `count` requests fail to connect (never sent); the rest reach the fake."""

    def __init__(self, count: int) -> None:
        self.count, self.refused = count, 0
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.refused < self.count:
            self.refused += 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
async def refusing(cw_fake: FakeConnectWise) -> AsyncIterator[tuple[ConnectWiseClient, RefusedFirst]]:
    transport = RefusedFirst(1)
    async with client_for(cw_fake, transport=transport) as client:
        yield client, transport


async def test_a_connect_error_on_a_post_is_safe_to_retry(
    cw_fake: FakeConnectWise, refusing: tuple[ConnectWiseClient, RefusedFirst]
) -> None:
    client, transport = refusing
    posted = await client.post_note(ticket_id=1001, kind=NoteKind.RESOLUTION, text="Done.")
    assert transport.refused == 1
    assert [n["id"] for n in cw_fake.notes_of(1001)] == [posted.id]
    transport.count += 1
    entry = await client.add_time_entry(_entry())
    assert transport.refused == 2
    assert [e["id"] for e in cw_fake.time_entries_of(1001)] == [entry.id]
    assert len(cw_fake.requests_to("POST", "time/entries")) == 1


async def test_a_connect_error_that_outlasts_the_retries_is_not_maybe_applied(cw_fake: FakeConnectWise) -> None:
    async with client_for(cw_fake, transport=RefusedFirst(10), max_retries=2) as client:
        with pytest.raises(PsaUnavailable) as caught:
            await client.add_time_entry(_entry())
    assert caught.value.maybe_applied is False  # never sent: the outbox may simply write again
    assert cw_fake.requests == []
