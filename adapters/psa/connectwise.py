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

from adapters.psa import conditions, cw_site, permissions
from adapters.psa.cw_api import ConnectWiseApi
from adapters.psa.cw_check import check_connection
from adapters.psa.cw_notes import NoteWriter
from adapters.psa.cw_site import CwSettings, cw_settings, ui_root
from adapters.psa.mapping import board_from, member_from, status_from, ticket_from, work_code_from
from adapters.psa.time_entries import TimeEntryWriter
from core.errors import InvalidInput
from core.psa import (
    ConnectionReport,
    NoteKind,
    PostedNote,
    PsaBoard,
    PsaCredentials,
    PsaError,
    PsaField,
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
    TimeEntryRequest,
    WorkCode,
)

log = logging.getLogger("adapters.psa.connectwise")

SCHEDULE_TYPE_SERVICE_TICKET = 4


def _optional_id(field: str, value: object, what: str) -> str | None:
    return conditions.equals_id(field, value, what=what) if value is not None else None


class ConnectWiseClient:
    """The PSA port over ConnectWise Manage REST `apis/3.0` (httpx, async)."""

    def __init__(
        self,
        credentials: PsaCredentials | CwSettings,
        *,
        api_version: str = "2022.1",
        timeout: float = 15,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        base_url: str | None = None,
        backoff_base: float = 0.5,
        max_retry_after: float = 30.0,
    ) -> None:
        self._settings = credentials if isinstance(credentials, CwSettings) else cw_settings(credentials)
        self._timeout, self._transport, self._base_url_given = timeout, transport, base_url is not None
        self._api = ConnectWiseApi(
            self._settings,
            api_version=api_version,
            timeout=timeout,
            max_retries=max_retries,
            transport=transport,
            base_url=base_url,
            backoff_base=backoff_base,
            max_retry_after=max_retry_after,
        )
        self._notes = NoteWriter(self._api)
        self._time_entries = TimeEntryWriter(self._api)

    def __repr__(self) -> str:
        return f"ConnectWiseClient({self._settings.site!r}, company={self._settings.company_id!r})"

    @property
    def codebase(self) -> str | None:
        """Known once stored or discovered from the site."""
        return self._api.codebase

    async def aclose(self) -> None:
        await self._api.aclose()

    async def __aenter__(self) -> ConnectWiseClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---- tickets --------------------------------------------------------------------------

    def _ticket(self, raw: Any) -> Ticket:
        return ticket_from(raw, ui_root=ui_root(self._settings, self._api.codebase))

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
        open_only: bool = True,
        limit: int = 25,
    ) -> PsaList[Ticket]:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InvalidInput("The number of tickets to return must be between 1 and 1000.")
        stripped = text.strip() if text is not None else ""
        where = conditions.all_of(
            conditions.contains_text("summary", stripped) if stripped else None,
            _optional_id("company/id", company_id, "company id"),
            _optional_id("board/id", board_id, "board id"),
            conditions.equals_bool("closedFlag", False) if open_only else None,
        )
        params: dict[str, Any] = {"orderBy": "id desc"}
        if where:
            params["conditions"] = where
        return await self._degrading_list(
            "service/tickets", what="tickets", params=params, limit=limit, convert=self._ticket
        )

    async def list_boards(self) -> PsaList[PsaBoard]:
        return await self._degrading_list(
            "service/boards", what="the service boards", convert=board_from,
            params={"conditions": conditions.equals_bool("inactiveFlag", False), "orderBy": "name asc"},
        )  # fmt: skip

    async def work_types(self) -> PsaList[WorkCode]:
        return await self._degrading_list(
            "time/workTypes", what="the work types", convert=work_code_from,
            params={"conditions": conditions.equals_bool("inactiveFlag", False), "orderBy": "name asc"},
        )  # fmt: skip

    async def work_roles(self) -> PsaList[WorkCode]:
        return await self._degrading_list(
            "time/workRoles", what="the work roles", convert=work_code_from,
            params={"conditions": conditions.equals_bool("inactiveFlag", False), "orderBy": "name asc"},
        )  # fmt: skip

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

    async def post_note(self, *, ticket_id: int, kind: NoteKind, text: str, member_id: int | None = None) -> PostedNote:
        return await self._notes.post(ticket_id=ticket_id, kind=kind, text=text, member_id=member_id)

    async def find_note(self, *, ticket_id: int, kind: NoteKind, text: str, since: datetime) -> PostedNote | None:
        return await self._notes.find(ticket_id=ticket_id, kind=kind, text=text, since=since)

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
            raise PsaVerificationError(ticket_id, requested, actual, detail=detail, psa_name=cw_site.DISPLAY_NAME)
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

    async def find_member_by_email(self, email: str) -> PsaMember | None:
        """Compared here, case-insensitively, over the active members: a conditions `=` on e-mail
        would depend on the server's collation."""
        wanted = email.strip().lower() if isinstance(email, str) else ""
        if not wanted:
            return None
        members = await self.list_members()
        if members.warning:
            raise PsaPermissionError(permissions.MEMBERS_INQUIRE, members.warning)
        found = [m for m in members if m.email and m.email.strip().lower() == wanted]
        return found[0] if len(found) == 1 else None

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

    async def add_time_entry(self, entry: TimeEntryRequest) -> TimeEntry:
        return await self._time_entries.add(entry)

    async def find_time_entry(self, entry: TimeEntryRequest) -> TimeEntry | None:
        return await self._time_entries.find(entry)

    # ---- setup ------------------------------------------------------------------------------

    async def check_connection(self) -> ConnectionReport:
        return await check_connection(self._api, self._settings, timeout=self._timeout,
                                      transport=self._transport, base_url_given=self._base_url_given)


class ConnectWiseProvider:
    """ConnectWise as the composition root plugs it in (`core.ports.psa.PsaProvider`)."""

    kind = cw_site.KIND
    display_name = cw_site.DISPLAY_NAME
    fields: tuple[PsaField, ...] = cw_site.FIELDS

    def __init__(self, *, timeout: float = 15, base_url: str | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, **options: Any) -> None:
        self._timeout, self._base_url, self._transport, self._options = timeout, base_url, transport, options

    def open(self, credentials: PsaCredentials) -> ConnectWiseClient:
        if credentials.kind != self.kind:
            raise InvalidInput(f"This account's PSA connection is for {credentials.kind}, not ConnectWise.")
        return ConnectWiseClient(credentials, timeout=self._timeout, base_url=self._base_url,
                                 transport=self._transport, **self._options)
