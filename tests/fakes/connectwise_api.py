"""A fake ConnectWise Manage REST server (aiohttp, 127.0.0.1, port 0) for the client's tests.

It speaks the wire protocol the client uses under `/v4_6_release/apis/3.0/`: Basic auth
`company+public:private` plus the `clientId` header (401 otherwise), `conditions` parsed for real
(`connectwise_conditions.py`), `orderBy`, page/pageSize (max 1000), CW-shaped error bodies.
Quirks reproduced on purpose:
- PATCH of a status that belongs to another board → 200 and the old status stays.
- `resources` is derived from the owner and the type-4 schedule entries; writing it does nothing.
- per-API-key permission switches → 403; `throttle(n)` → n answers 429 with Retry-After;
  `fail_next(n)` → n answers 5xx; `slow_next(n, s)` → n answers delayed (timeouts);
  `fail_next_write(n)` → the next n writes answer 5xx unapplied; `fail_after_write(n)` → the next
  n writes are applied, then answered 5xx (a lost answer); `answer_late(method, path, s, n)` → n
  such requests are applied at once, answered s seconds later (saved after the client's timeout).
  These switches apply to API calls only, not to the site's own pages.
- 401 names the clientId when only it is wrong (adapters/psa/cw_check.py tells the two apart by it;
  the wording is this fake's, not captured from a live server).
Notes are served as stored, listed (`GET …/notes`) or one by one (`GET …/notes/{noteId}`), with
the server's `dateCreated` (`self.now`) and the POST's `member` (sowderca/connectwise-ruby-sdk
docs/ServiceNote.md). Time entries: `connectwise_time.py`; boards, work types/roles, members,
`/system/info`, `/login/companyinfo/{company}` (unauthenticated, outside the prefix):
`connectwise_setup.py`. Every request is recorded (method, path, query, headers, body, status);
paths outside the prefix from the root (`login/companyinfo/acme`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.connectwise_conditions import ConditionError, matches, parse_conditions, validate_fields
from tests.fakes.connectwise_setup import SetupDesk
from tests.fakes.connectwise_time import TimeEntriesDesk
from tests.fakes.connectwise_wire import (
    API_KEY,
    BODY,
    ENTRY_FIELDS,
    NOTE_FIELDS,
    PREFIX,
    TICKET_FIELDS,
    ApiKey,
    Handler,
    NotFoundError,
    RecordedRequest,
    Table,
    authenticate,
    cw_time,
)
from tests.fakes.connectwise_wire import error_response as _error

__all__ = ["PREFIX", "ApiKey", "FakeConnectWise", "RecordedRequest"]


class FakeConnectWise(TimeEntriesDesk, SetupDesk):
    def __init__(self) -> None:
        # id → record, shaped as ConnectWise returns it
        self.companies, self.boards, self.statuses, self.members = Table(), Table(), Table(), Table()
        self.tickets, self.notes, self.schedule_entries = Table(), Table(), Table()
        self.time_entries, self.work_types, self.work_roles = Table(), Table(), Table()
        self.api_keys: list[ApiKey] = []
        self.site_companies: set[str] = set()  # companies the site knows besides the API keys' ones
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)  # dateCreated / dateEntered
        self.requests: list[RecordedRequest] = []
        self._ids = itertools.count(9000)
        self._throttle: list[str] = []
        self._failures: list[int] = []
        self._lost_answers: list[int] = []
        self._hang_after: dict[tuple[str, str], float] = {}
        self._late: dict[tuple[str, str], list[float]] = {}
        self._closing = asyncio.Event()
        self._write_failures: list[int] = []
        self._delays: list[float] = []
        self._runner: web.AppRunner | None = None
        self.base_url = self.site_url = ""

    async def start(self) -> str:
        app = web.Application(middlewares=[self._middleware])
        for method, path, handler in self._routes():
            app.router.add_route(method, PREFIX + path, handler)
        for method, path, handler in self._site_routes():
            app.router.add_route(method, path, handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.site_url = f"http://{host}:{port}"
        self.base_url = f"{self.site_url}{PREFIX}/"
        return self.base_url

    async def close(self) -> None:
        self._closing.set()  # ends any held answer at once
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeConnectWise:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- seeding ----------------------------------------------------------------------------

    def add_api_key(self, company_id: str, public_key: str, private_key: str, client_id: str, *,
                    member_id: int | None = None) -> ApiKey:  # fmt: skip
        key = ApiKey(company_id, public_key, private_key, client_id, member_id=member_id)
        self.api_keys.append(key)
        return key

    def add_company(self, company_id: int, name: str) -> None:
        self.companies[company_id] = {"id": company_id, "identifier": name.replace(" ", ""), "name": name}

    def add_ticket(self, ticket_id: int, summary: str, *, company_id: int, board_id: int,
                   status_id: int, owner_id: int | None = None, closed: bool = False) -> None:  # fmt: skip
        """`closedFlag` is set by `closed` or by a closed status."""
        self.tickets[ticket_id] = {
            "id": ticket_id, "summary": summary, "company": dict(self.companies[company_id]),
            "board": {"id": board_id, "name": self.boards[board_id]["name"]}, "status": self._status_ref(status_id),
            "owner": self._member_ref(owner_id) if owner_id else None,
            "closedFlag": closed or self.statuses[status_id]["closedStatus"],
        }  # fmt: skip

    def add_note(self, ticket_id: int, text: str, *, member_id: int | None = None,
                 date_created: str | None = None, **flags: bool) -> dict[str, Any]:  # fmt: skip
        """`dateCreated` is the server's clock (`self.now`) unless given as CW's UTC string."""
        note_id = self._next_id()
        self.notes[note_id] = {"id": note_id, "ticketId": ticket_id, "text": text,
                               "detailDescriptionFlag": False, "internalAnalysisFlag": False,
                               "resolutionFlag": False, "internalFlag": False, "externalFlag": False,
                               **flags, "dateCreated": date_created or cw_time(self.now()),
                               "member": self._member_ref(member_id) if member_id in self.members else None}  # fmt: skip
        return self.notes[note_id]

    def add_schedule_entry(self, ticket_id: int, member_id: int) -> dict[str, Any]:
        entry_id = self._next_id()
        self.schedule_entries[entry_id] = {
            "id": entry_id, "objectId": ticket_id, "type": {"id": 4, "identifier": "S"},
            "member": self._member_ref(member_id),
        }  # fmt: skip
        return self.schedule_entries[entry_id]

    # ---- switches and views -----------------------------------------------------------------

    def deny(self, function: str, level: str, api_key: ApiKey | None = None) -> None:
        for key in [api_key] if api_key else self.api_keys:
            key.denied.add((function, level))

    def throttle(self, count: int, retry_after: str = "1") -> None:
        self._throttle.extend([retry_after] * count)

    def fail_next(self, count: int, status: int = 503) -> None:
        self._failures.extend([status] * count)

    def slow_next(self, count: int, seconds: float) -> None:
        self._delays.extend([seconds] * count)

    def fail_next_write(self, count: int, status: int = 503) -> None:
        """The next `count` POST/PATCH/DELETE requests are refused with `status`, unapplied."""
        self._write_failures.extend([status] * count)

    def fail_after_write(self, count: int, status: int = 502) -> None:
        """The next `count` POST/PATCH/DELETE requests are carried out, then answered `status`:
        the ambiguous failure a client must not answer by blindly writing again."""
        self._lost_answers.extend([status] * count)

    def hang_after_next(self, method: str, path: str, *, seconds: float) -> None:
        """The next `method path` request is carried out, then its answer is held for `seconds`:
        a client that dies meanwhile never learns that its write landed (the crash window)."""
        self._hang_after[(method.upper(), path.strip("/"))] = seconds

    def answer_late(self, method: str, path: str, seconds: float, count: int = 1) -> None:
        """The next `count` `method path` requests (path relative to PREFIX) are carried out and
        recorded at once, then answered after `seconds` (sooner when the fake closes): ConnectWise
        saving a write whose answer comes after the client's timeout. Other requests see the write
        meanwhile."""
        self._late.setdefault((method.upper(), path.strip("/")), []).extend([seconds] * count)

    def ticket_view(self, ticket_id: int) -> dict[str, Any]:
        """The ticket as ConnectWise shows it, `resources` derived from owner + schedule."""
        ticket = dict(self.tickets[ticket_id])
        names = [ticket["owner"]["identifier"]] if ticket.get("owner") else []
        for entry in self.schedule_entries.values():
            if entry["objectId"] == ticket_id and entry["type"]["id"] == 4:
                names.append(entry["member"]["identifier"])
        ticket["resources"] = ", ".join(dict.fromkeys(names))
        return ticket

    def notes_of(self, ticket_id: int) -> list[dict[str, Any]]:
        return [note for note in self.notes.values() if note["ticketId"] == ticket_id]

    def resolution_notes(self, ticket_id: int) -> list[dict[str, Any]]:
        return [note for note in self.notes_of(ticket_id) if note["resolutionFlag"]]

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path.strip("/")]

    def _next_id(self) -> int:
        return next(self._ids)

    def _status_ref(self, status_id: int) -> dict[str, Any]:
        return {"id": status_id, "name": self.statuses[status_id]["name"]}

    def _member_ref(self, member_id: int) -> dict[str, Any]:
        member = self.members[member_id]
        return {"id": member_id, "identifier": member["identifier"],
                "name": f"{member['firstName']} {member['lastName']}"}  # fmt: skip

    # ---- the wire ---------------------------------------------------------------------------

    def _routes(self) -> list[tuple[str, str, Handler]]:
        tickets, entries = ("Service Tickets", "Resource Scheduling")
        return [
            ("GET", "/service/tickets", self._guard(tickets, "Inquire", self._list_tickets)),
            ("GET", "/service/tickets/{id:\\d+}", self._guard(tickets, "Inquire", self._get_ticket)),
            ("PATCH", "/service/tickets/{id:\\d+}", self._guard(tickets, "Edit", self._patch_ticket)),
            ("GET", "/service/tickets/{id:\\d+}/notes", self._guard(tickets, "Inquire", self._list_notes)),
            ("GET", "/service/tickets/{id:\\d+}/notes/{note:\\d+}", self._guard(tickets, "Inquire", self._get_note)),
            ("POST", "/service/tickets/{id:\\d+}/notes", self._guard(tickets, "Edit", self._add_note)),
            ("GET", "/schedule/entries", self._guard(entries, "Inquire", self._list_entries)),
            ("POST", "/schedule/entries", self._guard(entries, "Add", self._add_entry)),
            ("DELETE", "/schedule/entries/{id:\\d+}", self._guard(entries, "Delete", self._delete_entry)),
            *self._time_routes(),
            *self._setup_routes(),
        ]  # fmt: skip

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        path, hold = request.path.removeprefix(PREFIX).strip("/"), 0.0
        response: web.StreamResponse
        if not request.path.startswith(PREFIX + "/"):  # the site's own pages: no auth, no switches
            response = await handler(request)
            self._record(request, path, body, response.status)
            return response
        if self._delays:
            await asyncio.sleep(self._delays.pop(0))
        if self._throttle:
            response = _error(429, "TooManyRequests", "Rate limit exceeded")
            response.headers["Retry-After"] = self._throttle.pop(0)
        elif self._failures:
            response = _error(self._failures.pop(0), "ServerError", "An unexpected error occurred")
        elif request.method != "GET" and self._write_failures:
            response = _error(self._write_failures.pop(0), "ServerError", "An unexpected error occurred")
        elif isinstance(key := authenticate(request.headers, self.api_keys), str):
            response = _error(401, "Unauthorized", key)
        else:
            request[API_KEY], request[BODY] = key, body
            try:
                response = await handler(request)
            except NotFoundError as exc:
                response = _error(404, "NotFound", str(exc))
            if request.method != "GET" and response.status < 300 and self._lost_answers:
                response = _error(self._lost_answers.pop(0), "ServerError", "An unexpected error occurred")
            late = self._late.get((request.method, path))
            hold = self._hang_after.pop((request.method, path), 0.0) or (late.pop(0) if late else 0.0)
        self._record(request, path, body, response.status)
        if hold:  # carried out and recorded already; only the answer waits
            try:
                await asyncio.wait_for(self._closing.wait(), timeout=hold)
            except TimeoutError:
                pass
        return response

    def _record(self, request: web.Request, path: str, body: Any, status: int) -> None:
        self.requests.append(RecordedRequest(request.method, path, dict(request.query), dict(request.headers), body, status))

    def _guard(self, function: str, level: str, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if (function, level) in request[API_KEY].denied:
                return _error(403, "Forbidden", "You do not have permission to perform this action.")
            return await handler(request)

        return guarded

    def _page(self, request: web.Request, records: list[dict[str, Any]], known: frozenset[str]) -> web.Response:
        """conditions, orderBy, page/pageSize: the common list behaviour."""
        query = request.query
        try:
            if query.get("conditions"):
                tree = parse_conditions(query["conditions"])
                validate_fields(tree, known)
                records = [r for r in records if matches(tree, r, known)]
            if query.get("orderBy"):
                name, _, direction = query["orderBy"].strip().partition(" ")
                if name.lower() not in known or direction.lower() not in ("", "asc", "desc"):
                    raise ConditionError(f"Invalid orderBy {query['orderBy']!r}")
                records = sorted(records, key=lambda r: (r.get(name) is None, r.get(name)),
                                 reverse=direction.lower() == "desc")  # fmt: skip
            page, size = int(query.get("page", "1")), min(int(query.get("pageSize", "25")), 1000)
        except (ConditionError, ValueError) as exc:
            return _error(400, "InvalidObject", f"Invalid conditions: {exc}")
        if page < 1 or size < 1:
            return _error(400, "InvalidObject", "page and pageSize must be positive")
        return web.json_response(records[(page - 1) * size : page * size])

    def _ticket_or_404(self, request: web.Request) -> int:
        ticket_id = int(request.match_info["id"])
        if ticket_id not in self.tickets:
            raise NotFoundError(f"Ticket Id {ticket_id} not found")
        return ticket_id

    async def _list_tickets(self, request: web.Request) -> web.StreamResponse:
        return self._page(request, [self.ticket_view(t) for t in sorted(self.tickets)], TICKET_FIELDS)

    async def _get_ticket(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.ticket_view(self._ticket_or_404(request)))

    async def _patch_ticket(self, request: web.Request) -> web.StreamResponse:
        ticket = self.tickets[self._ticket_or_404(request)]
        operations = request[BODY]
        if not isinstance(operations, list) or not operations:
            return _error(400, "InvalidObject", "A JSON Patch array is required")
        for operation in operations:
            path = str(operation.get("path", "")).strip("/").lower()
            op, value = operation.get("op"), operation.get("value")
            if op not in ("replace", "add", "remove"):
                return _error(400, "InvalidObject", f"Unsupported op {op!r}")
            if path in ("status", "status/id"):
                status_id = value.get("id") if isinstance(value, dict) else value
                if status_id not in self.statuses:
                    return _error(400, "InvalidObject", "Status not found",
                                  [{"code": "InvalidField", "field": "status", "message": "Status not found"}])  # fmt: skip
                closing = self.statuses[status_id]["closedStatus"]
                if closing and ("Close Service Tickets", "Edit") in request[API_KEY].denied:
                    return _error(403, "Forbidden", "You do not have permission to perform this action.")
                if self.statuses[status_id]["board"]["id"] == ticket["board"]["id"]:
                    ticket["status"] = self._status_ref(status_id)
                    ticket["closedFlag"] = self.statuses[status_id]["closedStatus"]
                # Quirk: another board's status is dropped silently and the answer is still 200.
            elif path in ("owner", "owner/id"):
                member_id = value.get("id") if isinstance(value, dict) else value
                if op == "remove" or member_id is None:
                    ticket["owner"] = None
                elif member_id in self.members:
                    ticket["owner"] = self._member_ref(member_id)
                else:
                    return _error(400, "InvalidObject", "Member not found",
                                  [{"code": "InvalidField", "field": "owner", "message": "Member not found"}])  # fmt: skip
            elif path == "summary":
                ticket["summary"] = str(value)
            elif path != "resources":  # Quirk: `resources` is read-only and silently ignored.
                return _error(400, "InvalidObject", f"Cannot patch {path!r}")
        return web.json_response(self.ticket_view(ticket["id"]))

    async def _list_notes(self, request: web.Request) -> web.StreamResponse:
        return self._page(request, self.notes_of(self._ticket_or_404(request)), NOTE_FIELDS)

    async def _get_note(self, request: web.Request) -> web.StreamResponse:
        """`GET /service/tickets/{parentId}/notes/{id}` ("Get ServiceNote"): one note of the ticket,
        404 when it is another ticket's (ai-connor/connectwise build/docs/TicketNotesAPI.md;
        christaylorcodes/ConnectWiseManageAPI Public/Service/TicketNotes/Get-CWMTicketNote.ps1)."""
        ticket_id, note_id = self._ticket_or_404(request), int(request.match_info["note"])
        note = self.notes.get(note_id)
        if note is None or note["ticketId"] != ticket_id:
            raise NotFoundError(f"ServiceNote Id {note_id} not found")
        return web.json_response(note)

    async def _add_note(self, request: web.Request) -> web.StreamResponse:
        ticket_id, body = self._ticket_or_404(request), request[BODY]
        if not isinstance(body, dict) or not str(body.get("text") or "").strip():
            return _error(400, "InvalidObject", "text is required",
                          [{"code": "NullValue", "field": "text", "message": "text may not be empty"}])  # fmt: skip
        kinds = ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")
        if not any(body.get(flag) is True for flag in kinds):
            return _error(400, "InvalidObject", "A note must be flagged as discussion, internal analysis or resolution")
        flags = {k: bool(v) for k, v in body.items() if k.endswith("Flag")}
        member_id = body["member"].get("id") if isinstance(body.get("member"), dict) else None
        member_id = member_id if isinstance(member_id, int) else None
        note = self.add_note(ticket_id, body["text"], member_id=member_id, date_created=None, **flags)
        return web.json_response(note, status=201)

    async def _list_entries(self, request: web.Request) -> web.StreamResponse:
        entries = [self.schedule_entries[e] for e in sorted(self.schedule_entries)]
        return self._page(request, entries, ENTRY_FIELDS)

    async def _add_entry(self, request: web.Request) -> web.StreamResponse:
        raw = request[BODY]
        body: dict[str, Any] = raw if isinstance(raw, dict) else {}
        member_id = (body.get("member") or {}).get("id")
        type_id = (body.get("type") or {}).get("id")
        if member_id not in self.members or type_id != 4 or body.get("objectId") not in self.tickets:
            return _error(400, "InvalidObject", "member, type 4 and an existing objectId are required")
        return web.json_response(self.add_schedule_entry(body["objectId"], member_id), status=201)

    async def _delete_entry(self, request: web.Request) -> web.StreamResponse:
        if self.schedule_entries.pop(int(request.match_info["id"]), None) is None:
            raise NotFoundError("Schedule entry not found")
        return web.Response(status=204)
