"""ConnectWise JSON ⇄ the port's value types, and the note flags per kind (R17, R20)."""

from __future__ import annotations

from typing import Any

from core.errors import InvalidInput
from core.psa import NoteKind, PsaCredentials, PsaError, PsaMember, Ticket, TicketStatus

DEFAULT_CODEBASE = "v4_6_release/"
MAX_MARKER_LENGTH = 120

NOTE_FLAGS: dict[NoteKind, dict[str, bool]] = {
    # R17: the customer sees the resolution, flagged as the ticket's resolution.
    NoteKind.RESOLUTION: {
        "resolutionFlag": True,
        "detailDescriptionFlag": False,
        "internalAnalysisFlag": False,
        "externalFlag": True,
        "internalFlag": False,
    },
    # R20: an escalation package is internal analysis, never customer-visible.
    NoteKind.INTERNAL_ANALYSIS: {
        "internalAnalysisFlag": True,
        "internalFlag": True,
        "externalFlag": False,
        "resolutionFlag": False,
        "detailDescriptionFlag": False,
    },
    NoteKind.DISCUSSION: {
        "detailDescriptionFlag": True,
        "internalAnalysisFlag": False,
        "resolutionFlag": False,
    },
}


def site_root(credentials: PsaCredentials) -> str:
    """`https://{site}/{codebase}` — the root of both the UI and `apis/3.0/`."""
    site = credentials.site.strip().rstrip("/")
    site = site if "://" in site else f"https://{site}"
    return f"{site}/{(credentials.codebase or DEFAULT_CODEBASE).strip('/')}/"


def ref_id(value: Any) -> int | None:
    return value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), int) else None


def ref_name(value: Any) -> str | None:
    return value.get("name") if isinstance(value, dict) and value.get("name") else None


def ticket_from(raw: Any, *, ui_root: str) -> Ticket:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
        raise PsaError("ConnectWise sent a ticket without an id.")
    ticket_id = raw["id"]
    return Ticket(
        id=ticket_id,
        summary=str(raw.get("summary") or ""),
        company_id=ref_id(raw.get("company")),
        company_name=ref_name(raw.get("company")),
        board_id=ref_id(raw.get("board")),
        board_name=ref_name(raw.get("board")),
        status_id=ref_id(raw.get("status")),
        status_name=ref_name(raw.get("status")),
        owner_member_id=ref_id(raw.get("owner")),
        url=f"{ui_root}ConnectWise.aspx?locale=en_US&routeTo=ServiceFV&recid={ticket_id}",
    )


def status_from(raw: dict[str, Any], *, board_id: int) -> TicketStatus | None:
    """Inactive statuses are left out: nobody should pick them."""
    if raw.get("inactive") or not isinstance(raw.get("id"), int):
        return None
    return TicketStatus(
        id=raw["id"],
        name=str(raw.get("name") or f"status #{raw['id']}"),
        board_id=ref_id(raw.get("board")) or board_id,
        closed=bool(raw.get("closedStatus")),
    )


def member_from(raw: dict[str, Any]) -> PsaMember | None:
    if not isinstance(raw.get("id"), int):
        return None
    name = " ".join(str(raw.get(key) or "").strip() for key in ("firstName", "lastName")).strip()
    identifier = str(raw.get("identifier") or "")
    return PsaMember(
        id=raw["id"],
        identifier=identifier,
        name=name or identifier,
        email=raw.get("primaryEmail") or raw.get("officeEmail") or None,
    )


def note_kind(note: dict[str, Any]) -> NoteKind:
    if note.get("resolutionFlag"):
        return NoteKind.RESOLUTION
    if note.get("internalAnalysisFlag"):
        return NoteKind.INTERNAL_ANALYSIS
    return NoteKind.DISCUSSION


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def check_marker(marker: str) -> str:
    """Idempotency markers (R19) are one short line, so "the last line is the marker" is exact."""
    marker = marker.strip() if isinstance(marker, str) else ""
    if not marker or len(marker) > MAX_MARKER_LENGTH or "\n" in marker or "\r" in marker:
        raise InvalidInput(f"A writeback marker is one line of 1–{MAX_MARKER_LENGTH} characters.")
    return marker


def with_marker(text: str, marker: str | None) -> str:
    """The text as written to ConnectWise: the marker, when given, as its own last line."""
    body = text.rstrip()
    return f"{body}\n\n{marker}" if marker is not None else body


def without_marker(text: str, marker: str | None) -> str:
    """Inverse of `with_marker`, for reporting back what the caller wrote."""
    body = text.rstrip()
    if marker is not None and last_line(body) == marker:
        body = body[: -len(marker)].rstrip()
    return body
