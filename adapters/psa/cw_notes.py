"""Ticket notes on ConnectWise: one POST per note, and a look for a note we may have written (R39).

ConnectWise has no idempotency key and anything in a note's text is shown to the customer, so the
note carries nothing of ours. After a failure that may have landed, the outbox asks `find`: notes
of the same kind created since its attempt (`dateCreated`, pyconnectwise ServiceNote) whose text is
what `post` writes. Text compare ignores CRLF and trailing blanks, which ConnectWise may change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.psa import conditions
from adapters.psa.cw_api import ConnectWiseApi
from adapters.psa.mapping import NOTE_FLAGS, note_kind, same_text
from adapters.psa.note_text import note_text
from adapters.psa.time_entries import cw_date_literal
from core.errors import InvalidInput
from core.psa import NoteKind, PostedNote, PsaError

KIND_FLAG = {
    NoteKind.RESOLUTION: "resolutionFlag",
    NoteKind.INTERNAL_ANALYSIS: "internalAnalysisFlag",
    NoteKind.DISCUSSION: "detailDescriptionFlag",
}


def note_body(kind: NoteKind, text: str, member_id: int | None) -> dict[str, Any]:
    """Plain text as ConnectWise shows it (R38), flagged for its kind (R17, R20)."""
    body: dict[str, Any] = {"text": note_text(text), **NOTE_FLAGS[kind], "processNotifications": False}
    if member_id is not None:
        body["member"] = {"id": int(conditions.id_literal(member_id, what="member id"))}
    return body


class NoteWriter:
    def __init__(self, api: ConnectWiseApi) -> None:
        self._api = api

    async def post(self, *, ticket_id: int, kind: NoteKind, text: str, member_id: int | None = None) -> PostedNote:
        ref = conditions.id_literal(ticket_id, what="ticket number")
        kind = NoteKind(kind)
        if not text or not text.strip():
            raise InvalidInput("A note needs some text.")
        raw = await self._api.request("POST", f"service/tickets/{ref}/notes", what=f"a note on ticket #{ref}",
                                      json=note_body(kind, text, member_id), idempotent=False)
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
            raise PsaError(f"ConnectWise did not confirm the note on ticket #{ref}.")
        return PostedNote(id=raw["id"], ticket_id=ticket_id, kind=kind)

    async def find(self, *, ticket_id: int, kind: NoteKind, text: str, since: datetime) -> PostedNote | None:
        """A permission failure raises: a blind "not found" here could double-post."""
        ref = conditions.id_literal(ticket_id, what="ticket number")
        kind = NoteKind(kind)
        written = note_text(text)
        where = conditions.all_of(f"dateCreated>={cw_date_literal(since)}", conditions.equals_bool(KIND_FLAG[kind], True))
        notes = await self._api.get_all(f"service/tickets/{ref}/notes", what=f"the notes of ticket #{ref}",
                                        params={"conditions": where, "orderBy": "id asc"})
        for note in notes:
            if isinstance(note.get("id"), int) and note_kind(note) == kind and same_text(str(note.get("text") or ""), written):
                return PostedNote(id=note["id"], ticket_id=ticket_id, kind=kind)
        return None
