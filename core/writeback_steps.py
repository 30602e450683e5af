"""The three steps of one writeback delivery (R17, R20, R39, R40): note, time entry, status.

Each step is done once and retried alone: its progress is stored on the outbox row before and after
the write (`record_step`, conditional on the worker's lease). PSAs have no idempotency keys and the
ticket must carry nothing of ours, so before writing again after a failure that may have landed, a
step asks the PSA for what it would have written (same note text, same time entry) since it tried.
The configuration (board statuses, time settings, the engineer's PSA member) is read when the step
runs, never copied into the row when it was queued, so a retry after a settings fix uses the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.deps import Deps
from core.errors import DomainError
from core.models import StatusRole, Writeback, WriteupKind
from core.ports.psa import Psa
from core.psa import NoteKind, PsaUnavailable, TimeEntryRequest
from core.psa_members import psa_member_for
from core.psa_time import time_settings

# How far before our own attempt a PSA-side creation time may read: the PSA's clock is not ours.
CLOCK_SKEW = timedelta(minutes=10)
TIME_ENTRY_NOTES = "Troubleshooting session"
ROLE_OF = {WriteupKind.RESOLVE: StatusRole.RESOLVED, WriteupKind.ESCALATE: StatusRole.ESCALATED}


class LeaseLost(Exception):
    """Another worker holds this writeback now: stop without writing anything more."""


class TimeEntryFailed(DomainError):
    code = "time_entry_failed"


@dataclass
class StepReport:
    """What the steps did, in order, for the engineer's message and the row's outcome."""

    parts: list[str] = field(default_factory=list)
    actual_status: str | None = None


def time_entry_start(created_at: datetime, minutes: int) -> datetime:
    """Where the session's working time began: it ended when the engineer resolved."""
    return (created_at - timedelta(minutes=minutes)).replace(microsecond=0)


