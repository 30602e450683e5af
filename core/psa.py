"""The PSA port (R34): what the engine needs from a ticketing system, whatever the vendor.

ConnectWise Manage is the first implementation (`adapters/psa/connectwise.py`); Autotask or Halo can
follow behind the same Protocol. Value types are frozen so a ticket read once can be passed around
safely; errors are `DomainError`s, worded by each surface (core.errors).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from core.errors import DomainError, InvalidInput, NotFound

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------
# Value types


@dataclass(frozen=True)
class Ticket:
    id: int
    summary: str
    company_id: int | None
    company_name: str | None
    board_id: int | None
    board_name: str | None
    status_id: int | None
    status_name: str | None
    owner_member_id: int | None = None
    url: str | None = None


@dataclass(frozen=True)
class TicketStatus:
    """Statuses belong to a board in ConnectWise; `closed` marks the ones that close a ticket."""

    id: int
    name: str
    board_id: int
    closed: bool = False


@dataclass(frozen=True)
class PsaMember:
    id: int
    identifier: str
    name: str
    email: str | None = None


class NoteKind(StrEnum):
    """R17/R20: a resolution is customer-visible; an escalation package never is."""

    RESOLUTION = "resolution"
    INTERNAL_ANALYSIS = "internal_analysis"
    DISCUSSION = "discussion"


@dataclass(frozen=True)
class PostedNote:
    id: int
    ticket_id: int
    kind: NoteKind


@dataclass(frozen=True)
class StatusChange:
    """The status the ticket really has after a verified change (R17)."""

    ticket_id: int
    requested_status_id: int
    actual_status_id: int
    actual_status_name: str


class ResourceRole(StrEnum):
    OWNER = "owner"
    CO_ASSIGNEE = "co_assignee"


@dataclass(frozen=True)
class ResourceChange:
    """What add/remove_resource did. `changed` is False when it was already so (idempotent)."""

    ticket_id: int
    member_id: int
    role: ResourceRole
    changed: bool


MIN_TIME_ENTRY_MINUTES = 1
MAX_TIME_ENTRY_MINUTES = 24 * 60  # one entry never spans more than a day


@dataclass(frozen=True)
class TimeEntry:
    """Working time logged on a ticket, which MSPs bill by. `notes` is what the caller wrote,
    without the idempotency marker; `member_id` is the member the PSA recorded (None when it
    names none; ConnectWise falls back to the API member when none was given)."""

    id: int
    ticket_id: int
    member_id: int | None
    minutes: int
    notes: str


def check_time_entry_minutes(minutes: object) -> int:
    """The one rule every PSA shares: whole minutes, at least one, at most a day."""
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidInput("Working time is a whole number of minutes.", reason="time_entry.not_whole_minutes")
    if not MIN_TIME_ENTRY_MINUTES <= minutes <= MAX_TIME_ENTRY_MINUTES:
        raise InvalidInput(
            f"Working time must be between {MIN_TIME_ENTRY_MINUTES} and "
            f"{MAX_TIME_ENTRY_MINUTES} minutes, not {minutes}.",
            reason="time_entry.minutes_out_of_range",
            params={"minutes": minutes, "min": MIN_TIME_ENTRY_MINUTES, "max": MAX_TIME_ENTRY_MINUTES},
        )
    return minutes


class PsaList(list[T]):
    """A list read from the PSA. When the read failed for missing permissions it is empty and
    `warning` names the permission (R34), so callers can show it instead of a silent blank."""

    def __init__(self, items: list[T] | tuple[T, ...] = (), *, warning: str | None = None) -> None:
        super().__init__(items)
        self.warning = warning


@dataclass(frozen=True)
class PsaCredentials:
    """One account's API member. `codebase` None means "ask nothing, use v4_6_release/"."""

    site: str
    company_id: str
    public_key: str
    private_key: str
    client_id: str
    codebase: str | None = None

    def __repr__(self) -> str:
        # The private key never reaches a log line, a traceback or a debugger print.
        return (
            f"PsaCredentials(site={self.site!r}, company_id={self.company_id!r}, "
            f"public_key={self.public_key!r}, private_key='***', client_id={self.client_id!r}, "
            f"codebase={self.codebase!r})"
        )

    __str__ = __repr__


# ---------------------------------------------------------------------------------------------
# Errors


class PsaError(DomainError):
    code = "psa_error"


class PsaPermissionError(PsaError):
    """The API member's security role lacks `permission` (e.g. "Service Desk › Service Tickets")."""

    code = "psa_permission"

    def __init__(self, permission: str, message: str | None = None) -> None:
        super().__init__(
            message
            or f"The ConnectWise API member is missing the permission {permission}. "
            "Ask a ConnectWise admin to grant it in System › Security Roles."
        )
        self.permission = permission


