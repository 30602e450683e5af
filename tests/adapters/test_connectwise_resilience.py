"""Rate limits, server errors, timeouts, permissions and log hygiene of the ConnectWise client."""

from __future__ import annotations

import base64
import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from adapters.psa import permissions
from adapters.psa.connectwise import ConnectWiseClient
from adapters.psa.cw_api import parse_retry_after
from core.psa import NoteKind, PsaPermissionError, PsaUnavailable
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import client_for, cw_client, cw_fake

__all__ = ["cw_client", "cw_fake"]


async def test_429_waits_for_retry_after_then_succeeds(cw_fake: FakeConnectWise) -> None:
    cw_fake.throttle(1, retry_after="1")
    async with client_for(cw_fake, backoff_base=0.0) as client:
        started = time.monotonic()
        ticket = await client.get_ticket(1001)
        elapsed = time.monotonic() - started
    assert ticket.id == 1001
    assert elapsed >= 0.95  # backoff_base=0: only Retry-After can explain the wait
    assert [r.status for r in cw_fake.requests_to("GET", "service/tickets/1001")] == [429, 200]


async def test_retry_after_is_capped(cw_fake: FakeConnectWise) -> None:
    cw_fake.throttle(2, retry_after="3600")
    async with client_for(cw_fake, max_retry_after=0.05) as client:
        started = time.monotonic()
        await client.get_ticket(1001)
    assert time.monotonic() - started < 2


async def test_429_on_a_post_is_retried_because_nothing_was_written(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient
) -> None:
    cw_fake.throttle(1, retry_after="0")
    await cw_client.post_note(ticket_id=1001, kind=NoteKind.DISCUSSION, text="hello")
    assert len(cw_fake.notes_of(1001)) == 1


async def test_endless_429_becomes_unavailable(cw_fake: FakeConnectWise) -> None:
    cw_fake.throttle(10, retry_after="0")
    async with client_for(cw_fake, max_retries=2) as client:
        with pytest.raises(PsaUnavailable, match="rate limiting"):
            await client.get_ticket(1001)
    assert len(cw_fake.requests) == 3


async def test_5xx_on_reads_backs_off_and_retries(cw_fake: FakeConnectWise, cw_client: ConnectWiseClient) -> None:
    cw_fake.fail_next(2, status=503)
    assert (await cw_client.get_ticket(1001)).id == 1001
    assert [r.status for r in cw_fake.requests] == [503, 503, 200]


async def test_5xx_that_outlasts_retries_is_unavailable(cw_fake: FakeConnectWise) -> None:
    cw_fake.fail_next(5, status=502)
    async with client_for(cw_fake, max_retries=1) as client:
        with pytest.raises(PsaUnavailable, match="try again"):
            await client.board_statuses(1)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_post_is_never_replayed_after_5xx_and_may_have_landed(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient, status: int
) -> None:
    cw_fake.fail_next(1, status=status)
    with pytest.raises(PsaUnavailable) as caught:
        await cw_client.post_note(ticket_id=1001, kind=NoteKind.RESOLUTION, text="x")
    assert caught.value.maybe_applied is True  # the client cannot tell: the outbox must look first
    assert len(cw_fake.requests_to("POST", "service/tickets/1001/notes")) == 1


async def test_a_failed_read_is_never_maybe_applied(cw_fake: FakeConnectWise) -> None:
    cw_fake.fail_next(5, status=503)
    async with client_for(cw_fake, max_retries=1) as client:
        with pytest.raises(PsaUnavailable) as caught:
            await client.get_ticket(1001)
    assert caught.value.maybe_applied is False


async def test_timeouts_become_unavailable(cw_fake: FakeConnectWise) -> None:
    cw_fake.slow_next(2, seconds=1.0)
    async with client_for(cw_fake, timeout=0.2, max_retries=1) as client:
        with pytest.raises(PsaUnavailable, match="timed out"):
            await client.get_ticket(1001)


