"""The generation input of a note (R13), plus what the deterministic writer needs to word it for
people (R16): the account's time zone, who wrote the fix, and whom an escalation goes to.

It extends `NoteBundle` rather than travelling beside it, so the preview path hands one value to
the assistant and, when that fails, to core/compose.py unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from core.assistant.types import NoteBundle
from core.models import FixAuthor, Session
from core.ports import UnitOfWork
from core.time_zones import DEFAULT_TIME_ZONE


@dataclass(frozen=True, kw_only=True)
class NoteInput(NoteBundle):
    time_zone: str = DEFAULT_TIME_ZONE
    fix_author: FixAuthor | None = None
    target: str | None = None


def note_input(bundle: NoteBundle, **extra: object) -> NoteInput:
    """`bundle` as a NoteInput, keeping whatever it already carries and setting `extra`."""
    own = {f.name: getattr(bundle, f.name) for f in fields(bundle)}
    return NoteInput(**{**own, **extra})


async def with_account_context(uow: UnitOfWork, bundle: NoteBundle, *, session: Session) -> NoteInput:
    """Adds the account's time zone and the active fix's author (the one `build_bundle` picked:
    the fix not superseded)."""
    account = await uow.accounts.get(account_id=session.account_id)
    fixes = await uow.fixes.list(account_id=session.account_id, session_id=session.id or 0)
    active = next((f for f in fixes if f.superseded_at is None), None)
    return note_input(bundle, time_zone=account.time_zone if account else DEFAULT_TIME_ZONE,
                      fix_author=active.author if active else None)
