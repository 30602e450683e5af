"""Working time logged on a ticket as a ConnectWise time entry (offered on Resolve; MSPs bill by it).

One POST per entry, never replayed: an answer that may have been lost raises
PsaUnavailable(maybe_applied=True) and `find_time_entry` recognises the entry by ticket, member,
start and notes (the exactly-once walk-through is in test_connectwise_exactly_once.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.psa import permissions
from adapters.psa.connectwise import ConnectWiseClient
from adapters.psa.time_entries import parse_cw_time, time_entry_body
from core.errors import InvalidInput
from core.ports.psa import Psa
from core.psa import BillableOption, PsaPermissionError, PsaRefused, PsaUnavailable, TimeEntry, TimeEntryRequest
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_conditions import And, Compare, parse_conditions
from tests.fakes.connectwise_fixtures import client_for, cw_client, cw_fake

__all__ = ["cw_client", "cw_fake"]

STARTED = datetime(2026, 11, 2, 8, 5, 0, tzinfo=UTC)
CW_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _entry(**overrides: Any) -> TimeEntryRequest:
    values: dict[str, Any] = {"ticket_id": 1001, "minutes": 25, "notes": "Cleared the print queue",
                              "started_at": STARTED, **overrides}  # fmt: skip
    return TimeEntryRequest(**values)


def _posts(fake: FakeConnectWise) -> list[dict]:
    return [r.body for r in fake.requests_to("POST", "time/entries")]


async def test_posts_a_service_ticket_entry_with_connectwise_fields(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    port: Psa = cw_client  # mypy checks the client still implements the port
    entry = await port.add_time_entry(_entry(member_id=502, billable=BillableOption.BILLABLE))
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


async def test_without_a_member_connectwise_records_the_api_member(cw_fake: FakeConnectWise) -> None:
    key = cw_fake.add_api_key("acme", "pub-api", "priv-api", "client-api", member_id=503)
    async with client_for(cw_fake, key) as client:
        entry = await client.add_time_entry(_entry())
    [body] = _posts(cw_fake)
    assert "member" not in body and "billableOption" not in body  # NO_DEFAULT: the work type decides
    assert entry.member_id == 503


async def test_the_start_is_cut_to_whole_seconds(cw_fake: FakeConnectWise, cw_client: ConnectWiseClient) -> None:
    await cw_client.add_time_entry(_entry(minutes=90, started_at=datetime(2026, 11, 2, 8, 0, 15, 987654, tzinfo=UTC)))
    [body] = _posts(cw_fake)
    assert (body["timeStart"], body["timeEnd"]) == ("2026-11-02T08:00:15Z", "2026-11-02T09:30:15Z")
    assert body["actualHours"] == pytest.approx(1.5)


async def test_a_start_in_another_time_zone_is_sent_as_utc(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    eastern = timezone(timedelta(hours=-5))
    await cw_client.add_time_entry(_entry(minutes=1440, notes="All-day outage",
                                          started_at=datetime(2026, 11, 1, 22, 0, tzinfo=eastern)))  # fmt: skip
    [body] = _posts(cw_fake)
    assert (body["timeStart"], body["timeEnd"]) == ("2026-11-02T03:00:00Z", "2026-11-03T03:00:00Z")


@pytest.mark.parametrize("minutes", [0, -5, 1441, 10_000, True, 1.5, "30", None])
async def test_minutes_outside_1_to_1440_are_refused_before_any_request(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient, minutes: object
) -> None:
    with pytest.raises(InvalidInput, match="minutes"):
        await cw_client.add_time_entry(_entry(minutes=minutes))
    with pytest.raises(InvalidInput, match="minutes"):
        await cw_client.find_time_entry(_entry(minutes=minutes))
    assert cw_fake.requests == []


@pytest.mark.parametrize("minutes", [1, 1440])
async def test_the_bounds_themselves_are_accepted(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient, minutes: int
) -> None:
    entry = await cw_client.add_time_entry(_entry(minutes=minutes, notes="bound"))
    assert entry.minutes == minutes
    assert len(cw_fake.time_entries_of(1001)) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"notes": "   "}, "needs notes"),
        ({"started_at": datetime(2026, 11, 2, 8, 0)}, "time zone"),
        ({"member_id": 0}, "member id"),
        ({"work_type_id": -3}, "work type id"),
        ({"work_role_id": True}, "work role id"),
        ({"ticket_id": -1}, "ticket number"),
    ],
)
async def test_other_bad_input_is_refused_before_any_request(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient, overrides: dict, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await cw_client.add_time_entry(_entry(**overrides))
    with pytest.raises(InvalidInput, match=message):
        await cw_client.find_time_entry(_entry(**overrides))
    assert cw_fake.requests == []


async def test_an_ambiguous_failure_is_raised_not_replayed(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    cw_fake.fail_after_write(1, status=502)  # stored, then answered 502
    with pytest.raises(PsaUnavailable) as caught:
        await cw_client.add_time_entry(_entry(notes="Replaced toner"))
    assert caught.value.maybe_applied is True
    assert [r.status for r in cw_fake.requests_to("POST", "time/entries")] == [502]
    assert len(cw_fake.time_entries_of(1001)) == 1
    assert cw_fake.requests_to("GET", "time/entries") == []  # looking is the outbox's call, not ours


async def test_a_5xx_that_did_not_store_is_also_not_replayed(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    cw_fake.fail_next_write(1, status=503)
    with pytest.raises(PsaUnavailable) as caught:
        await cw_client.add_time_entry(_entry(notes="Replaced toner"))
    assert caught.value.maybe_applied is True  # the client cannot tell the two apart
    assert len(cw_fake.requests_to("POST", "time/entries")) == 1
    assert cw_fake.time_entries_of(1001) == []
    assert await cw_client.find_time_entry(_entry(notes="Replaced toner")) is None


async def test_find_matches_ticket_member_start_and_notes(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    wanted = _entry(member_id=502, notes="Driver reinstall")
    start, end = "2026-11-02T08:05:00Z", "2026-11-02T08:30:00Z"
    cw_fake.add_time_entry(1002, notes="Driver reinstall", member_id=502, time_start=start, time_end=end)
    cw_fake.add_time_entry(1001, notes="Driver reinstall", member_id=503, time_start=start, time_end=end)
    cw_fake.add_time_entry(1001, notes="Driver reinstall", member_id=502,
                           time_start="2026-11-02T09:05:00Z", time_end="2026-11-02T09:30:00Z")  # fmt: skip
    cw_fake.add_time_entry(1001, notes="Driver reinstall, then more", member_id=502, time_start=start, time_end=end)
    assert await cw_client.find_time_entry(wanted) is None
    mine = cw_fake.add_time_entry(1001, notes="Driver reinstall\r\n", member_id=502, time_start=start, time_end=end)
    found = await cw_client.find_time_entry(wanted)
    assert found == TimeEntry(mine["id"], 1001, 502, 25, "Driver reinstall\r\n")
    tree = parse_conditions(cw_fake.requests_to("GET", "time/entries")[0].query["conditions"])
    compares: list[Compare] = []

    def flatten(node: object) -> None:
        if isinstance(node, And):
            flatten(node.left)
            flatten(node.right)
        else:
            assert isinstance(node, Compare)
            compares.append(node)

    flatten(tree)
    by_field = {(c.field, c.op): c.value for c in compares}
    assert by_field[("chargeToId", "=")] == 1001
    assert by_field[("chargeToType", "=")] == "ServiceTicket"
    assert by_field[("member/id", "=")] == 502
    assert ("timeStart", ">=") in by_field and ("timeStart", "<=") in by_field


async def test_an_existing_entry_reports_its_billed_minutes(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    old = cw_fake.add_time_entry(1001, notes="Earlier try", member_id=503,
                                 time_start="2026-11-01T10:00:00Z", time_end="2026-11-01T10:40:00Z")  # fmt: skip
    wanted = _entry(minutes=15, notes="Earlier try", member_id=503,
                    started_at=datetime(2026, 11, 1, 10, 0, tzinfo=UTC))  # fmt: skip
    assert await cw_client.find_time_entry(wanted) == TimeEntry(old["id"], 1001, 503, 40, "Earlier try")
    assert _posts(cw_fake) == []


@pytest.mark.parametrize(
    ("level", "call", "permission"),
    [
        ("Add", lambda c: c.add_time_entry(_entry()), permissions.TIME_ENTRY_ADD),
        ("Inquire", lambda c: c.find_time_entry(_entry()), permissions.TIME_ENTRY_INQUIRE),
    ],
)
async def test_403_names_the_time_entry_permission(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient, level: str, call, permission: str
) -> None:
    cw_fake.deny("Time Entry", level)
    with pytest.raises(PsaPermissionError) as caught:
        await call(cw_client)  # a blind "none found" could bill twice: find raises too
    assert caught.value.permission == permission
    assert "Time & Expense › Time Entry" in str(caught.value)
    assert cw_fake.time_entries == {}


async def test_connectwise_validation_errors_are_refusals_in_its_words(cw_client: ConnectWiseClient) -> None:
    with pytest.raises(PsaRefused, match="chargeToId: Service Ticket 4242 not found"):
        await cw_client.add_time_entry(_entry(ticket_id=4242))


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
    body = time_entry_body(TimeEntryRequest(ticket_id=1, minutes=minutes, notes="n", started_at=start))
    assert CW_TIME.match(body["timeStart"]) and CW_TIME.match(body["timeEnd"])
    begin, end = parse_cw_time(body["timeStart"]), parse_cw_time(body["timeEnd"])
    assert begin is not None and end is not None
    assert end - begin == timedelta(minutes=minutes)
    assert abs(begin - start) < timedelta(seconds=1)
    assert round(body["actualHours"] * 60) == minutes
