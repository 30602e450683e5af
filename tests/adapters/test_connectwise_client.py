"""ConnectWiseClient against the fake server: auth, notes (R17, R20), status verification, reads."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from adapters.psa.connectwise import ConnectWiseClient, ConnectWiseProvider
from core.errors import InvalidInput
from core.ports.psa import Psa
from core.psa import NoteKind, PsaCredentials, PsaError, PsaNotFound, PsaVerificationError
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import client_for, credentials_for, cw_client, cw_fake

__all__ = ["cw_client", "cw_fake"]


async def test_every_request_carries_connectwise_auth_clientid_and_pinned_version(
    cw_fake: FakeConnectWise,
) -> None:
    async with client_for(cw_fake, api_version="2023.2") as client:
        port: Psa = client  # mypy checks that the client implements the port
        await port.get_ticket(1001)
    request = cw_fake.requests_to("GET", "service/tickets/1001")[0]
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(
        b"acme+pub-4f1c:PRIV-9d2e-s3cr3t"
    ).decode()
    assert request.headers["clientId"] == "5b1d6a0e-client-guid"
    assert request.headers["Accept"] == "application/vnd.connectwise.com+json; version=2023.2"


async def test_wrong_client_id_is_a_clear_credentials_error(cw_fake: FakeConnectWise) -> None:
    key = cw_fake.api_keys[0]
    credentials = credentials_for(key, client_id="someone-else")
    async with ConnectWiseClient(credentials, base_url=cw_fake.base_url) as client:
        with pytest.raises(PsaError, match="did not accept the API credentials"):
            await client.get_ticket(1001)


async def test_the_provider_opens_a_client_from_generic_credentials(cw_fake: FakeConnectWise) -> None:
    provider = ConnectWiseProvider(timeout=5, base_url=cw_fake.base_url)
    assert provider.kind == "connectwise" and provider.display_name == "ConnectWise"
    assert {f.name for f in provider.fields if f.secret} == {"private_key"}
    credentials = credentials_for(cw_fake.api_keys[0])
    async with provider.open(credentials) as client:
        assert (await client.get_ticket(1001)).id == 1001
    with pytest.raises(InvalidInput, match="autotask"):
        provider.open(PsaCredentials(kind="autotask", settings=credentials.settings, secrets=credentials.secrets))
    with pytest.raises(InvalidInput, match="private key"):
        provider.open(PsaCredentials(kind="connectwise", settings=credentials.settings))


async def test_get_ticket_maps_fields_and_links_to_the_ui(cw_client: ConnectWiseClient) -> None:
    ticket = await cw_client.get_ticket(1002)
    assert (ticket.id, ticket.summary) == (1002, "VPN drops every hour")
    assert (ticket.company_id, ticket.company_name) == (10, "Contoso")
    assert (ticket.board_id, ticket.board_name, ticket.status_id, ticket.status_name) == (
        1, "Help Desk", 101, "New",
    )  # fmt: skip
    assert ticket.owner_member_id == 501
    assert ticket.url is not None and ticket.url.startswith("https://acme.myconnectwise.example/")
    assert ticket.url.endswith("recid=1002")


async def test_missing_ticket_is_psa_not_found(cw_client: ConnectWiseClient) -> None:
    with pytest.raises(PsaNotFound, match="ticket #424242"):
        await cw_client.get_ticket(424242)


async def test_resolution_note_is_customer_visible_resolution(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    posted = await cw_client.post_note(ticket_id=1001, kind=NoteKind.RESOLUTION, text="## Problem\nFixed.")
    note = cw_fake.notes[posted.id]
    assert (posted.ticket_id, posted.kind) == (1001, NoteKind.RESOLUTION)
    assert note["ticketId"] == 1001 and note["text"] == "Problem\n-------\n\nFixed."  # plain text (R38)
    sent = cw_fake.requests_to("POST", "service/tickets/1001/notes")[0].body
    assert {k: v for k, v in sent.items() if k.endswith("Flag")} == {
        "resolutionFlag": True, "detailDescriptionFlag": False, "internalAnalysisFlag": False,
        "externalFlag": True, "internalFlag": False,
    }  # fmt: skip


async def test_escalation_package_is_internal_analysis_never_customer_visible(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    posted = await cw_client.post_note(ticket_id=1003, kind=NoteKind.INTERNAL_ANALYSIS, text="## Tried\nX")
    note = cw_fake.notes[posted.id]
    assert note["internalAnalysisFlag"] is True and note["internalFlag"] is True
    assert note["externalFlag"] is False and note["resolutionFlag"] is False
    assert note["detailDescriptionFlag"] is False


async def test_discussion_note_and_empty_text(cw_fake: FakeConnectWise, cw_client: ConnectWiseClient) -> None:
    posted = await cw_client.post_note(ticket_id=1001, kind=NoteKind.DISCUSSION, text="fyi")
    assert cw_fake.notes[posted.id]["detailDescriptionFlag"] is True
    with pytest.raises(InvalidInput):
        await cw_client.post_note(ticket_id=1001, kind=NoteKind.DISCUSSION, text="   ")


async def test_a_note_carries_nothing_of_ours_and_is_found_by_kind_time_and_text(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=5)
    cw_fake.add_note(1001, "Done.", detailDescriptionFlag=True)  # same text, another kind
    posted = await cw_client.post_note(ticket_id=1001, kind=NoteKind.RESOLUTION, text="Done.\n")
    assert cw_fake.notes[posted.id]["text"] == "Done."
    assert cw_fake.requests_to("POST", "service/tickets/1001/notes")[0].body["text"] == "Done."
    assert await cw_client.find_note(ticket_id=1001, kind=NoteKind.RESOLUTION, text="Done.", since=since) == posted
    assert await cw_client.find_note(ticket_id=1002, kind=NoteKind.RESOLUTION, text="Done.", since=since) is None
    assert await cw_client.find_note(ticket_id=1001, kind=NoteKind.INTERNAL_ANALYSIS, text="Done.",
                                     since=since) is None  # fmt: skip
    lookup = cw_fake.requests_to("GET", "service/tickets/1001/notes")[0]
    assert "dateCreated>=[" in lookup.query["conditions"]
    assert "resolutionFlag=true" in lookup.query["conditions"]


async def test_status_change_is_written_then_verified_by_reading_back(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    change = await cw_client.change_status(ticket_id=1001, status_id=104)
    assert (change.ticket_id, change.requested_status_id, change.actual_status_id) == (1001, 104, 104)
    assert change.actual_status_name == "Resolved"
    assert cw_fake.tickets[1001]["status"]["id"] == 104
    patch = cw_fake.requests_to("PATCH", "service/tickets/1001")[0]
    assert patch.body == [{"op": "replace", "path": "status", "value": {"id": 104}}]
    reads = cw_fake.requests_to("GET", "service/tickets/1001")
    assert reads and cw_fake.requests.index(reads[-1]) > cw_fake.requests.index(patch)


async def test_status_silently_ignored_by_connectwise_is_raised_loudly(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    # 202 "Done" belongs to the Projects board: ConnectWise answers 200 and keeps "New".
    with pytest.raises(PsaVerificationError) as caught:
        await cw_client.change_status(ticket_id=1001, status_id=202)
    error = caught.value
    assert cw_fake.requests_to("PATCH", "service/tickets/1001")[0].status == 200
    assert cw_fake.tickets[1001]["status"]["id"] == 101
    assert (error.ticket_id, error.actual) == (1001, "New")
    assert "kept ticket #1001 in 'New' instead of 'status #202'" in str(error)
    assert "not a status of board 'Help Desk'" in str(error)


async def test_an_ignored_status_names_connectwise(cw_client: ConnectWiseClient) -> None:
    with pytest.raises(PsaVerificationError) as caught:
        await cw_client.change_status(ticket_id=1001, status_id=202)
    assert str(caught.value).startswith("ConnectWise kept ticket #1001 in 'New' instead of 'status #202'")


async def test_board_statuses_are_the_boards_own(cw_client: ConnectWiseClient) -> None:
    statuses = await cw_client.board_statuses(1)
    assert [(s.id, s.name, s.board_id, s.closed) for s in statuses] == [
        (101, "New", 1, False), (102, "In Progress", 1, False),
        (103, "Escalated", 1, False), (104, "Resolved", 1, True),
    ]  # fmt: skip
    assert statuses.warning is None


async def test_members_are_the_active_ones(cw_client: ConnectWiseClient) -> None:
    members = await cw_client.list_members()
    assert [(m.id, m.identifier, m.name, m.email) for m in members] == [
        (501, "jdoe", "John Doe", "jdoe@acme.example"),
        (502, "asmith", "Ann Smith", "asmith@acme.example"),
        (503, "bwayne", "Bruce Wayne", "bwayne@acme.example"),
    ]


async def test_lists_page_through_with_page_and_page_size(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    for member_id in range(10_000, 12_345):
        cw_fake.add_member(member_id, f"m{member_id}", "Bulk", str(member_id))
    members = await cw_client.list_members()
    assert len(members) == 3 + 2345
    assert len({m.id for m in members}) == len(members)
    pages = cw_fake.requests_to("GET", "system/members")
    assert [(r.query["page"], r.query["pageSize"]) for r in pages] == [
        ("1", "1000"), ("2", "1000"), ("3", "1000"),
    ]  # fmt: skip


async def test_search_limit_sets_the_page_size_and_stops(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    for ticket_id in range(3000, 3040):
        cw_fake.add_ticket(ticket_id, f"Disk full {ticket_id}", company_id=10, board_id=1, status_id=101)
    found = await cw_client.search_tickets(text="disk full", limit=30)
    assert [t.id for t in found] == list(range(3039, 3009, -1))  # newest first
    assert [r.query["pageSize"] for r in cw_fake.requests_to("GET", "service/tickets")] == ["30"]
