"""The assistant's turns, run from the durable queue (R16, R33, R37).

The engineer's message and its pending turn were committed together. A scheduler claims a session's
open turns as one batch with a renewed lease (core/turn_context.py builds what the batch carries),
asks the assistant outside any transaction, stores the reply under a conditional lease renewal, hands
it to the surfaces, and only then closes the turns: a worker that dies in between leaves the stored
reply to the one that takes over, which delivers it without asking again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta

from core.assistant.types import (
    AssistantTurn,
    AssistantUnavailable,
)
from core.deps import Deps
from core.events import ReplyProgress, TurnAnswered
from core.fixes import store_outcome_proposal, suggest_from_assistant
from core.lane import merge_proposals
from core.log_context import bind
from core.machines import session_accepts_changes
from core.models import (
    Fix,
    Step,
    StepKind,
    TaskItem,
    TurnStatus,
)
from core.notify import dispatch, notify_progress
from core.proposals import propose_facts
from core.turn_context import Batch, claim_batch
from core.turn_progress import ProgressPump

log = logging.getLogger("rflow.turns")
MAX_ATTEMPTS = 3  # claims of one turn before an unexpected error fails it for good


@dataclass(frozen=True, kw_only=True)
class TurnResult:
    """One assistant call's outcome; `turn_ids` are the engineer messages it answered (R37)."""

    turn_id: int
    session_id: int
    account_id: int
    turn_ids: tuple[int, ...] = ()
    reply: Step | None = None
    failure: str | None = None
    new_items: list[TaskItem] = field(default_factory=list)
    new_fix: Fix | None = None
    outcome_proposed: str | None = None
    duplicate: bool = False
    cancelled: bool = False


def _blank_result(batch: Batch) -> TurnResult:
    """The batch's ids and nothing else yet; each outcome fills in its part with `replace`."""
    turn = batch.first
    return TurnResult(turn_id=turn.id or 0, session_id=turn.session_id, account_id=turn.account_id, turn_ids=batch.ids)


