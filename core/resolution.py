"""Resolve a session (R15, R18, R19): the note from the preview or the engineer's edit, one status
change that only one caller can win, the outcome code, and the after-commit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.access import Actor, load_member, load_session, require_can_change
from core.compose import summary_line
from core.deps import Deps
from core.errors import Conflict, InvalidInput
from core.events import SessionResolved
from core.machines import SessionEvent, session_is_final
from core.models import Session, Writeup, WriteupKind
from core.notify import publish, record
from core.ports import UnitOfWork
from core.previews import PreviewService
from core.psa_link import linked_ticket_id
from core.psa_time import TIME_PREF
from core.redaction import redact_text
from core.sessions import change_status, record_action
from core.writeback import enqueue

PENDING_WRITEBACK = "writeback_pending"

MAX_NOTE_CHARS = 20_000
MAX_SUMMARY_CHARS = 500


@dataclass(frozen=True, kw_only=True)
class Resolution:
    session: Session
    writeup: Writeup
    outcome: str
    ticket_id: int | None = None
    time_minutes: int | None = None


@dataclass(frozen=True, kw_only=True)
class ResolveDefaults:
    summary: str
    ticket_ref: str | None
    time_minutes: int | None


def check_note(markdown: str) -> str:
    """R15: 1–20,000 characters, secrets redacted before anything is stored or posted (R14)."""
    markdown = redact_text(markdown.strip())
    if not markdown:
        raise InvalidInput("The note is empty; write at least one line.", reason="note.empty")
    if len(markdown) > MAX_NOTE_CHARS:
        raise InvalidInput(f"The note is {len(markdown)} characters; at most {MAX_NOTE_CHARS} fit.", reason="note.too_long",
                           params={"length": len(markdown), "max": MAX_NOTE_CHARS})
    return markdown


def check_summary(summary: str | None, markdown: str) -> str:
    summary = redact_text((summary or "").strip()) or summary_line(markdown)
    if len(summary) > MAX_SUMMARY_CHARS:
        raise InvalidInput(f"The summary is {len(summary)} characters; at most {MAX_SUMMARY_CHARS}.",
                           reason="summary.too_long", params={"length": len(summary), "max": MAX_SUMMARY_CHARS})
    return summary


async def resolved_conflict(uow: UnitOfWork, session: Session) -> Conflict:
    """R19's message: when and by whom."""
    who = await uow.members.get(account_id=session.account_id, member_id=session.resolved_by or 0)
    when = session.resolved_at.strftime("%Y-%m-%d %H:%M UTC") if session.resolved_at else "an earlier time"
    by = who.name if who else "someone"
    return Conflict(f"Session #{session.id} was already resolved at {when} by {by}.", reason="session.already_resolved",
                    params={"session_id": session.id, "when": when, "by": by})


class ResolutionService:
    def __init__(self, deps: Deps, previews: PreviewService) -> None:
        self.deps = deps
        self.previews = previews

    async def resolve(self, *, actor: Actor, session_id: int, summary: str | None = None,
                      markdown: str | None = None, log_time: bool = False) -> Resolution:
        """R17/R18: with a linked ticket the note goes to the PSA through the outbox; without, locally."""
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            if session_is_final(session.status):
                raise await resolved_conflict(uow, session)
            await require_can_change(uow, member, session)
        composed_by = "engineer"
        if markdown is None:
            preview = await self.previews.preview(actor=actor, session_id=session_id, kind="resolve")
            markdown, composed_by = preview.markdown, preview.composed_by
        note = check_note(markdown)
        summary = check_summary(summary, note)
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            if session_is_final(session.status):
                raise await resolved_conflict(uow, session)
            await require_can_change(uow, member, session)
            now = self.deps.clock.now()
            await change_status(uow, self.deps, session, SessionEvent.RESOLVE, resolved_at=now, resolved_by=member.id)
            session.resolved_at, session.resolved_by = now, member.id
            ticket_id = linked_ticket_id(session)
            minutes = await self._time_to_log(uow, session, now) if log_time and ticket_id else None
            outcome = PENDING_WRITEBACK if ticket_id else "resolved_local"
            writeup = await uow.writeups.add(Writeup(
                account_id=actor.account_id, session_id=session_id, kind=WriteupKind.RESOLVE, markdown=note,
                summary=summary, outcome=outcome, created_by=member.id or 0, created_at=now,
                composed_by=composed_by, state_version=session.state_version))
            if ticket_id:
                await enqueue(uow, self.deps, session=session, writeup=writeup, member=member, ticket_id=ticket_id,
                              time_entry_minutes=minutes)
            await record_action(uow, self.deps, session, member.id, f"{member.name} resolved the session: {summary}", outcome=outcome)
            await record(uow, self.deps, SessionResolved(
                account_id=actor.account_id, session_id=session_id, title=session.title, resolved_by_id=member.id or 0,
                resolved_by=member.name, outcome=outcome, thread_ref=session.thread_ref, surface=session.surface))
            await uow.commit()
        await publish(self.deps, uow)
        return Resolution(session=session, writeup=writeup, outcome=outcome, ticket_id=ticket_id, time_minutes=minutes)

    async def form_defaults(self, *, actor: Actor, session_id: int) -> ResolveDefaults:
        """What the resolution form starts with: the session's title as the summary, and the working
        time it offers to log, only with a linked ticket and time entries on for the account (R19)."""
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            account = await uow.accounts.get(account_id=actor.account_id)
        offer = bool(session.ticket_ref) and account is not None and account.preferences.get(TIME_PREF) is True
        return ResolveDefaults(summary=session.title, ticket_ref=session.ticket_ref,
                               time_minutes=working_minutes(session, self.deps.clock.now()) if offer else None)

    async def _time_to_log(self, uow: UnitOfWork, session: Session, now: datetime) -> int:
        """The session's working time, offered as a time entry when the account turned that on."""
        account = await uow.accounts.get(account_id=session.account_id)
        if account is None or account.preferences.get(TIME_PREF) is not True:
            raise InvalidInput("Time entries are off for this account; an admin can turn them on.",
                               reason="time_entries.off", params={"pref": TIME_PREF})
        return working_minutes(session, now)


def working_minutes(session: Session, now: datetime) -> int:
    return max(1, min(1440, -(-int((now - session.created_at).total_seconds()) // 60)))
