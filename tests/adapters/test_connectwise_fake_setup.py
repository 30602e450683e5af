"""Self-check of the fake ConnectWise server's setup endpoints and exactly-once switches, spoken to
with plain httpx so that a fault here is the fake's and not the client's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import seed_demo

AUTH = httpx.BasicAuth("acme+pub-4f1c", "PRIV-9d2e-s3cr3t")
HEADERS = {"clientId": "5b1d6a0e-client-guid"}
NOTE = {"text": "Replaced the toner.", "detailDescriptionFlag": True}
ENTRY = {"chargeToType": "ServiceTicket", "chargeToId": 1001, "timeStart": "2026-12-04T01:00:00Z",
         "timeEnd": "2026-12-04T01:30:00Z", "billableOption": "Billable"}  # fmt: skip


@pytest.fixture
async def fake() -> AsyncIterator[FakeConnectWise]:
    async with FakeConnectWise() as started:
        seed_demo(started)
        started.add_work_type(1, "Remote Support", default=True)
        started.add_work_type(2, "Onsite", bill_time="DoNotBill")
        started.add_work_type(3, "Old Type", inactive=True)
        started.add_work_role(7, "Technician")
        yield started


@pytest.fixture
async def api(fake: FakeConnectWise) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fake.base_url, auth=AUTH, headers=HEADERS, timeout=5) as client:
        yield client


async def test_companyinfo_gives_the_codebase_without_authentication(fake: FakeConnectWise) -> None:
    async with httpx.AsyncClient(base_url=fake.site_url, timeout=5) as site:
        known, unknown = await site.get("/login/companyinfo/ACME"), await site.get("/login/companyinfo/globex")
    assert known.status_code == 200 and known.json()["Codebase"] == "v4_6_release/"
    assert known.json()["CompanyName"] == "ACME" and known.json()["SiteUrl"] == fake.site_url.removeprefix("http://")
    assert fake.base_url == f"{fake.site_url}/{known.json()['Codebase']}apis/3.0/"
    assert unknown.status_code == 200 and unknown.text == "null"
    assert [r.status for r in fake.requests_to("GET", "login/companyinfo/ACME")] == [200]


async def test_site_companies_are_known_too(fake: FakeConnectWise) -> None:
    fake.site_companies.add("Globex")
    async with httpx.AsyncClient(base_url=fake.site_url, timeout=5) as site:
        assert (await site.get("/login/companyinfo/globex")).json()["CompanyID"] == "globex"


async def test_boards_and_system_info(fake: FakeConnectWise, api: httpx.AsyncClient) -> None:
    fake.add_board(3, "Retired", [], inactive=True)
    boards = await api.get("service/boards", params={"conditions": "inactiveFlag=false", "orderBy": "name asc"})
    assert boards.json() == [{"id": 1, "name": "Help Desk", "inactiveFlag": False},
                             {"id": 2, "name": "Projects", "inactiveFlag": False}]  # fmt: skip
    info = await api.get("system/info")
    assert info.status_code == 200 and info.json()["isCloud"] is True and info.json()["version"].startswith("v2025")


async def test_work_types_filtered_and_work_roles(api: httpx.AsyncClient) -> None:
    types = await api.get("time/workTypes", params={"conditions": "inactiveFlag=false", "orderBy": "name asc"})
    assert [(t["name"], t["billTime"], t["overallDefaultFlag"]) for t in types.json()] == [
        ("Onsite", "DoNotBill", False), ("Remote Support", "Billable", True)]  # fmt: skip
    roles = await api.get("time/workRoles", params={"conditions": "inactiveFlag=false"})
    assert roles.json() == [{"id": 7, "name": "Technician", "inactiveFlag": False}]
    bad = await api.get("time/workTypes", params={"conditions": "rate>1"})
    assert bad.status_code == 400 and bad.json()["code"] == "InvalidObject"


async def test_members_have_an_office_email(api: httpx.AsyncClient) -> None:
    found = await api.get("system/members", params={"conditions": 'officeEmail="jdoe@acme.example"'})
    assert [m["identifier"] for m in found.json()] == ["jdoe"]


async def test_permission_guard_on_setup_tables(fake: FakeConnectWise, api: httpx.AsyncClient) -> None:
    fake.deny("Table Setup", "Inquire")
    assert (await api.get("time/workTypes")).status_code == 403
    assert (await api.get("system/info")).status_code == 200  # authentication only


async def test_time_entry_refused_on_a_closed_ticket(fake: FakeConnectWise, api: httpx.AsyncClient) -> None:
    closing = await api.patch("service/tickets/1001", json=[{"op": "replace", "path": "status", "value": {"id": 104}}])
    assert closing.status_code == 200 and closing.json()["closedFlag"] is True
    refused = await api.post("time/entries", json=ENTRY)
    assert refused.status_code == 400 and refused.json()["code"] == "InvalidObject"
    [error] = refused.json()["errors"]
    assert (error["code"], error["field"]) == ("InvalidField", "chargeToId") and "closed" in error["message"]
    assert fake.time_entries_of(1001) == []


async def test_time_entry_work_codes_and_api_member(fake: FakeConnectWise, api: httpx.AsyncClient) -> None:
    fake.api_keys[0].member_id = 503
    fake.now = lambda: datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    posted = await api.post("time/entries", json={**ENTRY, "workType": {"id": 2}, "workRole": {"id": 7}})
    assert posted.status_code == 201
    entry = posted.json()
    assert entry["workType"] == {"id": 2, "name": "Onsite"} and entry["workRole"] == {"id": 7, "name": "Technician"}
    assert entry["member"]["identifier"] == "bwayne" and entry["dateEntered"] == "2026-12-04T02:00:00Z"
    defaulted = await api.post("time/entries", json=ENTRY)
    assert defaulted.json()["workType"] == {"id": 1, "name": "Remote Support"} and defaulted.json()["workRole"] is None
    unknown = await api.post("time/entries", json={**ENTRY, "workRole": {"id": 99}})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "workRole"
    found = await api.get("time/entries", params={"conditions": "workType/id=2 and workRole/id=7"})
    assert [e["id"] for e in found.json()] == [entry["id"]]


async def test_closed_seed_and_closed_status_set_the_flag(fake: FakeConnectWise) -> None:
    fake.add_ticket(1005, "Done already", company_id=10, board_id=1, status_id=101, closed=True)
    fake.add_ticket(1006, "Resolved", company_id=10, board_id=1, status_id=104)
    assert fake.tickets[1005]["closedFlag"] and fake.tickets[1006]["closedFlag"]


async def test_a_wrong_client_id_is_named(fake: FakeConnectWise) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url, auth=AUTH, timeout=5) as no_client_id:
        missing = await no_client_id.get("system/info")
        wrong = await no_client_id.get("system/info", headers={"clientId": "someone-else"})
    bad_keys = httpx.BasicAuth("acme+pub-4f1c", "wrong")
    async with httpx.AsyncClient(base_url=fake.base_url, auth=bad_keys, headers=HEADERS, timeout=5) as keys:
        refused = await keys.get("system/info")
    for answer in (missing, wrong):
        assert answer.status_code == 401 and answer.json() == {"code": "Unauthorized", "message": "ClientId is invalid or missing"}
    assert refused.status_code == 401 and refused.json()["message"] != "ClientId is invalid or missing"


async def test_answer_late_stores_the_note_before_the_client_times_out(fake: FakeConnectWise) -> None:
    fake.answer_late("POST", "service/tickets/1001/notes", seconds=3)
    async with httpx.AsyncClient(base_url=fake.base_url, auth=AUTH, headers=HEADERS, timeout=0.2) as hasty:
        with pytest.raises(httpx.ReadTimeout):
            await hasty.post("service/tickets/1001/notes", json=NOTE)
    [stored] = fake.notes_of(1001)
    assert stored["text"] == NOTE["text"]
    assert [r.status for r in fake.requests_to("POST", "service/tickets/1001/notes")] == [201]
    async with httpx.AsyncClient(base_url=fake.base_url, auth=AUTH, headers=HEADERS, timeout=1) as other:
        seen = await other.get("service/tickets/1001/notes")  # visible while the answer is still held
        again = await other.post("service/tickets/1001/notes", json=NOTE)  # count=1: answered at once
    assert [n["id"] for n in seen.json()] == [stored["id"]] and again.status_code == 201


async def test_answer_late_ends_when_the_fake_closes() -> None:
    fake = FakeConnectWise()
    await fake.start()
    seed_demo(fake)
    fake.answer_late("POST", "time/entries", seconds=30)
    async with httpx.AsyncClient(base_url=fake.base_url, auth=AUTH, headers=HEADERS, timeout=10) as client:
        posting = asyncio.create_task(client.post("time/entries", json=ENTRY))
        while not fake.time_entries_of(1001):
            await asyncio.sleep(0.01)
        started = asyncio.get_running_loop().time()
        await fake.close()
        answer = await posting
    assert answer.status_code == 201 and asyncio.get_running_loop().time() - started < 5


async def test_notes_carry_date_created_and_member(fake: FakeConnectWise, api: httpx.AsyncClient) -> None:
    fake.now = lambda: datetime(2026, 12, 4, 0, 59, 59, tzinfo=UTC)
    early = (await api.post("service/tickets/1001/notes", json=NOTE)).json()
    fake.now = lambda: datetime(2026, 12, 4, 1, 0, 0, tzinfo=UTC)
    late = (await api.post("service/tickets/1001/notes", json={**NOTE, "member": {"id": 501}})).json()
    resolution = await api.post("service/tickets/1001/notes", json={"text": "Fixed.", "resolutionFlag": True})
    assert early["dateCreated"] == "2026-12-04T00:59:59Z" and early["member"] is None
    assert late["member"]["identifier"] == "jdoe"
    since = await api.get("service/tickets/1001/notes", params={"conditions": "dateCreated>=[2026-12-04T01:00:00Z]"})
    assert [n["id"] for n in since.json()] == [late["id"], resolution.json()["id"]]
    mine = await api.get("service/tickets/1001/notes", params={"conditions": "member/id=501 and detailDescriptionFlag=true"})
    assert [n["id"] for n in mine.json()] == [late["id"]]
    assert [n["text"] for n in fake.resolution_notes(1001)] == ["Fixed."]
