"""ConnectWise JSON ⇄ the port's value types, and the note flags per kind (R17, R20)."""

from __future__ import annotations

from typing import Any

from core.psa import NoteKind, PsaBoard, PsaError, PsaMember, Ticket, TicketStatus, WorkCode

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
        closed=bool(raw.get("closedFlag")),
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


def board_from(raw: dict[str, Any]) -> PsaBoard | None:
    if raw.get("inactiveFlag") or not isinstance(raw.get("id"), int):
        return None
    return PsaBoard(id=raw["id"], name=str(raw.get("name") or f"board #{raw['id']}"))


def work_code_from(raw: dict[str, Any]) -> WorkCode | None:
    """A work type or role; ConnectWise marks the account's default work type `overallDefaultFlag`."""
    if raw.get("inactiveFlag") or not isinstance(raw.get("id"), int):
        return None
    return WorkCode(id=raw["id"], name=str(raw.get("name") or f"#{raw['id']}"),
                    default=bool(raw.get("overallDefaultFlag")))


def same_text(stored: str, written: str) -> bool:
    """Whether a note or entry ConnectWise holds is the one we wrote: ConnectWise may turn line
    breaks into CRLF and trim trailing blanks, so those are not differences."""
    def norm(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n"))
    return norm(stored) == norm(written)
