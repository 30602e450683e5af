"""`/time/entries` of the fake ConnectWise server (a mixin of FakeConnectWise).

Validates a POST the way ConnectWise does for what the client relies on: `chargeToId`,
`chargeToType` and `timeStart` are required (400 with CW's `InvalidObject` body naming each field),
times are ConnectWise's UTC `YYYY-MM-DDTHH:MM:SSZ`, `timeEnd` must follow `timeStart`, the ticket
and member must exist, `billableOption` is one of CW's four values. `addToDetailDescriptionFlag:
true` copies the notes into the ticket's discussion, as ConnectWise does, so a test can see it.
Sources and choices:
- `workType`/`workRole` are references `{id, name}` and `dateEntered` is set by the server
  (sowderca/connectwise-ruby-sdk docs/TimeEntry.md); an unknown id → 400 InvalidField. Without a
  `workType` the overall default work type applies (docs/WorkType.md `overallDefaultFlag`).
- Without `member` the entry is the API member's (ApiKey.member_id): CW records the caller.
- Time on a closed ticket (`closedFlag`) is refused with 400 InvalidObject on `chargeToId`. CW can
  lock time entry per board/status (docs/Board.md `timeEntryLockedFlag`); the refusal's exact
  wording is this fake's, not captured from a live server.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.connectwise_wire import API_KEY, BODY, CW_TIME_FORMAT, TIME_ENTRY_FIELDS, Handler, Table, cw_time
from tests.fakes.connectwise_wire import error_response as _error

BILLABLE_OPTIONS = ("Billable", "DoNotBill", "NoCharge", "NoDefault")
CHARGE_TYPES = ("ServiceTicket", "ProjectTicket", "ChargeCode", "Activity")


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.strptime(value, CW_TIME_FORMAT).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _invalid(*problems: tuple[str, str, str]) -> web.Response:
    """ConnectWise's 400 for a bad object: one `errors` item per (code, field, message)."""
    errors = [{"code": code, "message": message, "resource": "timeEntry", "field": name}
              for code, name, message in problems]  # fmt: skip
    return _error(400, "InvalidObject", "timeEntry object is invalid", errors)


