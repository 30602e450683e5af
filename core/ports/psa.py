"""The PSA port (R34, R39, R40): the Protocol every PSA adapter implements, and the provider the
composition root plugs in. The value types and errors it speaks in are in `core/psa.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.psa import (
    ConnectionReport,
    NoteKind,
    PostedNote,
    PsaBoard,
    PsaCredentials,
    PsaField,
    PsaList,
    PsaMember,
    ResourceChange,
    StatusChange,
    Ticket,
    TicketStatus,
    TimeEntry,
    TimeEntryRequest,
    WorkCode,
)


class Psa(Protocol):
    async def get_ticket(self, ticket_id: int) -> Ticket:
        """Raises PsaNotFound, PsaPermissionError, PsaUnavailable."""
        ...

    async def search_tickets(self, *, text: str | None = None, company_id: int | None = None,
                             board_id: int | None = None, open_only: bool = True, limit: int = 25) -> PsaList[Ticket]:
        """Newest first, open tickets only unless asked. User text is matched as a literal, never
        as query syntax (R34); text that cannot be passed safely raises InvalidInput."""
        ...

    async def list_boards(self) -> PsaList[PsaBoard]: ...

    async def board_statuses(self, board_id: int) -> PsaList[TicketStatus]:
        """The board's active statuses, each with its `closed` flag."""
        ...

    async def post_note(self, *, ticket_id: int, kind: NoteKind, text: str, member_id: int | None = None) -> PostedNote:
        """One POST, never replayed: a failure that may have landed raises PsaUnavailable with
        `maybe_applied`. `text` is markdown, rendered the way the PSA shows notes (R38)."""
        ...

    async def find_note(self, *, ticket_id: int, kind: NoteKind, text: str, since: datetime) -> PostedNote | None:
        """The note of `kind` created at or after `since` whose text is what `post_note(text)`
        writes; None when there is none. A permission failure raises: a blind None could double-post."""
        ...

    async def change_status(self, *, ticket_id: int, status_id: int) -> StatusChange:
        """Write, then re-read; raises PsaVerificationError when the PSA kept another status."""
        ...

    async def list_members(self) -> PsaList[PsaMember]: ...

    async def find_member_by_email(self, email: str) -> PsaMember | None:
        """The active member with that e-mail address (case-insensitive), if exactly one has it."""
        ...

    async def work_types(self) -> PsaList[WorkCode]: ...

    async def work_roles(self) -> PsaList[WorkCode]: ...

    async def add_resource(self, *, ticket_id: int, member_id: int) -> ResourceChange:
        """Owner when the ticket has none, otherwise a co-assignee. Idempotent."""
        ...

    async def remove_resource(self, *, ticket_id: int, member_id: int) -> ResourceChange: ...

    async def add_time_entry(self, entry: TimeEntryRequest) -> TimeEntry:
        """One POST, never replayed (see post_note). A refusal (closed ticket, member not allowed)
        raises PsaRefused with the PSA's reason; minutes outside 1..1440 raise InvalidInput."""
        ...

    async def find_time_entry(self, entry: TimeEntryRequest) -> TimeEntry | None:
        """The entry on the ticket with the same member, start and notes, if one was logged."""
        ...

    async def check_connection(self) -> ConnectionReport:
        """Every problem a person must fix before writebacks can work, in words (setup)."""
        ...


class PsaSession(Psa, Protocol):
    """A PSA client used as `async with provider.open(credentials) as psa: ...`."""

    async def __aenter__(self) -> Psa: ...
    async def __aexit__(self, *exc: object) -> None: ...


class PsaProvider(Protocol):
    """One PSA vendor as the composition root plugs it in: its name, the settings it needs, and
    how to open a client. Core never names a vendor; surfaces show `display_name`."""

    kind: str
    display_name: str
    fields: tuple[PsaField, ...]

    def open(self, credentials: PsaCredentials) -> PsaSession: ...