class Delivery:
    def __init__(self, deps: Deps, wb: Writeback, psa: Psa, *, worker_id: str, psa_name: str) -> None:
        self.deps, self.wb, self.psa = deps, wb, psa
        self.worker_id, self.psa_name = worker_id, psa_name
        self.report = StepReport()

    async def _record(self, **values: object) -> None:
        async with self.deps.uow_factory() as uow:
            if not await uow.writebacks.record_step(writeback_id=self.wb.id or 0, worker_id=self.worker_id,
                                                    values=values):
                raise LeaseLost(self.wb.id)
            await uow.commit()
        for name, value in values.items():
            setattr(self.wb, name, value)

    async def run(self) -> StepReport:
        await self.note()
        if self.wb.time_entry_minutes and self.wb.time_outcome != "logged":
            await self.time_entry()
        await self.status()
        return self.report

    # ---- note -------------------------------------------------------------------------------

    async def note(self) -> None:
        wb = self.wb
        kind = NoteKind(wb.note_kind)
        where = "resolution note" if wb.kind == WriteupKind.RESOLVE else "internal analysis note (not customer-visible)"
        if wb.external_note_id is None:
            note = None
            if wb.note_attempted_at is not None:  # an earlier attempt may have landed: look before posting
                note = await self.psa.find_note(ticket_id=wb.ticket_id, kind=kind, text=wb.text,
                                                since=wb.note_attempted_at - CLOCK_SKEW)
            if note is None:
                await self._record(note_attempted_at=self.deps.clock.now())
                try:
                    note = await self.psa.post_note(ticket_id=wb.ticket_id, kind=kind, text=wb.text)
                except PsaUnavailable as exc:  # it may have landed: look once now, else a later attempt looks
                    assert wb.note_attempted_at is not None
                    note = await self.psa.find_note(ticket_id=wb.ticket_id, kind=kind, text=wb.text,
                                                    since=wb.note_attempted_at - CLOCK_SKEW) if exc.maybe_applied else None
                    if note is None:
                        raise
            await self._record(external_note_id=str(note.id), note_posted_at=self.deps.clock.now())
        self.report.parts.append(f"Posted the {where} to {self.psa_name} ticket #{wb.ticket_id} (note {wb.external_note_id}).")

    # ---- time entry -------------------------------------------------------------------------

    async def time_entry(self) -> None:
        """Before the status change: a PSA refuses time on a closed ticket (R40). A refusal is
        its own outcome; the status waits, so a retry can still log the time."""
        wb = self.wb
        minutes = wb.time_entry_minutes or 0
        try:
            request = await self._time_request(minutes)
            entry = None
            if wb.time_attempted_at is not None:
                entry = await self.psa.find_time_entry(request)
            if entry is None:
                await self._record(time_attempted_at=self.deps.clock.now())
                try:
                    entry = await self.psa.add_time_entry(request)
                except PsaUnavailable as exc:  # as for the note: look once before handing back
                    entry = await self.psa.find_time_entry(request) if exc.maybe_applied else None
                    if entry is None:
                        raise
        except PsaUnavailable:
            raise
        except DomainError as exc:  # refused, unmatched, permissions, bad settings: the time step's own failure
            await self._record(time_outcome="failed", time_detail=exc.message)
            raise TimeEntryFailed(exc.message, reason="writeback.time_entry_failed",
                                  params={"cause": exc.reason or exc.code}) from None
        await self._record(time_entry_id=str(entry.id), time_outcome="logged", time_detail=None)
        self.report.parts.append(f"Logged {minutes} min of working time as {self._member_name} (entry {entry.id}).")

    async def _time_request(self, minutes: int) -> TimeEntryRequest:
        wb = self.wb
        async with self.deps.uow_factory() as uow:
            account = await uow.accounts.get(account_id=wb.account_id)
            member = await uow.members.get(account_id=wb.account_id, member_id=wb.created_by)
            assert account is not None and member is not None
            link = await uow.psa_members.get(account_id=wb.account_id, member_id=wb.created_by)
        settings = time_settings(account)
        psa_member = await psa_member_for(self.deps, self.psa, member, link, psa_name=self.psa_name)
        self._member_name = psa_member.psa_member_name
        started = wb.time_started_at or time_entry_start(wb.created_at, minutes)
        return TimeEntryRequest(ticket_id=wb.ticket_id, minutes=minutes, notes=TIME_ENTRY_NOTES, started_at=started,
                                member_id=psa_member.psa_member_id, work_type_id=settings.work_type_id,
                                work_role_id=settings.work_role_id, billable=settings.billable)

    _member_name: str = ""

    # ---- status -----------------------------------------------------------------------------

    async def status(self) -> None:
        """The board's status for this writeback as configured now, checked against the board's
        own list before use (R40), then changed and verified by re-reading (R17)."""
        wb = self.wb
        role = ROLE_OF[WriteupKind(wb.kind)]
        ticket = await self.psa.get_ticket(wb.ticket_id)
        choice = None
        if ticket.board_id is not None:
            async with self.deps.uow_factory() as uow:
                choice = await uow.board_statuses.get(account_id=wb.account_id, board_id=ticket.board_id, role=role)
        board = ticket.board_name or f"board #{ticket.board_id}"
        if choice is None:
            await self._record(status_outcome="skipped")
            self.report.parts.append(f"Status unchanged: no {role.value} status is chosen for the board '{board}'.")
            return
        statuses = await self.psa.board_statuses(choice.board_id)
        if not statuses.warning and all(s.id != choice.status_id for s in statuses):
            raise DomainError(f"The {role.value} status '{choice.status_name}' is no longer a status of the board "
                              f"'{board}'. An admin chooses another in settings.", reason="writeback.status_not_on_board",
                              params={"role": role.value, "status": choice.status_name, "board": board})
        change = await self.psa.change_status(ticket_id=wb.ticket_id, status_id=choice.status_id)
        await self._record(status_outcome="verified", actual_status=change.actual_status_name)
        self.report.actual_status = change.actual_status_name
        self.report.parts.append(f"Ticket status is now '{change.actual_status_name}' (verified).")
