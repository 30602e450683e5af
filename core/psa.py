"""The PSA port (R34, R39, R40): what the engine needs from a ticketing system, whatever the vendor.

The Protocols are in `core/ports/psa.py`; ConnectWise Manage is the first implementation
(`adapters/psa/connectwise.py`), and Autotask or Halo can follow behind them. Nothing here is shaped like one vendor: credentials are named
settings plus secrets that the adapter declares (`PsaProvider.fields`). Value types are frozen so a
ticket read once can be passed around safely; errors are `DomainError`s, worded by each surface.

No write takes an idempotency key: PSAs have none, and anything written into a note is seen by the
customer. Exactly-once lives in our outbox (core/writeback.py): it remembers what it is about to
write and, after an ambiguous failure, asks `find_note` / `find_time_entry` before writing again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

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
    closed: bool = False


@dataclass(frozen=True)
class PsaBoard:
    id: int
    name: str


@dataclass(frozen=True)
class TicketStatus:
    """Statuses belong to a board; `closed` comes from the PSA's own flag, never from the name."""

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


@dataclass(frozen=True)
class WorkCode:
    """A work type or work role a time entry is booked under; `default` is the PSA's own default."""

    id: int
    name: str
    default: bool = False


class BillableOption(StrEnum):
    """How a time entry is billed. NO_DEFAULT leaves it to the PSA (the work type's own setting)."""

    BILLABLE = "billable"
    DO_NOT_BILL = "do_not_bill"
    NO_CHARGE = "no_charge"
    NO_DEFAULT = "no_default"


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


@dataclass(frozen=True, kw_only=True)
class TimeEntryRequest:
    """One time entry as the engine wants it written (R40). `started_at` is fixed when the writeback
    is queued, so a retry asks for exactly the same entry and `find_time_entry` can recognise it.
    `member_id` None means the PSA's API member: the engine never sends that for billable time."""

    ticket_id: int
    minutes: int
    notes: str
    started_at: datetime
    member_id: int | None = None
    work_type_id: int | None = None
    work_role_id: int | None = None
    billable: BillableOption = BillableOption.NO_DEFAULT


@dataclass(frozen=True)
class TimeEntry:
    """Working time logged on a ticket, which MSPs bill by; `member_id` is who the PSA recorded."""

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
class PsaField:
    """One setting a PSA connection needs, declared by the adapter: `secret` ones are stored only
    encrypted and never shown back; optional ones may be discovered (a ConnectWise codebase)."""

    name: str
    label: str
    secret: bool = False
    required: bool = True


@dataclass(frozen=True)
class PsaCredentials:
    """One account's connection: the adapter's named settings and secrets (see PsaField)."""

    kind: str
    settings: Mapping[str, str]
    secrets: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Secrets never reach a log line, a traceback or a debugger print.
        hidden = {name: "***" for name in self.secrets}
        return f"PsaCredentials(kind={self.kind!r}, settings={dict(self.settings)!r}, secrets={hidden!r})"

    __str__ = __repr__


class CheckCode(StrEnum):
    """What a connection test can find wrong, in the order a person fixes it."""

    SITE_UNREACHABLE = "site_unreachable"
    COMPANY_UNKNOWN = "company_unknown"
    CREDENTIALS_REFUSED = "credentials_refused"
    CLIENT_ID_REFUSED = "client_id_refused"
    PERMISSION_MISSING = "permission_missing"


@dataclass(frozen=True)
class CheckProblem:
    code: CheckCode
    message: str  # the adapter's words, naming the field or the permission to fix
    permission: str | None = None


@dataclass(frozen=True)
class ConnectionReport:
    """`discovered` holds settings the adapter found (e.g. `codebase`), to store with the connection."""

    problems: tuple[CheckProblem, ...] = ()
    discovered: Mapping[str, str] = field(default_factory=dict)
    api_member: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------------------------------------
# Errors


class PsaError(DomainError):
    code = "psa_error"


class PsaPermissionError(PsaError):
    """The API member's security role lacks `permission` (e.g. "Service Desk › Service Tickets")."""

    code = "psa_permission"

    def __init__(self, permission: str, message: str | None = None) -> None:
        super().__init__(message or f"The PSA's API member is missing the permission {permission}.")
        self.permission = permission


class PsaNotFound(PsaError, NotFound):
    code = "psa_not_found"


class PsaRefused(PsaError):
    """The PSA understood the write and refused it (a time entry on a closed ticket, a member who
    may not log time): retrying the same request will not help until something is changed."""

    code = "psa_refused"


class PsaVerificationError(PsaError):
    """The PSA answered OK but did not apply the status (R17): say which was asked, which stuck."""

    code = "psa_verification"

    def __init__(self, ticket_id: int, requested: str, actual: str, *, detail: str | None = None,
                 psa_name: str = "The PSA") -> None:
        message = f"{psa_name} kept ticket #{ticket_id} in '{actual}' instead of '{requested}'"
        super().__init__(f"{message} ({detail})" if detail else message)
        self.ticket_id = ticket_id
        self.requested = requested
        self.actual = actual


class PsaUnavailable(PsaError):
    """Network failure, timeout or 5xx that outlasted the retries. `maybe_applied` is True when a
    write may have landed anyway (a timeout after the request was sent): the caller must look for
    it before writing again (R39)."""

    code = "psa_unavailable"

    def __init__(self, message: str, *, maybe_applied: bool = False) -> None:
        super().__init__(message)
        self.maybe_applied = maybe_applied


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
