"""Working time logged on a ticket as a ConnectWise time entry (offered on Resolve; MSPs bill by it).

Idempotency follows R19: with a marker, an entry that already carries it is returned, and an
ambiguous failure (the fake stores the entry, then answers 502) is checked before any new POST.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.psa import permissions
from adapters.psa.connectwise import ConnectWiseClient
from adapters.psa.time_entries import parse_cw_time, time_entry_body
from core.errors import InvalidInput
from core.psa import Psa, PsaError, PsaPermissionError, PsaUnavailable, TimeEntry
from tests.fakes.clock import FakeClock
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_conditions import And, Compare, parse_conditions
from tests.fakes.connectwise_fixtures import client_for, cw_fake

__all__ = ["cw_fake"]

NOW = datetime(2026, 11, 2, 9, 30, 15, 987654, tzinfo=UTC)
CW_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture
async def client(cw_fake: FakeConnectWise) -> AsyncIterator[ConnectWiseClient]:
    async with client_for(cw_fake, clock=FakeClock(NOW)) as connected:
        yield connected


def _posts(fake: FakeConnectWise) -> list[dict]:
    return [r.body for r in fake.requests_to("POST", "time/entries")]


async def test_posts_a_billable_service_ticket_entry_with_connectwise_fields(
    cw_fake: FakeConnectWise, client: ConnectWiseClient
) -> None:
    port: Psa = client  # mypy checks the client still implements the port
    started = datetime(2026, 11, 2, 8, 5, 0, tzinfo=UTC)
    entry = await port.add_time_entry(
        ticket_id=1001, minutes=25, notes="Cleared the print queue", member_id=502, started_at=started
    )
    [body] = _posts(cw_fake)
    assert body == {
        "chargeToType": "ServiceTicket",
        "chargeToId": 1001,
        "member": {"id": 502},
        "timeStart": "2026-11-02T08:05:00Z",
        "timeEnd": "2026-11-02T08:30:00Z",
        "actualHours": pytest.approx(25 / 60),
        "notes": "Cleared the print queue",
        "billableOption": "Billable",
        "addToDetailDescriptionFlag": False,
    }
    [stored] = cw_fake.time_entries_of(1001)
    assert entry == TimeEntry(id=stored["id"], ticket_id=1001, member_id=502, minutes=25,
                              notes="Cleared the print queue")  # fmt: skip
    assert stored["member"]["identifier"] == "asmith"
    assert cw_fake.notes_of(1001) == []  # not copied into the ticket's discussion


async def test_start_defaults_to_now_minus_the_minutes_in_utc(
    cw_fake: FakeConnectWise, client: ConnectWiseClient
) -> None:
    await client.add_time_entry(ticket_id=1002, minutes=90, notes="VPN rekey")
    [body] = _posts(cw_fake)
    assert (body["timeStart"], body["timeEnd"]) == ("2026-11-02T08:00:15Z", "2026-11-02T09:30:15Z")
    assert "member" not in body  # ConnectWise picks the API member itself


async def test_a_start_in_another_time_zone_is_sent_as_utc(
    cw_fake: FakeConnectWise, client: ConnectWiseClient
) -> None:
    eastern = timezone(timedelta(hours=-5))
    await client.add_time_entry(ticket_id=1001, minutes=1440, notes="All-day outage",
                                started_at=datetime(2026, 11, 1, 22, 0, tzinfo=eastern))  # fmt: skip
    [body] = _posts(cw_fake)
    assert (body["timeStart"], body["timeEnd"]) == ("2026-11-02T03:00:00Z", "2026-11-03T03:00:00Z")


@pytest.mark.parametrize("minutes", [0, -5, 1441, 10_000, True, 1.5, "30", None])
async def test_minutes_outside_1_to_1440_are_refused_before_any_request(
    cw_fake: FakeConnectWise, client: ConnectWiseClient, minutes: object
) -> None:
    with pytest.raises(InvalidInput, match="minutes"):
        await client.add_time_entry(ticket_id=1001, minutes=minutes, notes="x")  # type: ignore[arg-type]
    assert cw_fake.requests == []


@pytest.mark.parametrize("minutes", [1, 1440])
async def test_the_bounds_themselves_are_accepted(
    cw_fake: FakeConnectWise, client: ConnectWiseClient, minutes: int
) -> None:
    entry = await client.add_time_entry(ticket_id=1001, minutes=minutes, notes="bound")
    assert entry.minutes == minutes
    assert len(cw_fake.time_entries_of(1001)) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"notes": "   "}, "needs notes"),
        ({"started_at": datetime(2026, 11, 2, 8, 0)}, "time zone"),
        ({"marker": "rf:a\nrf:b"}, "one line"),
        ({"member_id": 0}, "member id"),
        ({"ticket_id": -1}, "ticket number"),
    ],
)
async def test_other_bad_input_is_refused_before_any_request(
    cw_fake: FakeConnectWise, client: ConnectWiseClient, kwargs: dict, message: str
) -> None:
    call = {"ticket_id": 1001, "minutes": 10, "notes": "work", **kwargs}
    with pytest.raises(InvalidInput, match=message):
        await client.add_time_entry(**call)
    assert cw_fake.requests == []


async def test_marker_survives_an_answer_lost_after_storing_and_bills_once(
    cw_fake: FakeConnectWise, client: ConnectWiseClient
) -> None:
    cw_fake.fail_after_write(1, status=502)  # stored, then answered 502
    entry = await client.add_time_entry(ticket_id=1001, minutes=30, notes="Replaced toner", marker="rf:t1")
    [stored] = cw_fake.time_entries_of(1001)
    assert stored["notes"] == "Replaced toner\n\nrf:t1"
    assert entry == TimeEntry(stored["id"], 1001, None, 30, "Replaced toner")
    assert [r.status for r in cw_fake.requests_to("POST", "time/entries")] == [502]  # never re-POSTed
    lookups = cw_fake.requests_to("GET", "time/entries")
    assert len(lookups) == 2  # once before posting, once after the ambiguous failure
    tree = parse_conditions(lookups[0].query["conditions"])
    assert tree == And(Compare("chargeToId", "=", 1001), Compare("chargeToType", "=", "ServiceTicket"))


async def test_marker_reposts_once_when_the_failed_post_did_not_store(
    cw_fake: FakeConnectWise, client: ConnectWiseClient
) -> None:
    cw_fake.fail_next_write(1, status=503)
    await client.add_time_entry(ticket_id=1001, minutes=30, notes="Replaced toner", marker="rf:t2")
    assert len(cw_fake.time_entries_of(1001)) == 1
    assert [r.status for r in cw_fake.requests_to("POST", "time/entries")] == [503, 201]


async def test_without_marker_an_ambiguous_failure_is_raised_not_replayed(
    cw_fake: FakeConnectWise, client: ConnectWiseClient
) -> None:
    cw_fake.fail_after_write(1, status=502)
    with pytest.raises(PsaUnavailable):
        await client.add_time_entry(ticket_id=1001, minutes=30, notes="Replaced toner")
    assert len(cw_fake.requests_to("POST", "time/entries")) == 1
    assert len(cw_fake.time_entries_of(1001)) == 1


async def test_a_retried_call_with_the_same_marker_returns_the_first_entry(
    cw_fake: FakeConnectWise, client: ConnectWiseClient
) -> None:
    first = await client.add_time_entry(ticket_id=1001, minutes=45, notes="Driver reinstall", marker="rf:t3")
    again = await client.add_time_entry(ticket_id=1001, minutes=45, notes="Driver reinstall", marker="rf:t3")
    assert again == first
    assert len(cw_fake.requests_to("POST", "time/entries")) == 1


async def test_the_marker_only_counts_as_the_last_line_of_this_tickets_entry(
    cw_fake: FakeConnectWise, client: ConnectWiseClient
) -> None:
    start, end = "2026-11-01T10:00:00Z", "2026-11-01T10:20:00Z"
    cw_fake.add_time_entry(1002, notes="Other ticket\n\nrf:t4", time_start=start, time_end=end)
    cw_fake.add_time_entry(1001, notes="rf:t4 quoted in the middle\nthen more", time_start=start, time_end=end)
    entry = await client.add_time_entry(ticket_id=1001, minutes=20, notes="Own work", marker="rf:t4")
    assert len(cw_fake.requests_to("POST", "time/entries")) == 1
    assert entry.notes == "Own work"
    assert len(cw_fake.time_entries_of(1001)) == 2 and len(cw_fake.time_entries_of(1002)) == 1


async def test_an_existing_entry_reports_its_billed_minutes(
    cw_fake: FakeConnectWise, client: ConnectWiseClient
) -> None:
    old = cw_fake.add_time_entry(1001, notes="Earlier try\n\nrf:t5", member_id=503,
                                 time_start="2026-11-01T10:00:00Z", time_end="2026-11-01T10:40:00Z")  # fmt: skip
    entry = await client.add_time_entry(ticket_id=1001, minutes=15, notes="Later", marker="rf:t5")
    assert entry == TimeEntry(old["id"], 1001, 503, 40, "Earlier try")
    assert _posts(cw_fake) == []


@pytest.mark.parametrize(
    ("level", "kwargs", "permission"),
    [
        ("Add", {}, permissions.TIME_ENTRY_ADD),
        ("Inquire", {"marker": "rf:t6"}, permissions.TIME_ENTRY_INQUIRE),
    ],
)
async def test_403_names_the_time_entry_permission(
    cw_fake: FakeConnectWise, client: ConnectWiseClient, level: str, kwargs: dict, permission: str
) -> None:
    cw_fake.deny("Time Entry", level)
    with pytest.raises(PsaPermissionError) as caught:
        await client.add_time_entry(ticket_id=1001, minutes=10, notes="work", **kwargs)
    assert caught.value.permission == permission
    assert "Time & Expense › Time Entry" in str(caught.value)
    assert cw_fake.time_entries == {}


async def test_connectwise_validation_errors_are_passed_on(client: ConnectWiseClient) -> None:
    with pytest.raises(PsaError, match="chargeToId: Service Ticket 4242 not found"):
        await client.add_time_entry(ticket_id=4242, minutes=10, notes="work")


async def test_the_fake_rejects_missing_required_fields_like_connectwise(cw_fake: FakeConnectWise) -> None:
    key = cw_fake.api_keys[0]
    async with httpx.AsyncClient(base_url=cw_fake.base_url) as http:
        response = await http.post(
            "time/entries", json={"notes": "no charge", "timeStart": "2026-11-02 08:00"},
            auth=(f"{key.company_id}+{key.public_key}", key.private_key), headers={"clientId": key.client_id},
        )  # fmt: skip
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidObject"
    assert sorted(e["field"] for e in body["errors"]) == ["chargeToId", "chargeToType"]
    assert cw_fake.time_entries == {}


@given(
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                       timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                                  timezone(timedelta(hours=-8))])),
    minutes=st.integers(min_value=1, max_value=1440),
)  # fmt: skip
def test_body_times_span_exactly_the_minutes_in_connectwise_format(start: datetime, minutes: int) -> None:
    body = time_entry_body(ticket_id=1, minutes=minutes, notes="n", member_id=None, start=start)
    assert CW_TIME.match(body["timeStart"]) and CW_TIME.match(body["timeEnd"])
    begin, end = parse_cw_time(body["timeStart"]), parse_cw_time(body["timeEnd"])
    assert begin is not None and end is not None
    assert end - begin == timedelta(minutes=minutes)
    assert abs(begin - start) < timedelta(seconds=1)
    assert round(body["actualHours"] * 60) == minutes
