"""Setting up a ConnectWise connection (R40): where the API lives, "Test connection", setup reads.

The clients here are given no base URL, only the site (the fake's `http://127.0.0.1:PORT`), so the
codebase is discovered over HTTP from `/login/companyinfo/{company}` as it is for a real account.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.psa import permissions
from adapters.psa.connectwise import ConnectWiseClient
from adapters.psa.cw_site import CwSettings, api_base_url, api_origin, site_origin, ui_root
from core.errors import InvalidInput
from core.psa import CheckCode, PsaBoard, PsaMember, PsaPermissionError, PsaUnavailable, WorkCode
from tests.fakes.connectwise_api import ApiKey, FakeConnectWise
from tests.fakes.connectwise_fixtures import credentials_for, cw_client, cw_fake

__all__ = ["cw_client", "cw_fake"]


def _settings(site: str, codebase: str | None = None) -> CwSettings:
    return CwSettings(site=site, company_id="acme", public_key="pub", private_key="priv", client_id="guid",
                      codebase=codebase)  # fmt: skip


def site_client(fake: FakeConnectWise, key: ApiKey | None = None, **overrides: Any) -> ConnectWiseClient:
    """A client as an account opens it: the site and keys only, no base URL."""
    timeout = overrides.pop("timeout", 5)
    credentials = credentials_for(key or fake.api_keys[0], site=fake.site_url, **overrides)
    return ConnectWiseClient(credentials, timeout=timeout, backoff_base=0.01)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- where the API lives ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "origin"),
    [
        ("na.myconnectwise.net", "https://api-na.myconnectwise.net"),
        ("EU.MyConnectWise.net/", "https://api-EU.MyConnectWise.net"),
        ("https://au.myconnectwise.net", "https://api-au.myconnectwise.net"),
        ("api-na.myconnectwise.net", "https://api-na.myconnectwise.net"),
        ("staging.connectwisedev.com", "https://api-staging.connectwisedev.com"),
        ("cw.example.com", "https://cw.example.com"),
        ("http://cw.local:8080/", "http://cw.local:8080"),
        ("myconnectwise.net.example.com", "https://myconnectwise.net.example.com"),
        ("evilmyconnectwise.net", "https://evilmyconnectwise.net"),
    ],
)
def test_api_origin_puts_api_in_front_of_cloud_hosts_only(site: str, origin: str) -> None:
    assert api_origin(site) == origin


def test_api_base_url_follows_site_and_codebase() -> None:
    assert api_base_url(_settings("na.myconnectwise.net"), None) == (
        "https://api-na.myconnectwise.net/v4_6_release/apis/3.0/"
    )
    assert api_base_url(_settings("na.myconnectwise.net"), "v2025_1") == (
        "https://api-na.myconnectwise.net/v2025_1/apis/3.0/"
    )
    assert api_base_url(_settings("cw.example.com/"), "/v2024_1/") == "https://cw.example.com/v2024_1/apis/3.0/"
    # Links a person opens go to the site itself, not the API host.
    assert ui_root(_settings("na.myconnectwise.net"), "v2025_1/") == "https://na.myconnectwise.net/v2025_1/"


@pytest.mark.parametrize("site", ["", "   ", "/"])
def test_a_site_without_a_host_is_refused(site: str) -> None:
    with pytest.raises(InvalidInput):
        site_origin(site)


# ---- test connection ----------------------------------------------------------------------------


async def test_a_good_connection_reports_ok_with_the_discovered_codebase(cw_fake: FakeConnectWise) -> None:
    async with site_client(cw_fake) as client:
        report = await client.check_connection()
        assert client.codebase == "v4_6_release/"
    assert report.ok and report.problems == ()
    assert dict(report.discovered) == {"codebase": "v4_6_release/"}
    assert report.api_member == "acme+pub-4f1c"
    [discovery] = cw_fake.requests_to("GET", "login/companyinfo/acme")
    assert "Authorization" not in discovery.headers  # the site's page needs no keys
    assert cw_fake.requests_to("GET", "system/info")[0].status == 200


async def test_an_unknown_company_is_company_unknown(cw_fake: FakeConnectWise) -> None:
    async with site_client(cw_fake, company="nobody") as client:
        report = await client.check_connection()
    [problem] = report.problems
    assert problem.code is CheckCode.COMPANY_UNKNOWN
    assert "nobody" in problem.message
    assert not report.ok and dict(report.discovered) == {}
    assert cw_fake.requests_to("GET", "system/info") == []  # stopped at the first thing to fix


async def test_a_wrong_private_key_is_credentials_refused(cw_fake: FakeConnectWise) -> None:
    async with site_client(cw_fake, private_key="wrong") as client:
        report = await client.check_connection()
    [problem] = report.problems
    assert problem.code is CheckCode.CREDENTIALS_REFUSED
    assert "private key" in problem.message
    assert dict(report.discovered) == {"codebase": "v4_6_release/"}


async def test_a_wrong_client_id_is_client_id_refused(cw_fake: FakeConnectWise) -> None:
    async with site_client(cw_fake, client_id="not-the-guid") as client:
        report = await client.check_connection()
    [problem] = report.problems
    assert problem.code is CheckCode.CLIENT_ID_REFUSED
    assert "clientId" in problem.message


async def test_a_missing_read_permission_is_named(cw_fake: FakeConnectWise) -> None:
    cw_fake.deny("Time Entry", "Inquire")
    async with site_client(cw_fake) as client:
        report = await client.check_connection()
    [problem] = report.problems
    assert problem.code is CheckCode.PERMISSION_MISSING
    assert problem.permission == permissions.TIME_ENTRY_INQUIRE
    assert permissions.TIME_ENTRY_INQUIRE in problem.message
    assert report.api_member == "acme+pub-4f1c"


async def test_every_missing_read_permission_is_listed(cw_fake: FakeConnectWise) -> None:
    cw_fake.deny("Service Tickets", "Inquire")
    cw_fake.deny("Member Maintenance", "Inquire")
    async with site_client(cw_fake) as client:
        report = await client.check_connection()
    assert [(p.code, p.permission) for p in report.problems] == [
        (CheckCode.PERMISSION_MISSING, permissions.TICKETS_INQUIRE),
        (CheckCode.PERMISSION_MISSING, permissions.MEMBERS_INQUIRE),
    ]


async def test_an_unreachable_site_is_site_unreachable(cw_fake: FakeConnectWise) -> None:
    credentials = credentials_for(cw_fake.api_keys[0], site=f"http://127.0.0.1:{_closed_port()}")
    async with ConnectWiseClient(credentials, timeout=2, backoff_base=0.01) as client:
        report = await client.check_connection()
    [problem] = report.problems
    assert problem.code is CheckCode.SITE_UNREACHABLE
    assert "127.0.0.1" in problem.message
    assert dict(report.discovered) == {}


async def test_with_a_given_base_url_nothing_is_discovered(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    report = await cw_client.check_connection()
    assert report.ok and dict(report.discovered) == {}
    assert cw_fake.requests_to("GET", "login/companyinfo/acme") == []


# ---- lazy discovery -----------------------------------------------------------------------------


async def test_a_client_without_codebase_discovers_it_once_then_reads(cw_fake: FakeConnectWise) -> None:
    async with site_client(cw_fake) as client:
        assert client.codebase is None
        ticket = await client.get_ticket(1001)
        assert client.codebase == "v4_6_release/"
        assert (await client.get_ticket(1002)).id == 1002
    assert ticket.id == 1001
    assert ticket.url == f"{cw_fake.site_url}/v4_6_release/ConnectWise.aspx?locale=en_US&routeTo=ServiceFV&recid=1001"
    assert len(cw_fake.requests_to("GET", "login/companyinfo/acme")) == 1
    paths = [r.path for r in cw_fake.requests]
    assert paths == ["login/companyinfo/acme", "service/tickets/1001", "service/tickets/1002"]


async def test_a_stored_codebase_is_used_without_discovery(cw_fake: FakeConnectWise) -> None:
    async with site_client(cw_fake, codebase="v4_6_release") as client:
        assert (await client.get_ticket(1001)).id == 1001
    assert cw_fake.requests_to("GET", "login/companyinfo/acme") == []


async def test_lazy_discovery_failures_are_domain_errors(cw_fake: FakeConnectWise) -> None:
    async with site_client(cw_fake, company="nobody") as client:
        with pytest.raises(Exception, match="does not know the company 'nobody'") as caught:
            await client.get_ticket(1001)
    assert not isinstance(caught.value, PsaUnavailable)
    credentials = credentials_for(cw_fake.api_keys[0], site=f"http://127.0.0.1:{_closed_port()}")
    async with ConnectWiseClient(credentials, timeout=2) as client:
        with pytest.raises(PsaUnavailable, match="could not be reached"):
            await client.get_ticket(1001)


# ---- setup reads --------------------------------------------------------------------------------


@pytest.fixture
async def setup_client(cw_fake: FakeConnectWise) -> AsyncIterator[ConnectWiseClient]:
    cw_fake.add_board(3, "Archive", [(301, "Old", False)], inactive=True)
    cw_fake.add_work_type(7, "Remote Support")
    cw_fake.add_work_type(8, "Onsite", default=True)
    cw_fake.add_work_type(9, "Legacy", inactive=True)
    cw_fake.add_work_role(31, "Engineer")
    cw_fake.add_work_role(32, "Dispatcher")
    cw_fake.add_work_role(33, "Retired role", inactive=True)
    async with site_client(cw_fake) as client:
        yield client


async def test_list_boards_gives_the_active_boards(setup_client: ConnectWiseClient) -> None:
    boards = await setup_client.list_boards()
    assert list(boards) == [PsaBoard(1, "Help Desk"), PsaBoard(2, "Projects")]
    assert boards.warning is None


async def test_work_types_carry_connectwise_default(setup_client: ConnectWiseClient) -> None:
    assert list(await setup_client.work_types()) == [
        WorkCode(8, "Onsite", default=True), WorkCode(7, "Remote Support", default=False),
    ]  # fmt: skip


async def test_work_roles_are_the_active_ones(setup_client: ConnectWiseClient) -> None:
    assert list(await setup_client.work_roles()) == [WorkCode(32, "Dispatcher"), WorkCode(31, "Engineer")]


@pytest.mark.parametrize("email", ["asmith@acme.example", "ASmith@ACME.example", "  asmith@acme.example "])
async def test_find_member_by_email_ignores_case(setup_client: ConnectWiseClient, email: str) -> None:
    assert await setup_client.find_member_by_email(email) == PsaMember(502, "asmith", "Ann Smith",
                                                                       "asmith@acme.example")  # fmt: skip


async def test_find_member_by_email_is_none_when_absent_ambiguous_or_inactive(
    cw_fake: FakeConnectWise, setup_client: ConnectWiseClient
) -> None:
    cw_fake.add_member(505, "twin1", "Twin", "One", email="shared@acme.example")
    cw_fake.add_member(506, "twin2", "Twin", "Two", email="Shared@acme.example")
    cw_fake.add_member(507, "left", "Left", "Company", email="left@acme.example", inactive=True)
    assert await setup_client.find_member_by_email("nobody@acme.example") is None
    assert await setup_client.find_member_by_email("shared@acme.example") is None
    assert await setup_client.find_member_by_email("left@acme.example") is None
    assert await setup_client.find_member_by_email("") is None


async def test_find_member_by_email_raises_without_the_member_permission(
    cw_fake: FakeConnectWise, setup_client: ConnectWiseClient
) -> None:
    cw_fake.deny("Member Maintenance", "Inquire")
    with pytest.raises(PsaPermissionError) as caught:
        await setup_client.find_member_by_email("asmith@acme.example")
    assert caught.value.permission == permissions.MEMBERS_INQUIRE


async def test_search_is_open_only_unless_asked(cw_fake: FakeConnectWise, setup_client: ConnectWiseClient) -> None:
    cw_fake.add_ticket(1010, "Scanner broken", company_id=10, board_id=1, status_id=101, closed=True)
    assert await setup_client.search_tickets(text="scanner") == []
    [found] = await setup_client.search_tickets(text="scanner", open_only=False)
    assert (found.id, found.closed) == (1010, True)
