"""ConnectWise Manage behind the PSA port (R34; writeback rules R17, R19, R20).

What ConnectWise does not tell you, and how we cope:
- A PATCH to a status of another board is answered 200 with the old status kept, so every status
  change is re-read and a mismatch raises PsaVerificationError naming both statuses.
- `resources` on a ticket is a derived, read-only string: co-assignees are schedule entries of
  type 4 (service ticket) pointing at the ticket; the owner is the ticket's `owner`.
- Conditions have no documented escaping: see `conditions.py`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx

from adapters.psa import conditions, permissions
from adapters.psa.cw_api import ConnectWiseApi
from adapters.psa.mapping import (
    NOTE_FLAGS,
    check_marker,
    last_line,
    member_from,
    note_kind,
    site_root,
    status_from,
    ticket_from,
    with_marker,
)
from adapters.psa.note_text import note_text
from adapters.psa.time_entries import TimeEntryWriter
from core.clock import SystemClock
from core.errors import InvalidInput
from core.ports.services import Clock
from core.psa import (
    NoteKind,
    PostedNote,
    PsaCredentials,
    PsaError,
    PsaList,
    PsaMember,
    PsaNotFound,
    PsaPermissionError,
    PsaUnavailable,
    PsaVerificationError,
    ResourceChange,
    ResourceRole,
    StatusChange,
    Ticket,
    TicketStatus,
    TimeEntry,
)

log = logging.getLogger("adapters.psa.connectwise")

SCHEDULE_TYPE_SERVICE_TICKET = 4


def _optional_id(field: str, value: object, what: str) -> str | None:
    return conditions.equals_id(field, value, what=what) if value is not None else None


class ConnectWiseClient:
    """The PSA port over ConnectWise Manage REST `apis/3.0` (httpx, async)."""

    def __init__(
        self,
        credentials: PsaCredentials,
        *,
        api_version: str = "2022.1",
        timeout: float = 15,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        base_url: str | None = None,
        backoff_base: float = 0.5,
        max_retry_after: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        self._ui_root = site_root(credentials)
        self._api = ConnectWiseApi(
            credentials,
            api_version=api_version,
            timeout=timeout,
            max_retries=max_retries,
            transport=transport,
            base_url=base_url,
            backoff_base=backoff_base,
            max_retry_after=max_retry_after,
        )
        self._max_retries = max(0, max_retries)
        self._time_entries = TimeEntryWriter(
            self._api, clock=clock or SystemClock(), max_retries=self._max_retries
        )

    def __repr__(self) -> str:
        return f"ConnectWiseClient({self._ui_root!r})"

    async def aclose(self) -> None:
        await self._api.aclose()

    async def __aenter__(self) -> ConnectWiseClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---- tickets --------------------------------------------------------------------------

    def _ticket(self, raw: Any) -> Ticket:
        return ticket_from(raw, ui_root=self._ui_root)

    async def get_ticket(self, ticket_id: int) -> Ticket:
        ref = conditions.id_literal(ticket_id, what="ticket number")
        raw = await self._api.request("GET", f"service/tickets/{ref}", what=f"ticket #{ref}")
        return self._ticket(raw)

    async def search_tickets(
        self,
        *,
        text: str | None = None,
        company_id: int | None = None,
        board_id: int | None = None,
        status_id: int | None = None,
        limit: int = 25,
    ) -> PsaList[Ticket]:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InvalidInput("The number of tickets to return must be between 1 and 1000.")
        stripped = text.strip() if text is not None else ""
        where = conditions.all_of(
            conditions.contains_text("summary", stripped) if stripped else None,
            _optional_id("company/id", company_id, "company id"),
            _optional_id("board/id", board_id, "board id"),
            _optional_id("status/id", status_id, "status id"),
        )
        params: dict[str, Any] = {"orderBy": "id desc"}
        if where:
            params["conditions"] = where
        return await self._degrading_list(
            "service/tickets", what="tickets", params=params, limit=limit, convert=self._ticket
        )

    async def board_statuses(self, board_id: int) -> PsaList[TicketStatus]:
        ref = conditions.id_literal(board_id, what="board id")

        def convert(raw: dict[str, Any]) -> TicketStatus | None:
            return status_from(raw, board_id=int(ref))

        return await self._degrading_list(
            f"service/boards/{ref}/statuses", what=f"the statuses of board #{ref}", convert=convert
        )

    async def _degrading_list(
        self,
        path: str,
        *,
        what: str,
        convert: Any,
        params: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> PsaList[Any]:
        """R34: a list read refused for permissions is empty with a warning, not a failure."""
        try:
            raws = await self._api.get_all(path, what=what, params=params, limit=limit)
        except PsaPermissionError as exc:
            warning = f"Could not read {what}: the ConnectWise API member lacks {exc.permission}."
            log.warning("%s Returning an empty list.", warning)
            return PsaList([], warning=warning)
        converted = (convert(raw) for raw in raws)
        return PsaList([item for item in converted if item is not None])

    # ---- notes ----------------------------------------------------------------------------

    async def post_note(
        self, *, ticket_id: int, kind: NoteKind, text: str, marker: str | None = None
    ) -> PostedNote:
        ref = conditions.id_literal(ticket_id, what="ticket number")
        kind = NoteKind(kind)
        if not text or not text.strip():
            raise InvalidInput("A note needs some text.")
        if marker is not None:
            marker = check_marker(marker)
        body = {"text": with_marker(note_text(text), marker), **NOTE_FLAGS[kind]}  # plain text (R38)
        attempt = 0
        while True:
            try:
                raw = await self._api.request(
                    "POST", f"service/tickets/{ref}/notes", what=f"a note on ticket #{ref}",
                    json=body, idempotent=False,
                )  # fmt: skip
            except PsaUnavailable:
                # The note may have landed. Without a marker we cannot tell: never risk two notes.
                if marker is None or attempt >= self._max_retries:
                    raise
                attempt += 1
                existing = await self.find_note_by_marker(ticket_id=ticket_id, marker=marker)
                if existing is not None:
                    return existing
                continue
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
                raise PsaError(f"ConnectWise did not confirm the note on ticket #{ref}.")
            return PostedNote(id=raw["id"], ticket_id=ticket_id, kind=kind)

    async def find_note_by_marker(self, *, ticket_id: int, marker: str) -> PostedNote | None:
        """Scans the ticket's notes for one whose last line is the marker. A permission failure
        raises: a blind "not found" here could produce a duplicate note (R19)."""
        ref = conditions.id_literal(ticket_id, what="ticket number")
        marker = check_marker(marker)
        notes = await self._api.get_all(
            f"service/tickets/{ref}/notes", what=f"the notes of ticket #{ref}",
            params={"orderBy": "id asc"},
        )  # fmt: skip
        for note in notes:
            if isinstance(note.get("id"), int) and last_line(str(note.get("text") or "")) == marker:
                return PostedNote(id=note["id"], ticket_id=ticket_id, kind=note_kind(note))
        return None

    # ---- status ---------------------------------------------------------------------------

    async def change_status(self, *, ticket_id: int, status_id: int) -> StatusChange:
        ref = conditions.id_literal(ticket_id, what="ticket number")
        wanted = int(conditions.id_literal(status_id, what="status id"))
        await self._api.request(
            "PATCH", f"service/tickets/{ref}", what=f"the status of ticket #{ref}",
            json=[{"op": "replace", "path": "status", "value": {"id": wanted}}],
            permission=permissions.TICKET_STATUS_EDIT,
        )  # fmt: skip
        after = await self.get_ticket(ticket_id)
        if after.status_id != wanted:
            requested, detail = await self._describe_status(after, wanted)
            actual = after.status_name or f"status #{after.status_id}"
            log.warning("ConnectWise ignored status %s on ticket #%s (kept %s)", wanted, ref, actual)
            raise PsaVerificationError(ticket_id, requested, actual, detail=detail)
        return StatusChange(
            ticket_id=ticket_id,
            requested_status_id=wanted,
            actual_status_id=wanted,
            actual_status_name=after.status_name or f"status #{wanted}",
        )

    async def _describe_status(self, ticket: Ticket, status_id: int) -> tuple[str, str | None]:
        """The requested status by name when the ticket's board has it; else say it does not."""
        if ticket.board_id is None:
            return f"status #{status_id}", None
        statuses = await self.board_statuses(ticket.board_id)
        for status in statuses:
            if status.id == status_id:
                return status.name, None
        if statuses.warning:
            return f"status #{status_id}", None
        board = ticket.board_name or f"board #{ticket.board_id}"
        return f"status #{status_id}", f"status #{status_id} is not a status of board '{board}'"

    # ---- members and resources ------------------------------------------------------------

    async def list_members(self) -> PsaList[PsaMember]:
        return await self._degrading_list(
            "system/members", what="the ConnectWise members", convert=member_from,
            params={"conditions": conditions.equals_bool("inactiveFlag", False), "orderBy": "id asc"},
        )  # fmt: skip

    async def _schedule_entries(self, ticket_ref: str, member_ref: str) -> list[dict[str, Any]]:
        where = conditions.all_of(
            conditions.equals_id("type/id", SCHEDULE_TYPE_SERVICE_TICKET),
            conditions.equals_id("objectId", int(ticket_ref)),
            conditions.equals_id("member/id", int(member_ref)),
        )
        return await self._api.get_all(
            "schedule/entries", what=f"the schedule entries of ticket #{ticket_ref}",
            params={"conditions": where},
        )  # fmt: skip

    async def _set_owner(self, ticket_ref: str, member_id: int | None) -> None:
        value = {"id": member_id} if member_id is not None else None
        await self._api.request(
            "PATCH", f"service/tickets/{ticket_ref}", what=f"the owner of ticket #{ticket_ref}",
            json=[{"op": "replace", "path": "owner", "value": value}],
        )  # fmt: skip
        after = await self.get_ticket(int(ticket_ref))
        if after.owner_member_id != member_id:
            raise PsaError(
                f"ConnectWise did not change the owner of ticket #{ticket_ref} "
                f"(it is still member #{after.owner_member_id})."
            )

    async def add_resource(self, *, ticket_id: int, member_id: int) -> ResourceChange:
        ref = conditions.id_literal(ticket_id, what="ticket number")
        member_ref = conditions.id_literal(member_id, what="member id")
        ticket = await self.get_ticket(ticket_id)
        if ticket.owner_member_id is None:
            await self._set_owner(ref, member_id)
            return ResourceChange(ticket_id, member_id, ResourceRole.OWNER, changed=True)
        if ticket.owner_member_id == member_id:
            return ResourceChange(ticket_id, member_id, ResourceRole.OWNER, changed=False)
        if await self._schedule_entries(ref, member_ref):
            return ResourceChange(ticket_id, member_id, ResourceRole.CO_ASSIGNEE, changed=False)
        body = {
            "objectId": ticket_id,
            "member": {"id": member_id},
            "type": {"id": SCHEDULE_TYPE_SERVICE_TICKET},
        }
        try:
            await self._api.request(
                "POST", "schedule/entries", what=f"a schedule entry on ticket #{ref}",
                json=body, idempotent=False,
            )  # fmt: skip
        except PsaUnavailable:
            if not await self._schedule_entries(ref, member_ref):
                raise
        return ResourceChange(ticket_id, member_id, ResourceRole.CO_ASSIGNEE, changed=True)

    async def remove_resource(self, *, ticket_id: int, member_id: int) -> ResourceChange:
        ref = conditions.id_literal(ticket_id, what="ticket number")
        member_ref = conditions.id_literal(member_id, what="member id")
        ticket = await self.get_ticket(ticket_id)
        entries = await self._schedule_entries(ref, member_ref)
        for entry in entries:
            entry_ref = conditions.id_literal(entry.get("id"), what="schedule entry id")
            try:
                await self._api.request(
                    "DELETE", f"schedule/entries/{entry_ref}", what=f"schedule entry #{entry_ref}"
                )
            except PsaNotFound:
                pass  # already gone: removing is idempotent
        if ticket.owner_member_id == member_id:
            await self._set_owner(ref, None)
            return ResourceChange(ticket_id, member_id, ResourceRole.OWNER, changed=True)
        return ResourceChange(ticket_id, member_id, ResourceRole.CO_ASSIGNEE, changed=bool(entries))

    # ---- working time ---------------------------------------------------------------------

    async def add_time_entry(
        self,
        *,
        ticket_id: int,
        minutes: int,
        notes: str,
        member_id: int | None = None,
        started_at: datetime | None = None,
        marker: str | None = None,
    ) -> TimeEntry:
        """See `time_entries.py`: a billable ServiceTicket time entry, idempotent by marker."""
        return await self._time_entries.add(
            ticket_id=ticket_id, minutes=minutes, notes=notes, member_id=member_id,
            started_at=started_at, marker=marker,
        )  # fmt: skip
