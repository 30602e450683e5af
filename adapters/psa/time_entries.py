"""Working time on a ticket as ConnectWise time entries (R40: as the engineer, before closing).

- `POST time/entries` charged to the ticket (`chargeToType: "ServiceTicket"`, `chargeToId`), with
  `timeStart`/`timeEnd` in ConnectWise's UTC format `YYYY-MM-DDTHH:MM:SSZ`, `actualHours` equal to
  the span, the engineer's `member`, the account's `workType`/`workRole` and `billableOption`
  (left out when the account leaves it to the work type), and not copied into the ticket's
  discussion (the resolution note says it). Field names: pyconnectwise models TimeEntry.
- One POST, never replayed: an answer that may have been lost raises PsaUnavailable(maybe_applied)
  and the outbox asks `find` before logging again. Nothing of ours is written into the notes: the
  entry is recognised by ticket, member, start and notes, which the outbox keeps the same.
- ConnectWise answers 400 for time on a closed ticket: PsaRefused with its words.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.psa import conditions
from adapters.psa.cw_api import ConnectWiseApi
from adapters.psa.mapping import ref_id, same_text
from core.errors import InvalidInput
from core.psa import BillableOption, PsaError, TimeEntry, TimeEntryRequest, check_time_entry_minutes

CHARGE_TO_SERVICE_TICKET = "ServiceTicket"
CW_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def cw_time(moment: datetime) -> str:
    """A timezone-aware moment in ConnectWise's UTC format; a naive one is refused because
    guessing its zone would bill the wrong hours."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("The start of the working time needs a time zone.")
    return moment.astimezone(UTC).strftime(CW_TIME_FORMAT)


def parse_cw_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, CW_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


BILLABLE_OPTIONS = {
    BillableOption.BILLABLE: "Billable",
    BillableOption.DO_NOT_BILL: "DoNotBill",
    BillableOption.NO_CHARGE: "NoCharge",
}


def cw_date_literal(moment: datetime) -> str:
    """A moment as a conditions date literal, `[2026-12-04T01:00:00Z]`."""
    return f"[{cw_time(moment)}]"


def entry_start(entry: TimeEntryRequest) -> datetime:
    start = entry.started_at
    if start.tzinfo is None or start.utcoffset() is None:
        raise InvalidInput("The start of the working time needs a time zone.")
    return start.astimezone(UTC).replace(microsecond=0)


def time_entry_body(entry: TimeEntryRequest) -> dict[str, Any]:
    """The POST body. The start is cut to whole seconds first, so `timeEnd - timeStart` is exactly
    the minutes and `actualHours` (unrounded) never exceeds the span."""
    start = entry_start(entry)
    body: dict[str, Any] = {
        "chargeToType": CHARGE_TO_SERVICE_TICKET,
        "chargeToId": entry.ticket_id,
        "timeStart": cw_time(start),
        "timeEnd": cw_time(start + timedelta(minutes=entry.minutes)),
        "actualHours": entry.minutes / 60,
        "notes": entry.notes,
        "addToDetailDescriptionFlag": False,
    }
    if entry.member_id is not None:
        body["member"] = {"id": entry.member_id}
    if entry.work_type_id is not None:
        body["workType"] = {"id": entry.work_type_id}
    if entry.work_role_id is not None:
        body["workRole"] = {"id": entry.work_role_id}
    if entry.billable in BILLABLE_OPTIONS:
        body["billableOption"] = BILLABLE_OPTIONS[entry.billable]
    return body


def entry_minutes(raw: dict[str, Any]) -> int:
    """Billed minutes: `actualHours` when ConnectWise sends it, else the start–end span."""
    hours = raw.get("actualHours")
    if isinstance(hours, int | float) and not isinstance(hours, bool):
        return round(hours * 60)
    start, end = parse_cw_time(raw.get("timeStart")), parse_cw_time(raw.get("timeEnd"))
    return round((end - start).total_seconds() / 60) if start and end else 0


def time_entry_from(raw: Any, *, ticket_id: int) -> TimeEntry:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
        raise PsaError(f"ConnectWise did not confirm the time entry on ticket #{ticket_id}.")
    return TimeEntry(id=raw["id"], ticket_id=ticket_id, member_id=ref_id(raw.get("member")),
                     minutes=entry_minutes(raw), notes=str(raw.get("notes") or ""))


def _checked(entry: TimeEntryRequest) -> TimeEntryRequest:
    conditions.id_literal(entry.ticket_id, what="ticket number")
    check_time_entry_minutes(entry.minutes)
    for value, what in ((entry.member_id, "member id"), (entry.work_type_id, "work type id"),
                        (entry.work_role_id, "work role id")):
        if value is not None:
            conditions.id_literal(value, what=what)
    if not isinstance(entry.notes, str) or not entry.notes.strip():
        raise InvalidInput("A time entry needs notes saying what the time was spent on.")
    entry_start(entry)
    return entry


class TimeEntryWriter:
    """`add_time_entry` / `find_time_entry` of the ConnectWise client, kept apart to keep modules small."""

    def __init__(self, api: ConnectWiseApi) -> None:
        self._api = api

    async def add(self, entry: TimeEntryRequest) -> TimeEntry:
        entry = _checked(entry)
        raw = await self._api.request("POST", "time/entries", what=f"a time entry on ticket #{entry.ticket_id}",
                                      json=time_entry_body(entry), idempotent=False)
        return time_entry_from(raw, ticket_id=entry.ticket_id)

    async def find(self, entry: TimeEntryRequest) -> TimeEntry | None:
        """The ticket's entry with the same member, start (to the minute) and notes. A permission
        failure raises: a blind "none" here could bill the customer twice."""
        entry = _checked(entry)
        start = entry_start(entry)
        where = conditions.all_of(
            conditions.equals_id("chargeToId", entry.ticket_id, what="ticket number"),
            conditions.equals_text("chargeToType", CHARGE_TO_SERVICE_TICKET),
            f"timeStart>={cw_date_literal(start - timedelta(minutes=1))}",
            f"timeStart<={cw_date_literal(start + timedelta(minutes=1))}",
            conditions.equals_id("member/id", entry.member_id, what="member id") if entry.member_id else None,
        )
        raws = await self._api.get_all("time/entries", what=f"the time entries of ticket #{entry.ticket_id}",
                                       params={"conditions": where, "orderBy": "id asc"})
        for raw in raws:
            if isinstance(raw.get("id"), int) and same_text(str(raw.get("notes") or ""), entry.notes):
                return time_entry_from(raw, ticket_id=entry.ticket_id)
        return None
