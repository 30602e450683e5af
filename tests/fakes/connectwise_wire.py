"""Wire-level pieces of the fake ConnectWise server: paths, API keys, recorded requests, CW's
error body and the filterable fields of each record type (unknown fields in conditions → 400)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PREFIX = "/v4_6_release/apis/3.0"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Table = dict[int, dict[str, Any]]


class NotFoundError(Exception):
    """Raised by handlers; the middleware answers 404 with ConnectWise's error body."""


def _fields(names: str) -> frozenset[str]:
    return frozenset(name.lower() for name in names.split())


TICKET_FIELDS = _fields(
    "id summary closedFlag resources company/id company/name company/identifier board/id "
    "board/name status/id status/name owner/id owner/identifier owner/name"
)
NOTE_FIELDS = _fields("id ticketId text detailDescriptionFlag internalAnalysisFlag resolutionFlag")
MEMBER_FIELDS = _fields("id identifier firstName lastName inactiveFlag primaryEmail")
ENTRY_FIELDS = _fields("id objectId type/id type/identifier member/id member/identifier")
STATUS_FIELDS = _fields("id name board/id closedStatus inactive")
TIME_ENTRY_FIELDS = _fields(
    "id chargeToId chargeToType company/id member/id member/identifier ticket/id timeStart "
    "timeEnd actualHours billableOption notes addToDetailDescriptionFlag"
)


@dataclass
class ApiKey:
    """One API member. `denied` holds (function, level) pairs, e.g. ("Service Tickets", "Edit")."""

    company_id: str
    public_key: str
    private_key: str
    client_id: str
    denied: set[tuple[str, str]] = field(default_factory=set)


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


def error_response(status: int, code: str, message: str, errors: list[dict[str, str]] | None = None) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return web.json_response(body, status=status)
