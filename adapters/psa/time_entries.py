"""Working time on a ticket as ConnectWise time entries (MSPs bill by them; offered on Resolve).

- `POST time/entries` charged to the ticket (`chargeToType: "ServiceTicket"`, `chargeToId`), with
  `timeStart`/`timeEnd` in ConnectWise's UTC format `YYYY-MM-DDTHH:MM:SSZ`, `actualHours` equal to
  the span, billable, and not copied into the ticket's discussion (the resolution note says it).
- Idempotent like notes (R19): the marker is the notes' last line. With one, an entry already
  carrying it is returned instead of logging twice, and after an ambiguous failure (5xx, read
  timeout: the entry may have landed) we look again before any new POST. Without one, an
  ambiguous failure is raised as is: a second billable entry costs the customer money.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.psa import conditions
from adapters.psa.cw_api import ConnectWiseApi
from adapters.psa.mapping import check_marker, last_line, ref_id, with_marker, without_marker
from core.errors import InvalidInput
from core.ports.services import Clock
from core.psa import PsaError, PsaUnavailable, TimeEntry, check_time_entry_minutes

log = logging.getLogger("adapters.psa.connectwise")

CHARGE_TO_SERVICE_TICKET = "ServiceTicket"
CW_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
BILLABLE = "Billable"


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


def time_entry_body(
    *, ticket_id: int, minutes: int, notes: str, member_id: int | None, start: datetime
) -> dict[str, Any]:
    """The POST body. `start` is cut to whole seconds first, so `timeEnd - timeStart` is exactly
    `minutes` and `actualHours` (unrounded) never exceeds the span."""
    start = start.astimezone(UTC).replace(microsecond=0) if start.tzinfo else start
    body: dict[str, Any] = {
        "chargeToType": CHARGE_TO_SERVICE_TICKET,
        "chargeToId": ticket_id,
        "timeStart": cw_time(start),
        "timeEnd": cw_time(start + timedelta(minutes=minutes)),
        "actualHours": minutes / 60,
        "notes": notes,
        "billableOption": BILLABLE,
        "addToDetailDescriptionFlag": False,
    }
    if member_id is not None:
        body["member"] = {"id": member_id}
    return body


def entry_minutes(raw: dict[str, Any]) -> int:
    """Billed minutes: `actualHours` when ConnectWise sends it, else the start–end span."""
    hours = raw.get("actualHours")
    if isinstance(hours, int | float) and not isinstance(hours, bool):
        return round(hours * 60)
    start, end = parse_cw_time(raw.get("timeStart")), parse_cw_time(raw.get("timeEnd"))
    return round((end - start).total_seconds() / 60) if start and end else 0


def time_entry_from(raw: Any, *, ticket_id: int, marker: str | None) -> TimeEntry:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
        raise PsaError(f"ConnectWise did not confirm the time entry on ticket #{ticket_id}.")
    return TimeEntry(
        id=raw["id"],
        ticket_id=ticket_id,
        member_id=ref_id(raw.get("member")),
        minutes=entry_minutes(raw),
        notes=without_marker(str(raw.get("notes") or ""), marker),
    )


class TimeEntryWriter:
    """`add_time_entry` of the ConnectWise client, kept apart to keep modules small."""

    def __init__(self, api: ConnectWiseApi, *, clock: Clock, max_retries: int) -> None:
        self._api = api
        self._clock = clock
        self._max_retries = max(0, max_retries)

    async def add(
        self,
        *,
        ticket_id: int,
        minutes: int,
        notes: str,
        member_id: int | None = None,
        started_at: datetime | None = None,
        marker: str | None = None,
    ) -> TimeEntry:
        ref = int(conditions.id_literal(ticket_id, what="ticket number"))
        minutes = check_time_entry_minutes(minutes)
        if member_id is not None:
            conditions.id_literal(member_id, what="member id")
        if not isinstance(notes, str) or not notes.strip():
            raise InvalidInput("A time entry needs notes saying what the time was spent on.")
        if marker is not None:
            marker = check_marker(marker)
        start = started_at if started_at is not None else self._clock.now() - timedelta(minutes=minutes)
        body = time_entry_body(
            ticket_id=ref, minutes=minutes, notes=with_marker(notes, marker), member_id=member_id, start=start
        )
        if marker is not None and (existing := await self.find_by_marker(ticket_id=ref, marker=marker)):
            return existing  # logged by an earlier attempt: never bill twice (R19)
        attempt = 0
        while True:
            try:
                raw = await self._api.request(
                    "POST", "time/entries", what=f"a time entry on ticket #{ref}", json=body, idempotent=False
                )
            except PsaUnavailable:
                # The entry may have landed. Without a marker we cannot tell: never risk two.
                if marker is None or attempt >= self._max_retries:
                    raise
                attempt += 1
                if existing := await self.find_by_marker(ticket_id=ref, marker=marker):
                    log.info("ConnectWise time entry on ticket #%s had landed despite the failure", ref)
                    return existing
                continue
            return time_entry_from(raw, ticket_id=ref, marker=marker)

    async def find_by_marker(self, *, ticket_id: int, marker: str) -> TimeEntry | None:
        """The ticket's time entry whose notes end with `marker`. A permission failure raises:
        a blind "none" here could bill the customer twice."""
        ref = int(conditions.id_literal(ticket_id, what="ticket number"))
        marker = check_marker(marker)
        where = conditions.all_of(
            conditions.equals_id("chargeToId", ref, what="ticket number"),
            conditions.equals_text("chargeToType", CHARGE_TO_SERVICE_TICKET),
        )
        entries = await self._api.get_all(
            "time/entries", what=f"the time entries of ticket #{ref}",
            params={"conditions": where, "orderBy": "id asc"},
        )  # fmt: skip
        for entry in entries:
            if isinstance(entry.get("id"), int) and last_line(str(entry.get("notes") or "")) == marker:
                return time_entry_from(entry, ticket_id=ref, marker=marker)
        return None