class TimeEntriesDesk:
    """Time entries: seeding, views and the two handlers the client uses."""

    time_entries: Table
    tickets: Table
    members: Table
    work_types: Table
    work_roles: Table
    now: Callable[[], datetime]

    if TYPE_CHECKING:  # provided by FakeConnectWise

        def _next_id(self) -> int: ...
        def _member_ref(self, member_id: int) -> dict[str, Any]: ...
        def _page(self, request: web.Request, records: list[dict[str, Any]], known: frozenset[str]) -> web.Response: ...
        def _guard(self, function: str, level: str, handler: Handler) -> Handler: ...
        def add_note(self, ticket_id: int, text: str, *, member_id: int | None = None,
                     date_created: str | None = None, **flags: bool) -> dict[str, Any]: ...  # fmt: skip

    def _time_routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/time/entries", self._guard("Time Entry", "Inquire", self._list_time_entries)),
            ("POST", "/time/entries", self._guard("Time Entry", "Add", self._post_time_entry)),
        ]

    def add_time_entry(self, ticket_id: int, *, notes: str, time_start: str, time_end: str,
                       member_id: int | None = None, actual_hours: float | None = None,
                       billable_option: str = "Billable", work_type_id: int | None = None,
                       work_role_id: int | None = None) -> dict[str, Any]:  # fmt: skip
        """Stores an entry charged to a service ticket, shaped as ConnectWise returns it."""
        start, end = _parse_time(time_start), _parse_time(time_end)
        if actual_hours is None and start and end:
            actual_hours = (end - start).total_seconds() / 3600
        ticket = self.tickets[ticket_id]
        entry_id = self._next_id()
        self.time_entries[entry_id] = {
            "id": entry_id, "chargeToId": ticket_id, "chargeToType": "ServiceTicket",
            "company": dict(ticket["company"]), "ticket": {"id": ticket_id, "summary": ticket["summary"]},
            "member": self._member_ref(member_id) if member_id is not None else None,
            "timeStart": time_start, "timeEnd": time_end, "actualHours": actual_hours,
            "billableOption": billable_option, "notes": notes, "addToDetailDescriptionFlag": False,
            "workType": self._code_ref(self.work_types, work_type_id),
            "workRole": self._code_ref(self.work_roles, work_role_id), "dateEntered": cw_time(self.now()),
        }  # fmt: skip
        return self.time_entries[entry_id]

    @staticmethod
    def _code_ref(table: Table, code_id: int | None) -> dict[str, Any] | None:
        return {"id": code_id, "name": table[code_id]["name"]} if code_id is not None else None

    def time_entries_of(self, ticket_id: int) -> list[dict[str, Any]]:
        return [e for e in self.time_entries.values() if e["chargeToId"] == ticket_id]

    async def _list_time_entries(self, request: web.Request) -> web.StreamResponse:
        entries = [self.time_entries[e] for e in sorted(self.time_entries)]
        return self._page(request, entries, TIME_ENTRY_FIELDS)

    async def _post_time_entry(self, request: web.Request) -> web.StreamResponse:
        raw = request[BODY]
        body: dict[str, Any] = raw if isinstance(raw, dict) else {}
        missing = [name for name in ("chargeToId", "chargeToType", "timeStart") if body.get(name) in (None, "")]
        if missing:
            return _invalid(*(("NullValue", name, f"The {name} field is required.") for name in missing))
        problems: list[tuple[str, str, str]] = []
        if body["chargeToType"] not in CHARGE_TYPES:
            problems.append(("InvalidField", "chargeToType", "chargeToType is not a valid value"))
        elif body["chargeToType"] != "ServiceTicket":
            problems.append(("InvalidField", "chargeToType", "only ServiceTicket is faked"))
        elif body["chargeToId"] not in self.tickets:
            problems.append(("InvalidField", "chargeToId", f"Service Ticket {body['chargeToId']} not found"))
        elif self.tickets[body["chargeToId"]].get("closedFlag"):
            problems.append(("InvalidField", "chargeToId", "Time entries cannot be added to a closed ticket."))
        start = _parse_time(body["timeStart"])
        end = _parse_time(body["timeEnd"]) if body.get("timeEnd") is not None else start
        if start is None:
            problems.append(("InvalidField", "timeStart", "timeStart must be yyyy-MM-ddTHH:mm:ssZ"))
        if end is None:
            problems.append(("InvalidField", "timeEnd", "timeEnd must be yyyy-MM-ddTHH:mm:ssZ"))
        elif start is not None and end < start:
            problems.append(("InvalidField", "timeEnd", "Time End must be after Time Start"))
        member_id = (body.get("member") or {}).get("id") if isinstance(body.get("member"), dict) else None
        if "member" in body and member_id not in self.members:
            problems.append(("InvalidField", "member", "Member not found"))
        elif "member" not in body and request[API_KEY].member_id in self.members:
            member_id = request[API_KEY].member_id
        codes: dict[str, int | None] = {}
        for name, table in (("workType", self.work_types), ("workRole", self.work_roles)):
            ref = body.get(name)
            codes[name] = ref.get("id") if isinstance(ref, dict) else None
            if ref is not None and not (isinstance(codes[name], int) and codes[name] in table):
                problems.append(("InvalidField", name, f"{name} not found"))
        if codes["workType"] is None:
            codes["workType"] = next((w for w in sorted(self.work_types) if self.work_types[w]["overallDefaultFlag"]), None)
        hours = body.get("actualHours")
        if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int | float) or hours < 0):
            problems.append(("InvalidField", "actualHours", "actualHours must be a positive number"))
        if body.get("billableOption", "Billable") not in BILLABLE_OPTIONS:
            problems.append(("InvalidField", "billableOption", "billableOption is not a valid value"))
        if problems:
            return _invalid(*problems)
        entry = self.add_time_entry(
            body["chargeToId"], notes=str(body.get("notes") or ""), time_start=body["timeStart"],
            time_end=body.get("timeEnd") or body["timeStart"], member_id=member_id, actual_hours=hours,
            billable_option=body.get("billableOption", "Billable"), work_type_id=codes["workType"],
            work_role_id=codes["workRole"],
        )  # fmt: skip
        if body.get("addToDetailDescriptionFlag") is True:
            entry["addToDetailDescriptionFlag"] = True
            self.add_note(body["chargeToId"], entry["notes"], member_id=member_id, detailDescriptionFlag=True)
        return web.json_response(entry, status=201)