class TurnService:
    """Runs the turn queue (R37): a session's turns one batch at a time, in arrival order; up to
    `turn_concurrency` sessions at once, the next slot going to the account with the fewest turns
    running here (so one account's burst cannot starve another); every call under a deadline."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.worker_id = f"w-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._running: dict[int, asyncio.Task[TurnResult]] = {}  # by session id
        self._per_account: Counter[int] = Counter()
        self._cancelled: set[int] = set()  # sessions whose running call the engineer stopped
        self._claims = itertools.count(1)
        self._delivering: set[int] = set()  # sessions whose reply is being handed to the surfaces

    def kick(self) -> None:
        """A new turn was committed: let a sleeping scheduler look now."""
        self._wake.set()

    @property
    def running(self) -> int:
        return len(self._running)

    async def claim(self) -> Batch | None:
        """The next batch, fairly: accounts with an idle waiting session, fewest running here first,
        then longest waiting. Claimed with its context in one transaction."""
        now = self.deps.clock.now()
        lease_until = now + timedelta(seconds=self.deps.settings.turn_lease_seconds)
        async with self.deps.uow_factory() as uow:
            waiting = await uow.turns.waiting_accounts(now=now)
            for account_id in sorted(waiting, key=lambda a: self._per_account[a]):  # stable: oldest first on ties
                owner = f"{self.worker_id}:{next(self._claims)}"
                turns = await uow.turns.claim_session(account_id=account_id, worker_id=owner, now=now,
                                                      lease_until=lease_until)
                if turns:
                    batch = await claim_batch(uow, self.deps, turns, owner)
                    await uow.commit()
                    return batch
        return None

    async def run_once(self) -> TurnResult | None:
        """Claim one batch and answer it here (tests and replays; the scheduler runs many)."""
        batch = await self.claim()
        return None if batch is None else await self.answer(batch)

    async def answer(self, batch: Batch) -> TurnResult:
        """Ask the assistant outside any transaction, with the lease renewed and progress shown;
        store the answer; then tell the surfaces."""
        with bind(session_id=batch.first.session_id, account_id=batch.first.account_id):
            renewal = asyncio.create_task(self._renew(batch))  # until the turns close: delivery is slow too
            try:
                return await self._answer(batch)
            finally:
                renewal.cancel()

    async def _answer(self, batch: Batch) -> TurnResult:
        try:
            if batch.stored_reply is not None:  # its worker died after storing it: deliver it, don't ask again
                result = replace(_blank_result(batch), reply=batch.stored_reply)
            else:
                result = await self._run(batch)
        except asyncio.CancelledError:
            if batch.first.session_id in self._cancelled:
                return replace(_blank_result(batch), cancelled=True)
            await self._hand_back(batch)  # shutting down: another worker takes it at once
            raise
        except Exception:  # a bug or a database outage: retried a few times, then R16
            log.exception("turns %s failed unexpectedly", batch.ids)
            if batch.first.attempts < MAX_ATTEMPTS:
                await self._hand_back(batch)
                return replace(_blank_result(batch), duplicate=True)
            result = await self._fail(batch, "an internal error")
        self._delivering.add(batch.first.session_id)  # from here on a shutdown waits for it (no half delivery)
        if not result.duplicate:
            await dispatch(self.deps, [TurnAnswered(
                account_id=result.account_id, session_id=result.session_id,
                reply=result.reply.text if result.reply else None, failure=result.failure,
                thread_ref=batch.session.thread_ref, surface=batch.session.surface,
                reply_id=result.turn_id, author_id=batch.author_id, redelivery=batch.stored_reply is not None)])
        if result.reply is not None and not result.duplicate:
            await self._delivered(batch)
        return result

    async def _delivered(self, batch: Batch) -> None:
        """The reply was handed to the surfaces: only now are the turns done. A worker that dies
        before this leaves them to be taken over, and the taker delivers the stored reply."""
        try:
            async with self.deps.uow_factory() as uow:
                if await uow.turns.finish_batch(turn_ids=batch.ids, worker_id=batch.owner, status=TurnStatus.DONE,
                                                now=self.deps.clock.now()):
                    await uow.commit()
        except Exception:
            log.exception("could not close turns %s; their lease runs out and the reply is delivered again",
                          batch.ids)

    async def _run(self, batch: Batch) -> TurnResult:
        pump = ProgressPump(lambda text: self._progress(batch, text))
        try:
            async with asyncio.timeout(self.deps.settings.turn_deadline_seconds):
                answer = await self.deps.assistant.respond(batch.context, on_text=pump.listen)
        except AssistantUnavailable as exc:
            log.warning("assistant unavailable for turns %s: %s", batch.ids, exc.reason)
            return await self._fail(batch, exc.reason)
        except TimeoutError:
            log.warning("assistant took longer than %ss for turns %s", self.deps.settings.turn_deadline_seconds, batch.ids)
            return await self._fail(batch, "the assistant took too long")
        finally:
            await pump.close()
        return await self._store(batch, answer)

    async def _progress(self, batch: Batch, text: str) -> None:
        await notify_progress(self.deps, ReplyProgress(
            account_id=batch.first.account_id, session_id=batch.first.session_id, reply_id=batch.first.id or 0,
            author_id=batch.author_id or 0, text=text, thread_ref=batch.session.thread_ref,
            surface=batch.session.surface))

    async def _renew(self, batch: Batch) -> None:
        """Keep the lease while the call runs, so only a dead worker's batch is taken over."""
        every = max(self.deps.settings.turn_lease_seconds / 3, 0.05)
        while True:
            await asyncio.sleep(every)
            until = self.deps.clock.now() + timedelta(seconds=self.deps.settings.turn_lease_seconds)
            try:
                async with self.deps.uow_factory() as uow:
                    kept = await uow.turns.renew(turn_ids=batch.ids, worker_id=batch.owner, lease_until=until)
                    await uow.commit()
            except Exception:
                log.exception("renewing the lease of turns %s failed; trying again", batch.ids)
                continue
            if not kept:
                log.info("turns %s are no longer this worker's; their answer will not be stored here", batch.ids)
                return

    async def _hand_back(self, batch: Batch) -> None:
        try:
            async with self.deps.uow_factory() as uow:
                if await uow.turns.finish_batch(turn_ids=batch.ids, worker_id=batch.owner,
                                                status=TurnStatus.PENDING, now=self.deps.clock.now()):
                    await uow.commit()
        except Exception:
            log.exception("could not hand turns %s back; their lease runs out instead", batch.ids)

    async def _fail(self, batch: Batch, reason: str) -> TurnResult:
        base = _blank_result(batch)
        turn = batch.first
        async with self.deps.uow_factory() as uow:
            if not await uow.turns.finish_batch(turn_ids=batch.ids, worker_id=batch.owner, status=TurnStatus.FAILED,
                                                now=self.deps.clock.now(), error=reason):
                return replace(base, duplicate=True)
            await uow.steps.add(Step(account_id=turn.account_id, session_id=turn.session_id, kind=StepKind.ACTION,
                                     text=f"The assistant could not answer ({reason}); the message is kept.",
                                     created_at=self.deps.clock.now(), data={"assistant_failure": reason}))
            await uow.commit()
        return replace(base, failure=reason)

    async def _store(self, batch: Batch, answer: AssistantTurn) -> TurnResult:
        base = _blank_result(batch)
        turn = batch.first
        now = self.deps.clock.now()
        async with self.deps.uow_factory() as uow:
            # Still ours? The conditional renewal is the guard (it holds the rows until commit); the
            # turns are closed only once the reply is delivered (_delivered).
            until = now + timedelta(seconds=self.deps.settings.turn_lease_seconds)
            if not await uow.turns.renew(turn_ids=batch.ids, worker_id=batch.owner, lease_until=until):
                log.info("turns %s were answered by another worker or cancelled", batch.ids)
                return replace(base, duplicate=True)
            session = await uow.sessions.get(account_id=turn.account_id, session_id=turn.session_id)
            assert session is not None
            reply = await uow.steps.add(Step(account_id=turn.account_id, session_id=turn.session_id,
                                             kind=StepKind.ASSISTANT_REPLY, text=answer.reply, created_at=now,
                                             data={"answers": list(batch.ids),
                                                   **({"dropped": list(answer.dropped)} if answer.dropped else {})}))
            result = replace(base, reply=reply)
            if session_accepts_changes(session.status):  # closed sessions only hear the reply
                result = replace(
                    result,
                    new_items=[*await merge_proposals(uow, session=session, questions=answer.questions,
                                                      checks=answer.checks, now=now),
                               *await propose_facts(uow, session=session, promotions=answer.facts, now=now)],
                    # The outcome first: it belongs to the fix the engineer applied, never to one suggested now.
                    outcome_proposed=answer.outcome.outcome if answer.outcome and await store_outcome_proposal(
                        uow, session=session, proposal=answer.outcome) else None,
                )
                if answer.fix:
                    result = replace(result, new_fix=await suggest_from_assistant(uow, session=session,
                                                                                  suggestion=answer.fix, now=now))
            session.updated_at = now
            await uow.commit()
        return result

    async def cancel(self, *, account_id: int, session_id: int) -> bool:
        """The engineer stops the session's turn: its open turns end as cancelled, the messages stay,
        the call here is stopped and no reply comes later (a worker elsewhere loses its finish)."""
        now = self.deps.clock.now()
        async with self.deps.uow_factory() as uow:
            session = await uow.sessions.get(account_id=account_id, session_id=session_id)
            ids = await uow.turns.cancel_open(account_id=account_id, session_id=session_id, now=now) if session else []
            if not ids or session is None:
                return False
            await uow.steps.add(Step(account_id=account_id, session_id=session_id, kind=StepKind.ACTION,
                                     text="The assistant's turn was cancelled; the messages are kept.",
                                     created_at=now, data={"turn_cancelled": ids}))
            await uow.commit()
        task = self._running.get(session_id)
        if task is not None:
            self._cancelled.add(session_id)
            task.cancel()
        await dispatch(self.deps, [TurnAnswered(
            account_id=account_id, session_id=session_id, reply=None, failure="cancelled",
            thread_ref=session.thread_ref, surface=session.surface, reply_id=ids[0], cancelled=True)])
        return True

    # Scheduling ---------------------------------------------------------------------------------

    async def fill(self) -> int:
        """Start batches while there is room; how many were started."""
        started = 0
        while len(self._running) < self.deps.settings.turn_concurrency:
            batch = await self.claim()
            if batch is None:
                break
            self._start(batch)
            started += 1
        return started

    def _start(self, batch: Batch) -> None:
        session_id, account_id = batch.first.session_id, batch.first.account_id
        task = asyncio.create_task(self.answer(batch), name=f"turn-{session_id}")
        self._running[session_id] = task
        self._per_account[account_id] += 1

        def done(finished: asyncio.Task[TurnResult]) -> None:
            if not finished.cancelled() and finished.exception() is not None:  # its lease runs out; retried then
                log.error("turns of session %s ended in an error", session_id, exc_info=finished.exception())
            if self._running.get(session_id) is finished:
                self._running.pop(session_id)
                self._delivering.discard(session_id)
            self._cancelled.discard(session_id)
            self._per_account[account_id] -= 1
            self._wake.set()  # a slot is free, and the session may have more waiting

        task.add_done_callback(done)

    async def drain(self, max_turns: int = 100) -> list[TurnResult]:
        """Run batches concurrently until nothing is claimable and nothing runs (tests, the
        console, replays); at most `max_turns` batches."""
        results: list[TurnResult] = []
        while len(results) < max_turns:
            room = min(self.deps.settings.turn_concurrency, max_turns - len(results)) - len(self._running)
            for _ in range(max(room, 0)):
                batch = await self.claim()
                if batch is None:
                    break
                self._start(batch)
            if not self._running:
                break
            finished, _ = await asyncio.wait(list(self._running.values()), return_when=asyncio.FIRST_COMPLETED)
            results += [t.result() for t in finished if not t.cancelled() and t.exception() is None]
            await asyncio.sleep(0)  # let the done-callbacks run
        return results

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 0.5) -> None:
        """The server's scheduler: fill free slots, sleep until woken (new turn, finished turn) or
        the poll interval; on stop, running calls are handed back for another worker."""
        try:
            while not stop.is_set():
                self._wake.clear()  # before looking: a wake during fill() is then not lost
                try:
                    await self.fill()
                except Exception:
                    log.exception("turn scheduler error; continuing")
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=poll_seconds)
                except TimeoutError:
                    pass
        finally:  # calls still thinking are handed back; replies being delivered finish first
            tasks = list(self._running.items())
            for session_id, task in tasks:
                if session_id not in self._delivering:
                    task.cancel()
            await asyncio.gather(*(task for _, task in tasks), return_exceptions=True)
