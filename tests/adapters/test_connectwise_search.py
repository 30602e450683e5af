"""Ticket search (R34): filters really applied, and user text never alters the query.

The fake parses `conditions` for real, so a filter the client forgot or a string that broke out of
its literal would show up here as tickets that should not be returned.
"""

from __future__ import annotations

import httpx
import pytest

from adapters.psa.connectwise import ConnectWiseClient
from core.errors import InvalidInput
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import cw_client, cw_fake

__all__ = ["cw_client", "cw_fake"]

BREAKOUT = 'printer" or company/id=20 or summary contains "'


async def test_company_filter_is_really_applied(cw_fake: FakeConnectWise, cw_client: ConnectWiseClient) -> None:
    found = await cw_client.search_tickets(text="printer", company_id=10)
    assert [t.id for t in found] == [2001, 1001]
    assert all(t.company_id == 10 for t in found)
    sent = cw_fake.requests_to("GET", "service/tickets")[0].query["conditions"]
    assert "company/id=10" in sent


async def test_board_filter(cw_fake: FakeConnectWise, cw_client: ConnectWiseClient) -> None:
    assert [t.id for t in await cw_client.search_tickets(text="PRINTER", board_id=2)] == [2001]
    assert [t.id for t in await cw_client.search_tickets(text="printer", company_id=20, board_id=1)] == [1003]
    assert await cw_client.search_tickets(text="printer", company_id=20, board_id=2) == []


async def test_only_open_tickets_unless_asked(cw_fake: FakeConnectWise, cw_client: ConnectWiseClient) -> None:
    cw_fake.add_ticket(1005, "Printer replaced", company_id=10, board_id=1, status_id=104)  # closed status
    found = await cw_client.search_tickets(text="printer", company_id=10)
    assert [t.id for t in found] == [2001, 1001]
    assert "closedFlag=false" in cw_fake.requests_to("GET", "service/tickets")[0].query["conditions"]
    everything = await cw_client.search_tickets(text="printer", company_id=10, open_only=False)
    assert [t.id for t in everything] == [2001, 1005, 1001]
    assert [t.closed for t in everything] == [False, True, False]
    assert "closedFlag" not in cw_fake.requests_to("GET", "service/tickets")[1].query["conditions"]


async def test_a_naive_query_would_leak_other_companies(cw_fake: FakeConnectWise) -> None:
    """Proves the fake parses for real: pasting the hostile text into a literal breaks out."""
    key = cw_fake.api_keys[0]
    naive = f'company/id=10 and summary contains "{BREAKOUT}"'
    async with httpx.AsyncClient(base_url=cw_fake.base_url) as http:
        response = await http.get(
            "service/tickets", params={"conditions": naive},
            auth=(f"{key.company_id}+{key.public_key}", key.private_key),
            headers={"clientId": key.client_id},
        )  # fmt: skip
    assert response.status_code == 200
    assert {t["company"]["id"] for t in response.json()} == {10, 20}


async def test_the_same_hostile_text_is_refused_by_the_client(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    with pytest.raises(InvalidInput, match="double quotes"):
        await cw_client.search_tickets(text=BREAKOUT, company_id=10)
    with pytest.raises(InvalidInput, match="backslashes"):
        await cw_client.search_tickets(text='printer\\" or id>0', company_id=10)
    assert cw_fake.requests_to("GET", "service/tickets") == []


@pytest.mark.parametrize(
    "text",
    [
        "printer) or (company/id=20",
        "printer or company/id != 10",
        "printer' or '1'='1",
        "printer%",
        "printer and id>0",
        "[2020-01-01T00:00:00Z]",
    ],
)
async def test_condition_syntax_in_text_is_only_literal_text(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient, text: str
) -> None:
    cw_fake.add_ticket(1100, f"Weird: {text}", company_id=10, board_id=1, status_id=101)
    cw_fake.add_ticket(1101, f"Weird: {text}", company_id=20, board_id=1, status_id=101)
    found = await cw_client.search_tickets(text=text, company_id=10)
    assert [t.id for t in found] == [1100]


async def test_blank_text_is_no_text_filter(cw_client: ConnectWiseClient) -> None:
    found = await cw_client.search_tickets(text="   ", company_id=20)
    assert [t.id for t in found] == [1004, 1003]


@pytest.mark.parametrize("kwargs", [{"company_id": "10 or 1=1"}, {"board_id": True}, {"limit": 0}, {"limit": 5000}])
async def test_non_integer_filters_and_bad_limits_are_refused(cw_client: ConnectWiseClient, kwargs: dict) -> None:
    with pytest.raises(InvalidInput):
        await cw_client.search_tickets(**kwargs)
