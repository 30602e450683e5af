"""Seed data and pytest fixtures for the ConnectWise suites: a seeded fake and a client on it.

Import them into a test module (`from tests.fakes.connectwise_fixtures import cw_fake, cw_client`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.psa.connectwise import ConnectWiseClient
from core.psa import PsaCredentials
from tests.fakes.connectwise_api import ApiKey, FakeConnectWise


def seed_demo(fake: FakeConnectWise) -> ApiKey:
    """Two customer companies, two boards with their own statuses, members, tickets; one API key."""
    key = fake.add_api_key("acme", "pub-4f1c", "PRIV-9d2e-s3cr3t", "5b1d6a0e-client-guid")
    fake.add_company(10, "Contoso")
    fake.add_company(20, "Fabrikam")
    fake.add_board(1, "Help Desk", [(101, "New", False), (102, "In Progress", False),
                                    (103, "Escalated", False), (104, "Resolved", True)])  # fmt: skip
    fake.add_board(2, "Projects", [(201, "Planned", False), (202, "Done", True)])
    for member_id, identifier, first, last in [(501, "jdoe", "John", "Doe"), (502, "asmith", "Ann", "Smith"),
                                               (503, "bwayne", "Bruce", "Wayne")]:  # fmt: skip
        fake.add_member(member_id, identifier, first, last, email=f"{identifier}@acme.example")
    fake.add_member(504, "gone", "Old", "Timer", inactive=True)
    for ticket_id, summary, company_id, owner_id in [(1001, "Printer offline in accounting", 10, None),
                                                     (1002, "VPN drops every hour", 10, 501),
                                                     (1003, "Printer jam on 2nd floor", 20, None),
                                                     (1004, "Outlook asks for password", 20, None)]:  # fmt: skip
        fake.add_ticket(ticket_id, summary, company_id=company_id, board_id=1, status_id=101, owner_id=owner_id)
    fake.add_ticket(2001, "Printer fleet refresh", company_id=10, board_id=2, status_id=201)
    return key


def credentials_for(key: ApiKey, **overrides: Any) -> PsaCredentials:
    """The connection as an account stores it: settings, and the private key as the one secret."""
    values: dict[str, Any] = {
        "site": "acme.myconnectwise.example",
        "company": key.company_id,
        "public_key": key.public_key,
        "client_id": key.client_id,
        "private_key": key.private_key,
    }
    values.update(overrides)
    secret = values.pop("private_key")
    return PsaCredentials(kind="connectwise", settings={k: str(v) for k, v in values.items() if v is not None},
                          secrets={"private_key": secret})


def client_for(fake: FakeConnectWise, key: ApiKey | None = None, **options: Any) -> ConnectWiseClient:
    """A client on the fake with fast backoff (the delays themselves are tested separately)."""
    options.setdefault("backoff_base", 0.01)
    options.setdefault("timeout", 5)
    return ConnectWiseClient(credentials_for(key or fake.api_keys[0]), base_url=fake.base_url, **options)


@pytest.fixture
async def cw_fake() -> AsyncIterator[FakeConnectWise]:
    async with FakeConnectWise() as fake:
        seed_demo(fake)
        yield fake


@pytest.fixture
async def cw_client(cw_fake: FakeConnectWise) -> AsyncIterator[ConnectWiseClient]:
    async with client_for(cw_fake) as client:
        yield client
