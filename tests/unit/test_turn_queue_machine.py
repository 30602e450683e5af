"""The turn queue as a state machine (R37), driven by hypothesis over the in-memory store: any mix of
messages, claims by several workers, answers, crashes (expired leases) and cancels keeps every
session to one running batch, batches in arrival order, and every message answered at most once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from core.models import Account, Member, PendingTurn, Role, Session, SessionStatus, Step, StepKind, TurnStatus
from tests.fakes.memory_uow import MemoryStore, memory_uow_factory
from tests.storage.scenario import T0

WORKERS = ("w1", "w2", "w3")
LEASE = 30


class TurnQueue(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.uow_factory = memory_uow_factory(MemoryStore())
        self.now = 0.0
        self.held: dict[str, list[list[int]]] = {w: [] for w in WORKERS}  # batches a worker believes it holds
        self.answered: list[int] = []
        self.batches: dict[int, list[list[int]]] = {}  # per session, the batches finished, in order
        self.sessions, self.account = self.run(self._seed())

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.loop.close()

    def at(self) -> object:
        return T0 + timedelta(seconds=self.now)

    async def _seed(self) -> tuple[list[int], int]:
        async with self.uow_factory() as uow:
            account = await uow.accounts.add(Account(name="Acme", created_at=T0))
            member = await uow.members.add(Member(account_id=account.id or 0, name="Dana", role=Role.ENGINEER, created_at=T0))
            ids = []
            for n in range(3):
                s = await uow.sessions.add(Session(account_id=account.id or 0, title=f"s{n}", status=SessionStatus.ACTIVE,
                                                   created_by=member.id or 0, handler_id=member.id or 0, created_at=T0,
                                                   updated_at=T0))
                ids.append(s.id or 0)
            await uow.commit()
        self.member = member.id or 0
        return ids, account.id or 0

    @rule(session=st.integers(0, 2))
    def message(self, session: int) -> None:
        async def go() -> None:
            async with self.uow_factory() as uow:
                sid = self.sessions[session]
                step = await uow.steps.add(Step(account_id=self.account, session_id=sid, kind=StepKind.ENGINEER_MESSAGE,
                                                text="m", created_at=self.at(), author_id=self.member))  # type: ignore[arg-type]
                await uow.turns.add(PendingTurn(account_id=self.account, session_id=sid, step_id=step.id or 0,
                                                created_at=self.at()))  # type: ignore[arg-type]
                await uow.commit()
        self.run(go())

    @rule(worker=st.sampled_from(WORKERS))
    def claim(self, worker: str) -> None:
        async def go() -> None:
            async with self.uow_factory() as uow:
                batch = await uow.turns.claim_session(account_id=self.account, worker_id=worker, now=self.at(),  # type: ignore[arg-type]
                                                      lease_until=self.at() + timedelta(seconds=LEASE))  # type: ignore[operator]
                await uow.commit()
            if batch:
                self.held[worker].append([t.id or 0 for t in batch])
        self.run(go())

    @rule(worker=st.sampled_from(WORKERS))
    def answer(self, worker: str) -> None:
        if not self.held[worker]:
            return
        ids = self.held[worker].pop(0)

        async def go() -> None:
            async with self.uow_factory() as uow:
                if await uow.turns.finish_batch(turn_ids=ids, worker_id=worker, status=TurnStatus.DONE, now=self.at()):  # type: ignore[arg-type]
                    first = await uow.turns.get(account_id=self.account, turn_id=ids[0])
                    assert first is not None
                    await uow.commit()
                    self.answered += ids
                    self.batches.setdefault(first.session_id, []).append(ids)
        self.run(go())

    @rule(seconds=st.sampled_from([1, 10, LEASE + 1]))
    def time_passes(self, seconds: int) -> None:
        self.now += seconds

    @rule(session=st.integers(0, 2))
    def cancel(self, session: int) -> None:
        async def go() -> None:
            async with self.uow_factory() as uow:
                await uow.turns.cancel_open(account_id=self.account, session_id=self.sessions[session], now=self.at())  # type: ignore[arg-type]
                await uow.commit()
        self.run(go())

    @invariant()
    def one_live_batch_per_session_and_each_answer_once(self) -> None:
        async def rows() -> list[PendingTurn]:
            async with self.uow_factory() as uow:
                return [t for t in [await uow.turns.get(account_id=self.account, turn_id=i) for i in range(1, 400)] if t]
        turns = self.run(rows())
        live = {}
        for t in turns:
            if t.status is TurnStatus.RUNNING and t.lease_until is not None and t.lease_until >= self.at():  # type: ignore[operator]
                live.setdefault(t.session_id, set()).add(t.lease_owner)
        assert all(len(owners) == 1 for owners in live.values())
        assert len(self.answered) == len(set(self.answered))
        for batches in self.batches.values():
            flat = [i for b in batches for i in b]
            assert flat == sorted(flat)  # a session's batches finish in arrival order


TestTurnQueue = TurnQueue.TestCase
TestTurnQueue.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
