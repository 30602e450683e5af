"""Ticket resources (R34): owner when unassigned, co-assignees as type-4 schedule entries, idempotent.

`resources` on a ConnectWise ticket is derived and read-only, so the proof that a member is on the
ticket is the fake's derived string, not anything the client wrote to it.
"""

from __future__ import annotations

import pytest

from adapters.psa.connectwise import ConnectWiseClient
from core.psa import PsaUnavailable, ResourceChange, ResourceRole
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import cw_client, cw_fake

__all__ = ["cw_client", "cw_fake"]


def _entries(fake: FakeConnectWise, ticket_id: int) -> list[tuple[int, int]]:
    return sorted(
        (e["member"]["id"], e["type"]["id"]) for e in fake.schedule_entries.values() if e["objectId"] == ticket_id
    )


async def test_first_resource_on_an_unassigned_ticket_becomes_owner(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    change = await cw_client.add_resource(ticket_id=1001, member_id=502)
    assert change == ResourceChange(1001, 502, ResourceRole.OWNER, changed=True)
    assert cw_fake.tickets[1001]["owner"]["id"] == 502
    assert cw_fake.ticket_view(1001)["resources"] == "asmith"
    assert _entries(cw_fake, 1001) == []


async def test_more_resources_are_schedule_entries_of_type_4(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    change = await cw_client.add_resource(ticket_id=1002, member_id=502)
    assert change == ResourceChange(1002, 502, ResourceRole.CO_ASSIGNEE, changed=True)
    assert _entries(cw_fake, 1002) == [(502, 4)]
    assert cw_fake.tickets[1002]["owner"]["id"] == 501  # the owner is untouched
    assert cw_fake.ticket_view(1002)["resources"] == "jdoe, asmith"
    post = cw_fake.requests_to("POST", "schedule/entries")[0].body
    assert post == {"objectId": 1002, "member": {"id": 502}, "type": {"id": 4}}


async def test_adding_twice_changes_nothing_the_second_time(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    await cw_client.add_resource(ticket_id=1002, member_id=503)
    again = await cw_client.add_resource(ticket_id=1002, member_id=503)
    owner_again = await cw_client.add_resource(ticket_id=1002, member_id=501)
    assert again.changed is False and again.role is ResourceRole.CO_ASSIGNEE
    assert owner_again == ResourceChange(1002, 501, ResourceRole.OWNER, changed=False)
    assert _entries(cw_fake, 1002) == [(503, 4)]
    assert len(cw_fake.requests_to("POST", "schedule/entries")) == 1


async def test_a_lost_answer_on_the_schedule_entry_is_looked_up_not_replayed(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    cw_fake.fail_after_write(1)  # stored, then answered 502
    change = await cw_client.add_resource(ticket_id=1002, member_id=502)
    assert change == ResourceChange(1002, 502, ResourceRole.CO_ASSIGNEE, changed=True)
    assert _entries(cw_fake, 1002) == [(502, 4)]
    assert [r.status for r in cw_fake.requests_to("POST", "schedule/entries")] == [502]


async def test_a_failed_schedule_entry_that_did_not_land_is_raised(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    cw_fake.fail_next_write(1)  # refused 503, nothing stored
    with pytest.raises(PsaUnavailable):
        await cw_client.add_resource(ticket_id=1002, member_id=502)
    assert _entries(cw_fake, 1002) == []
    assert len(cw_fake.requests_to("POST", "schedule/entries")) == 1


async def test_removing_a_co_assignee_deletes_their_schedule_entry(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    cw_fake.add_schedule_entry(1002, 502)
    cw_fake.add_schedule_entry(1003, 502)  # another ticket: must stay
    change = await cw_client.remove_resource(ticket_id=1002, member_id=502)
    assert change == ResourceChange(1002, 502, ResourceRole.CO_ASSIGNEE, changed=True)
    assert _entries(cw_fake, 1002) == [] and _entries(cw_fake, 1003) == [(502, 4)]
    assert cw_fake.ticket_view(1002)["resources"] == "jdoe"
    again = await cw_client.remove_resource(ticket_id=1002, member_id=502)
    assert again.changed is False


async def test_removing_the_owner_clears_the_owner(cw_fake: FakeConnectWise, cw_client: ConnectWiseClient) -> None:
    change = await cw_client.remove_resource(ticket_id=1002, member_id=501)
    assert change == ResourceChange(1002, 501, ResourceRole.OWNER, changed=True)
    assert cw_fake.tickets[1002]["owner"] is None
    assert cw_fake.ticket_view(1002)["resources"] == ""


async def test_writing_resources_directly_would_not_work(cw_fake: FakeConnectWise, cw_client: ConnectWiseClient) -> None:
    """Documents the quirk the design works around: the field is read-only, the PATCH says 200."""
    import httpx

    key = cw_fake.api_keys[0]
    async with httpx.AsyncClient(base_url=cw_fake.base_url) as http:
        response = await http.patch(
            "service/tickets/1001", json=[{"op": "replace", "path": "resources", "value": "asmith"}],
            auth=(f"{key.company_id}+{key.public_key}", key.private_key), headers={"clientId": key.client_id},
        )  # fmt: skip
    assert response.status_code == 200
    assert (await cw_client.get_ticket(1001)).owner_member_id is None
    assert cw_fake.ticket_view(1001)["resources"] == ""
