"""Writeback to the PSA through an outbox (R17, R19, R20, R39, R40).

Resolve/Escalate record a Writeback in the same transaction as the session change. A worker claims
it (`FOR UPDATE SKIP LOCKED` on PostgreSQL), keeps its lease renewed while it works, and delivers it
in three steps, each done once and retried alone (core/writeback_steps.py): the note, the time entry
as the engineer, then the board's status, verified. The outcome lands on the writeup and in the
session's history, so every surface can say what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from core.access import Actor, load_member, load_session, require_worker
from core.deps import Deps
from core.errors import DomainError, NotFound
from core.events import WritebackFinished
from core.log_context import bind
from core.machines import WritebackEvent, next_writeback_status, writeback_allows
from core.models import (
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
from core.ports.psa import Psa
from core.psa import NoteKind, PsaUnavailable, PsaVerificationError
from core.psa_link import open_psa, psa_name
from core.writeback_steps import Delivery, LeaseLost, TimeEntryFailed, time_entry_start

log = logging.getLogger("rflow.writeback")

NOTE_KIND = {WriteupKind.RESOLVE: NoteKind.RESOLUTION, WriteupKind.ESCALATE: NoteKind.INTERNAL_ANALYSIS}
DONE_OUTCOME = {WriteupKind.RESOLVE: "resolved", WriteupKind.ESCALATE: "escalated"}
VERIFICATION_FAILED = "status_not_verified"
TIME_FAILED = "time_entry_failed"
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


def note_text(writeup: Writeup) -> str:
    """What the ticket gets: the engineer's resolution summary leads the note (R17) unless the
    note already says it; nothing of ours (no marker, no id) is added."""
    if writeup.kind != WriteupKind.RESOLVE or not writeup.summary or writeup.summary.strip() in writeup.markdown:
        return writeup.markdown
    return f"Resolution: {writeup.summary.strip()}\n\n{writeup.markdown}"


async def enqueue(uow: UnitOfWork, deps: Deps, *, session: Session, writeup: Writeup, member: Member,
                  ticket_id: int, time_entry_minutes: int | None = None) -> Writeback:
    """Called inside the resolve/escalate transaction: the outbox row commits with the change.
    The time entry's start is fixed now, so every retry asks for the very same entry."""
    assert writeup.id is not None
    now = deps.clock.now()
    return await uow.writebacks.add(Writeback(
        account_id=session.account_id, session_id=session.id or 0, writeup_id=writeup.id, kind=writeup.kind,
        ticket_id=ticket_id, note_kind=NOTE_KIND[WriteupKind(writeup.kind)].value, text=note_text(writeup),
        idempotency_key=f"{writeup.kind}:{session.id}:{writeup.id}", created_at=now, created_by=member.id or 0,
        time_entry_minutes=time_entry_minutes,
        time_started_at=time_entry_start(now, time_entry_minutes) if time_entry_minutes else None))


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
            async with self._lease_kept(wb) as lease:
                result = await self._attempt(wb, connection)
            if lease.lost and result.outcome is None and not result.retrying:
                log.warning("writeback %s: lease lost to another worker", wb.id)
            if result.outcome is not None:
                await self._announce(result)
            return result

    @contextlib.asynccontextmanager
    async def _lease_kept(self, wb: Writeback) -> AsyncIterator[_Lease]:
        """Renew the lease at a third of its length while the delivery runs, so a slow PSA never
        lets a second worker take a writeback that is still being delivered (R39)."""
        lease = _Lease()
        seconds = self.deps.settings.writeback_lease_seconds

        async def renew() -> None:
            while True:
                await asyncio.sleep(seconds / 3)
                async with self.deps.uow_factory() as uow:
                    kept = await uow.writebacks.renew_lease(
                        entity_id=wb.id or 0, worker_id=self.worker_id,
                        lease_until=self.deps.clock.now() + timedelta(seconds=seconds))
                    await uow.commit()
                if not kept:
                    lease.lost = True
                    return

        task = asyncio.create_task(renew())
        try:
            yield lease
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _announce(self, result: WritebackResult) -> None:
        async with self.deps.uow_factory() as uow:
            session = await uow.sessions.get(account_id=result.account_id, session_id=result.session_id)
        if session is not None:
            await dispatch(self.deps, [WritebackFinished(
                account_id=result.account_id, session_id=result.session_id, ticket_id=result.ticket_id,
                outcome=result.outcome, message=result.message, thread_ref=session.thread_ref, surface=session.surface)])

    async def _attempt(self, wb: Writeback, connection: PsaConnection | None) -> WritebackResult:
        delivery: Delivery | None = None
        try:
            async with open_psa(self.deps, connection) as psa:
                delivery = self._delivery(wb, psa)
                report = await delivery.run()
            return await self._finish(wb, DONE_OUTCOME[WriteupKind(wb.kind)], " ".join(report.parts),
                                      actual_status=report.actual_status)
        except LeaseLost:
            return self._result(wb, None, "another worker took this writeback over")
        except TimeEntryFailed as exc:
            done = " ".join(delivery.report.parts) if delivery else ""
            return await self._finish(wb, TIME_FAILED, f"{done} The time entry was refused: {exc.message} "
                                      "The ticket status was left as it was, so the time can still be logged; "
                                      "a retry logs the time, then changes the status.".strip())
        except PsaVerificationError as exc:
            return await self._finish(wb, VERIFICATION_FAILED, f"{exc.message}. The note is posted; only the status did not change.")
        except PsaUnavailable as exc:
            if wb.attempts < self.deps.settings.writeback_max_attempts:
                return await self._hand_back(wb, exc.message)
            return await self._finish(wb, FAILED, f"{psa_name(self.deps)} stayed unreachable: {exc.message}")
        except DomainError as exc:  # permissions, missing ticket, not configured, status gone from the board
            done = " ".join(delivery.report.parts) if delivery else ""
            return await self._finish(wb, FAILED, f"{done} {exc.message}".strip())

    def _delivery(self, wb: Writeback, psa: Psa) -> Delivery:
        return Delivery(self.deps, wb, psa, worker_id=self.worker_id, psa_name=psa_name(self.deps))

    async def _finish(self, wb: Writeback, outcome: str, message: str, actual_status: str | None = None) -> WritebackResult:
        event = WritebackEvent.DELIVER if outcome in DONE_OUTCOME.values() else WritebackEvent.GIVE_UP
        # The lease holder finishes a running row; storage makes that conditional on running.
        status = next_writeback_status(WritebackStatus.RUNNING, event)
        async with self.deps.uow_factory() as uow:
            row = await uow.writebacks.get(account_id=wb.account_id, writeback_id=wb.id or 0)
            assert row is not None
            row.outcome, row.detail = outcome, message
            row.actual_status = actual_status or row.actual_status
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
        return self._result(wb, None, f"{psa_name(self.deps)} is unreachable ({reason}); trying again in {delay} s.",
                            retrying=True)

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
        """A failed writeback goes back to the queue. Steps already done are not done again (the
        note, a logged time entry); the failed step runs with the configuration as it is now."""
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
            if wb.time_outcome == "failed":
                wb.time_outcome = None
            await uow.commit()
        return wb


class _Lease:
    lost = False