@pytest.mark.parametrize(
    ("function", "level", "call", "permission"),
    [
        ("Service Tickets", "Inquire", lambda c: c.get_ticket(1001), permissions.TICKETS_INQUIRE),
        ("Service Tickets", "Edit", lambda c: c.post_note(ticket_id=1001, kind=NoteKind.RESOLUTION, text="x"),
         permissions.TICKETS_EDIT),
        ("Service Tickets", "Edit", lambda c: c.change_status(ticket_id=1001, status_id=104),
         permissions.TICKET_STATUS_EDIT),
        ("Close Service Tickets", "Edit", lambda c: c.change_status(ticket_id=1001, status_id=104),
         permissions.TICKET_STATUS_EDIT),
        ("Resource Scheduling", "Add", lambda c: c.add_resource(ticket_id=1002, member_id=502),
         permissions.SCHEDULING_ADD),
        ("Resource Scheduling", "Inquire", lambda c: c.add_resource(ticket_id=1002, member_id=502),
         permissions.SCHEDULING_INQUIRE),
        ("Resource Scheduling", "Delete", lambda c: c.remove_resource(ticket_id=1002, member_id=503),
         permissions.SCHEDULING_DELETE),
    ],
)  # fmt: skip
async def test_403_names_the_missing_security_role_permission(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient, function: str, level: str, call, permission: str
) -> None:
    cw_fake.add_schedule_entry(1002, 503)
    cw_fake.deny(function, level)
    with pytest.raises(PsaPermissionError) as caught:
        await call(cw_client)
    assert caught.value.permission == permission
    assert permission in str(caught.value)
    assert "You do not have permission" in str(caught.value)  # ConnectWise's own text is kept


@pytest.mark.parametrize(
    ("function", "read", "permission"),
    [
        ("Member Maintenance", lambda c: c.list_members(), permissions.MEMBERS_INQUIRE),
        ("Table Setup", lambda c: c.board_statuses(1), permissions.BOARD_SETUP_INQUIRE),
        ("Service Tickets", lambda c: c.search_tickets(text="printer"), permissions.TICKETS_INQUIRE),
        ("Table Setup", lambda c: c.list_boards(), permissions.BOARD_SETUP_INQUIRE),
        ("Table Setup", lambda c: c.work_types(), permissions.WORK_SETUP_INQUIRE),
        ("Table Setup", lambda c: c.work_roles(), permissions.WORK_SETUP_INQUIRE),
    ],
)
async def test_list_reads_refused_for_permissions_degrade_to_empty_with_a_warning(
    cw_fake: FakeConnectWise, cw_client: ConnectWiseClient, caplog: pytest.LogCaptureFixture,
    function: str, read, permission: str,
) -> None:  # fmt: skip
    cw_fake.deny(function, "Inquire")
    with caplog.at_level(logging.WARNING, logger="adapters.psa.connectwise"):
        result = await read(cw_client)
    assert result == []
    assert result.warning is not None and permission in result.warning
    assert any(permission in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


async def test_permissions_are_per_api_key(cw_fake: FakeConnectWise) -> None:
    other = cw_fake.add_api_key("acme", "pub-2", "priv-2", "client-2")
    cw_fake.deny("Member Maintenance", "Inquire", api_key=other)
    async with client_for(cw_fake) as allowed, client_for(cw_fake, other) as denied:
        assert len(await allowed.list_members()) == 3
        assert (await denied.list_members()).warning is not None


async def test_credentials_never_reach_the_logs(cw_fake: FakeConnectWise, caplog: pytest.LogCaptureFixture) -> None:
    key = cw_fake.api_keys[0]
    secrets = [
        key.private_key,
        base64.b64encode(f"{key.company_id}+{key.public_key}:{key.private_key}".encode()).decode(),
        "Basic ",
    ]
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore, asyncio
    cw_fake.throttle(1, retry_after="0")
    cw_fake.fail_next(1)
    errors: list[str] = []
    async with client_for(cw_fake) as client:
        await client.get_ticket(1001)
        await client.post_note(ticket_id=1001, kind=NoteKind.DISCUSSION, text="note")
        await client.change_status(ticket_id=1001, status_id=102)
        cw_fake.deny("Member Maintenance", "Inquire")
        await client.list_members()
        for failing in (client.get_ticket(99), client.change_status(ticket_id=1001, status_id=202)):
            try:
                await failing
            except Exception as exc:  # noqa: BLE001 - we inspect every message
                errors.append(f"{exc!r} {exc}")
        errors.append(repr(client))
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "service/tickets/1001" in logged and "DEBUG" in caplog.text  # the capture did capture
    for secret in secrets:
        assert secret not in logged
        assert all(secret not in message for message in errors)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("7", cap=30) == 7
    assert parse_retry_after("120", cap=30) == 30
    assert parse_retry_after(None, cap=30) is None
    assert parse_retry_after("soon", cap=30) is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 15 <= (parse_retry_after(later, cap=30) or 0) <= 20
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=20), usegmt=True)
    assert parse_retry_after(past, cap=30) == 0
