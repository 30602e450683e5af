"""Wire-level pieces of the fake ConnectWise server: paths, API keys, recorded requests, CW's
error body and the filterable fields of each record type (unknown fields in conditions → 400).

Field names follow ConnectWise's models (sowderca/connectwise-ruby-sdk docs/*.md, generated from
CW's OpenAPI spec): ServiceNote.dateCreated/member, TimeEntry.workType/workRole/dateEntered,
Member.officeEmail, Board.inactiveFlag, WorkType.billTime/overallDefaultFlag, WorkRole.inactiveFlag.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

PREFIX = "/v4_6_release/apis/3.0"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Table = dict[int, dict[str, Any]]
CW_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # ConnectWise's UTC date-times, e.g. 2026-12-04T01:00:00Z


class NotFoundError(Exception):
    """Raised by handlers; the middleware answers 404 with ConnectWise's error body."""


def _fields(names: str) -> frozenset[str]:
    return frozenset(name.lower() for name in names.split())


TICKET_FIELDS = _fields(
    "id summary closedFlag resources company/id company/name company/identifier board/id "
    "board/name status/id status/name owner/id owner/identifier owner/name"
)
NOTE_FIELDS = _fields("id ticketId text detailDescriptionFlag internalAnalysisFlag resolutionFlag dateCreated member/id")
MEMBER_FIELDS = _fields("id identifier firstName lastName inactiveFlag primaryEmail officeEmail")
ENTRY_FIELDS = _fields("id objectId type/id type/identifier member/id member/identifier")
STATUS_FIELDS = _fields("id name board/id closedStatus inactive")
BOARD_FIELDS = _fields("id name inactiveFlag")
WORK_TYPE_FIELDS = _fields("id name inactiveFlag overallDefaultFlag billTime")
WORK_ROLE_FIELDS = _fields("id name inactiveFlag")
TIME_ENTRY_FIELDS = _fields(
    "id chargeToId chargeToType company/id member/id member/identifier ticket/id timeStart "
    "timeEnd actualHours billableOption notes addToDetailDescriptionFlag workType/id workType/name "
    "workRole/id workRole/name dateEntered"
)


@dataclass
class ApiKey:
    """One API member. `denied` holds (function, level) pairs, e.g. ("Service Tickets", "Edit").
    `member_id` is the API member's own member record: what ConnectWise records as the author of a
    time entry posted without `member`."""

    company_id: str
    public_key: str
    private_key: str
    client_id: str
    denied: set[tuple[str, str]] = field(default_factory=set)
    member_id: int | None = None


API_KEY = web.RequestKey("api_key", ApiKey)
BODY = web.RequestKey("body", object)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # relative to PREFIX, without leading slash
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int


def authenticate(headers: Mapping[str, str], api_keys: list[ApiKey]) -> ApiKey | str:
    """The caller's API key, or the message of ConnectWise's 401: keys right but the `clientId`
    header missing or wrong is told apart from wrong keys."""
    refused = "Authentication failed: invalid credentials"
    header = headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return refused
    try:
        user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return refused
    company, _, public = user.partition("+")
    for key in api_keys:
        if (key.company_id.lower(), key.public_key, key.private_key) == (company.lower(), public, secret):
            return key if headers.get("clientId") == key.client_id else "ClientId is invalid or missing"
    return refused


def cw_time(moment: datetime) -> str:
    """A moment as ConnectWise writes it: UTC, `YYYY-MM-DDTHH:MM:SSZ` (compares as a string)."""
    return moment.astimezone(UTC).strftime(CW_TIME_FORMAT)


def error_response(status: int, code: str, message: str, errors: list[dict[str, str]] | None = None) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return web.json_response(body, status=status)