class PsaNotFound(PsaError, NotFound):
    code = "psa_not_found"


class PsaVerificationError(PsaError):
    """The PSA answered OK but did not apply the status (R17): say which was asked, which stuck."""

    code = "psa_verification"

    def __init__(
        self,
        ticket_id: int,
        requested: str,
        actual: str,
        *,
        detail: str | None = None,
        psa_name: str = "ConnectWise",
    ) -> None:
        message = f"{psa_name} kept ticket #{ticket_id} in '{actual}' instead of '{requested}'"
        super().__init__(f"{message} ({detail})" if detail else message)
        self.ticket_id = ticket_id
        self.requested = requested
        self.actual = actual


class PsaUnavailable(PsaError):
    """Network failure, timeout or 5xx that outlasted the retries."""

    code = "psa_unavailable"


# ---------------------------------------------------------------------------------------------
# The port


class Psa(Protocol):
    async def get_ticket(self, ticket_id: int) -> Ticket:
        """Raises PsaNotFound, PsaPermissionError, PsaUnavailable."""
        ...

    async def search_tickets(
        self,
        *,
        text: str | None = None,
        company_id: int | None = None,
        board_id: int | None = None,
        status_id: int | None = None,
        limit: int = 25,
    ) -> PsaList[Ticket]:
        """Newest first. User text is matched as a literal, never as query syntax (R34);
        text that cannot be passed safely raises InvalidInput."""
        ...

    async def board_statuses(self, board_id: int) -> PsaList[TicketStatus]: ...

    async def post_note(
        self, *, ticket_id: int, kind: NoteKind, text: str, marker: str | None = None
    ) -> PostedNote:
        """`text` is the note's markdown; the PSA renders it the way its tickets show notes (plain
        text for ConnectWise, R38). `marker` (one line, e.g. `rf:<key>`) is appended as the note's
        last line so that `find_note_by_marker` can make a retried write idempotent (R19)."""
        ...

    async def find_note_by_marker(self, *, ticket_id: int, marker: str) -> PostedNote | None: ...

    async def change_status(self, *, ticket_id: int, status_id: int) -> StatusChange:
        """Write, then re-read; raises PsaVerificationError when the PSA kept another status."""
        ...

    async def list_members(self) -> PsaList[PsaMember]: ...

    async def add_resource(self, *, ticket_id: int, member_id: int) -> ResourceChange:
        """Owner when the ticket has none, otherwise a co-assignee. Idempotent."""
        ...

    async def remove_resource(self, *, ticket_id: int, member_id: int) -> ResourceChange: ...

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
        """Log billable working time on the ticket (offered on Resolve). `minutes` is 1..1440
        (else InvalidInput); `started_at` (timezone-aware) defaults to now minus `minutes`.
        With `marker`, an entry already carrying it is returned instead of logging twice, and an
        ambiguous failure is checked before any new attempt (R19)."""
        ...


# ---------------------------------------------------------------------------------------------
# Ticket references typed by people

_MAX_TICKET_ID = 2**31 - 1  # ConnectWise record ids are 32-bit signed integers
_URL_PATTERNS = (
    re.compile(r"[?&](?:sr|service_)?recid=(\d{1,10})(?!\d)", re.IGNORECASE),
    re.compile(r"/service/tickets/(\d{1,10})(?!\d)", re.IGNORECASE),
)
_TEXT_PATTERN = re.compile(
    r"(?:(?<![\w#&])#\s?|(?<![\w])(?:cw|ticket)\s*(?:#|no\.?|nr\.?|:|-)?\s*#?)(\d{1,10})(?![\d\w])",
    re.IGNORECASE,
)
_BARE_NUMBER = re.compile(r"\s*#?(\d{1,10})\s*")


def parse_ticket_ref(text: str) -> int | None:
    """The ticket id in `#12345`, `CW 12345`, `ticket 12345`, a bare `12345` or a ConnectWise
    ticket URL (`…recid=12345…`, `…/service/tickets/12345`); None when there is none.

    A URL wins over loose mentions because its other numbers (company, locale) are not ids;
    among loose mentions the first one wins."""
    if not text:
        return None
    candidates: list[str] = []
    for pattern in _URL_PATTERNS:
        match = pattern.search(text)
        if match:
            candidates.append(match.group(1))
            break
    if not candidates:
        bare = _BARE_NUMBER.fullmatch(text)
        match = bare or _TEXT_PATTERN.search(text)
        if match:
            candidates.append(match.group(1))
    for raw in candidates:
        value = int(raw)
        if 0 < value <= _MAX_TICKET_ID:
            return value
    return None
