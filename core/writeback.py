"""Writeback to the PSA through an outbox (R17, R19, R20).

Resolve/Escalate record a Writeback in the same transaction as the session change. A worker
delivers it: find-or-post the note (our marker makes a retry after a crash find the note it already
posted), record the note id at once, then change and verify the ticket status. The outcome lands on
the writeup and in the session's history, so every surface can say what happened.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from core.access import Actor, load_member, load_session, require_worker
from core.deps import Deps
from core.errors import DomainError, NotFound
from core.events import WritebackFinished
from core.log_context import bind
from core.machines import WritebackEvent, next_writeback_status, writeback_allows
from core.models import (
    Account,
    Member,
    PsaConnection,
    Session,
    Step,
    StepKind,
    Writeback,
    WritebackStatus,
    Writeup,
    WriteupKind,
)
from core.notify import dispatch
from core.ports import UnitOfWork
from core.psa import NoteKind, Psa, PsaUnavailable, PsaVerificationError
from core.psa_link import open_psa

log = logging.getLogger("rflow.writeback")

STATUS_PREF = {WriteupKind.RESOLVE: "cw_resolved_status_id", WriteupKind.ESCALATE: "cw_escalated_status_id"}
NOTE_KIND = {WriteupKind.RESOLVE: NoteKind.RESOLUTION, WriteupKind.ESCALATE: NoteKind.INTERNAL_ANALYSIS}
DONE_OUTCOME = {WriteupKind.RESOLVE: "resolved", WriteupKind.ESCALATE: "escalated"}
VERIFICATION_FAILED = "status_not_verified"
FAILED = "writeback_failed"


@dataclass(frozen=True, kw_only=True)
class WritebackResult:
    writeback_id: int
    session_id: int
    account_id: int
    ticket_id: int
    outcome: str | None
    message: str
    retrying: bool = False


def status_target(account: Account, kind: WriteupKind) -> int | None:
    raw = account.preferences.get(STATUS_PREF[kind])
    try:
        return int(raw) if raw not in (None, "", False) else None
    except (TypeError, ValueError):
        return None


async def enqueue(uow: UnitOfWork, deps: Deps, *, session: Session, writeup: Writeup, member: Member,
                  ticket_id: int, time_entry_minutes: int | None = None) -> Writeback:
    """Called inside the resolve/escalate transaction: the outbox row commits with the change."""
    account = await uow.accounts.get(account_id=session.account_id)
    assert account is not None and writeup.id is not None
    key = f"{writeup.kind}:{session.id}:{writeup.id}"
    marker = f"[rf:{uuid.uuid5(uuid.NAMESPACE_URL, f'rflow/{session.account_id}/{key}').hex[:16]}]"
    return await uow.writebacks.add(Writeback(
        account_id=session.account_id, session_id=session.id or 0, writeup_id=writeup.id, kind=writeup.kind,
        ticket_id=ticket_id, note_kind=NOTE_KIND[WriteupKind(writeup.kind)].value, text=writeup.markdown,
        marker=marker, idempotency_key=key, created_at=deps.clock.now(), created_by=member.id or 0,
        target_status_id=status_target(account, WriteupKind(writeup.kind)), time_entry_minutes=time_entry_minutes))


class WritebackService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.worker_id = f"wb-{uuid.uuid4().hex[:12]}"

    async def run_once(self) -> WritebackResult | None:
        now = self.deps.clock.now()
        async with self.deps.uow_factory() as uow:
            wb = await uow.writebacks.claim_next(worker_id=self.worker_id, now=now,
                                                 lease_until=now + timedelta(seconds=self.deps.settings.writeback_lease_seconds))
            connection = await uow.psa_connections.get(account_id=wb.account_id) if wb else None
            await uow.commit()
        if wb is None:
            return None
        with bind(session_id=wb.session_id, account_id=wb.account_id):
            result = await self._attempt(wb, connection)
            if result.outcome is not None:
                await self._announce(result)
            return result

    async def _announce(self, result: WritebackResult) -> None:
        async with self.deps.uow_factory() as uow:
            session = await uow.sessions.get(account_id=result.account_id, session_id=result.session_id)
        if session is not None:
            await dispatch(self.deps, [WritebackFinished(
                account_id=result.account_id, session_id=result.session_id, ticket_id=result.ticket_id,
                outcome=result.outcome, message=result.message, thread_ref=session.thread_ref, surface=session.surface)])

    async def _attempt(self, wb: Writeback, connection: PsaConnection | None) -> WritebackResult:
        try:
            async with open_psa(self.deps, connection) as psa:
                return await self._deliver(wb, psa)
        except PsaVerificationError as exc:
            return await self._finish(wb, VERIFICATION_FAILED, f"{exc.message}. The note is posted; only the status did not change.")
        except PsaUnavailable as exc:
            if wb.attempts < self.deps.settings.writeback_max_attempts:
                return await self._hand_back(wb, exc.message)
            return await self._finish(wb, FAILED, f"ConnectWise stayed unreachable: {exc.message}")
        except DomainError as exc:  # permissions, missing ticket, not configured
            return await self._finish(wb, FAILED, exc.message)

    async def _deliver(self, wb: Writeback, psa: Psa) -> WritebackResult:
        if wb.external_note_id is None:
            note = await psa.find_note_by_marker(ticket_id=wb.ticket_id, marker=wb.marker)
            if note is None:
                note = await psa.post_note(ticket_id=wb.ticket_id, kind=NoteKind(wb.note_kind), text=wb.text, marker=wb.marker)
            async with self.deps.uow_factory() as uow:  # recorded at once: a later retry never re-posts
                row = await uow.writebacks.get(account_id=wb.account_id, writeback_id=wb.id or 0)
                assert row is not None
                row.external_note_id, row.note_posted_at = str(note.id), self.deps.clock.now()
                await uow.commit()
            wb.external_note_id = str(note.id)
        where = "resolution note" if wb.kind == WriteupKind.RESOLVE else "internal analysis note (not customer-visible)"
        parts = [f"Posted the {where} to ConnectWise ticket #{wb.ticket_id} (note {wb.external_note_id})."]
        actual = None
        if wb.target_status_id is None:
            parts.append(f"Status unchanged: no {STATUS_PREF[WriteupKind(wb.kind)]} is set for this account.")
        else:
            change = await psa.change_status(ticket_id=wb.ticket_id, status_id=wb.target_status_id)
            actual = change.actual_status_name
            parts.append(f"Ticket status is now '{actual}' (verified).")
        if wb.time_entry_minutes:
            entry = await psa.add_time_entry(ticket_id=wb.ticket_id, minutes=wb.time_entry_minutes,
                                             notes="Troubleshooting session (ResolutionFlow)", marker=wb.marker)
            parts.append(f"Logged {wb.time_entry_minutes} min of working time (entry {entry.id}).")
        return await self._finish(wb, DONE_OUTCOME[WriteupKind(wb.kind)], " ".join(parts), actual_status=actual)

    async def _finish(self, wb: Writeback, outcome: str, message: str, actual_status: str | None = None) -> WritebackResult:
        event = WritebackEvent.DELIVER if outcome in DONE_OUTCOME.values() else WritebackEvent.GIVE_UP
        # The lease holder finishes a running row; storage makes that conditional on running.
        status = next_writeback_status(WritebackStatus.RUNNING, event)
        async with self.deps.uow_factory() as uow:
            row = await uow.writebacks.get(account_id=wb.account_id, writeback_id=wb.id or 0)
            assert row is not None
            row.outcome, row.detail, row.actual_status = outcome, message, actual_status
            if not await uow.writebacks.finish(writeback_id=wb.id or 0, worker_id=self.worker_id, status=status,
                                               now=self.deps.clock.now()):
                return self._result(wb, None, "another worker finished this writeback")
            for writeup in await uow.writeups.list(account_id=wb.account_id, session_id=wb.session_id):
                if writeup.id == wb.writeup_id:
                    writeup.outcome, writeup.external_ref = outcome, row.external_note_id
            await uow.steps.add(Step(account_id=wb.account_id, session_id=wb.session_id, kind=StepKind.ACTION,
                                     text=message, created_at=self.deps.clock.now(),
                                     data={"writeback": wb.id, "outcome": outcome}))
            await uow.commit()
        (log.info if event is WritebackEvent.DELIVER else log.warning)("writeback %s: %s", wb.id, outcome)
        return self._result(wb, outcome, message)

    async def _hand_back(self, wb: Writeback, reason: str) -> WritebackResult:
        """Keep the lease, pushed out by a growing backoff: the row is claimable again once it
        runs out, so an outage is retried without hammering the PSA."""
        delay = min(300, 5 * 2 ** max(0, wb.attempts - 1))
        async with self.deps.uow_factory() as uow:
            row = await uow.writebacks.get(account_id=wb.account_id, writeback_id=wb.id or 0)
            if row is not None and row.lease_owner == self.worker_id:
                row.lease_until, row.detail = self.deps.clock.now() + timedelta(seconds=delay), reason
                await uow.commit()
        return self._result(wb, None, f"ConnectWise is unreachable ({reason}); trying again in {delay} s.", retrying=True)

    def _result(self, wb: Writeback, outcome: str | None, message: str, retrying: bool = False) -> WritebackResult:
        return WritebackResult(writeback_id=wb.id or 0, session_id=wb.session_id, account_id=wb.account_id,
                               ticket_id=wb.ticket_id, outcome=outcome, message=message, retrying=retrying)

    async def drain(self, max_items: int = 20) -> list[WritebackResult]:
        results = []
        for _ in range(max_items):
            result = await self.run_once()
            if result is None or result.retrying:
                if result is not None:
                    results.append(result)
                break
            results.append(result)
        return results

    async def retry(self, *, actor: Actor, session_id: int) -> Writeback:
        """A failed writeback goes back to the queue; the note it already posted is not posted again."""
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            require_worker(member)
            await load_session(uow, actor, session_id)
            failed = [w for w in await uow.writebacks.list(account_id=actor.account_id, session_id=session_id)
                      if writeback_allows(w.status, WritebackEvent.RETRY)]
            if not failed:
                raise NotFound("Nothing to retry: no writeback of this session has failed.", reason="writeback.nothing_to_retry",
                               params={"session_id": session_id})
            wb = failed[-1]
            wb.status = next_writeback_status(wb.status, WritebackEvent.RETRY)
            wb.lease_owner, wb.lease_until, wb.attempts, wb.finished_at = None, None, 0, None
            await uow.commit()
        return wb
