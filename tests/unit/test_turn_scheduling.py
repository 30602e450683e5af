"""The turn scheduler (R37): one batch per session at a time, in order; sessions concurrently up to
the bound, fair across accounts; later messages coalesce; a deadline and a cancel end a call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from core.access import Actor
from core.assistant.types import AssistantContext, AssistantTurn, ComposedText, ComposeRequest, FactSynthesisRequest, ReplyListener
from core.bus import InMemoryBus
from core.deps import Deps, EngineSettings, Notifiers
from core.engine import Engine
from core.events import ReplyProgress, TurnAnswered, TurnQueued
from core.models import StepKind, TurnStatus
from core.notify import QuietNotifier
from core.turns import Batch, TurnResult, TurnService
from tests.fakes.clock import FakeClock
from tests.fakes.memory_uow import MemoryStore, memory_uow_factory


@dataclass
class Call:
    context: AssistantContext
    release: asyncio.Event = field(default_factory=asyncio.Event)
    on_text: ReplyListener | None = None

    @property
    def messages(self) -> list[str]:
        return [h.text for h in self.context.history if h.role == "engineer"]


class GatedAssistant:
    """Every call waits until the test releases it: which calls run at once is then a fact the test
    reads, not a timing it hopes for."""

    enabled = True

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.started = asyncio.Condition()
        self.in_flight = 0
        self.peak = 0

    async def respond(self, context: AssistantContext, on_text: ReplyListener | None = None) -> AssistantTurn:
        call = Call(context=context, on_text=on_text)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        async with self.started:
            self.calls.append(call)
            self.started.notify_all()
        try:
            await call.release.wait()
        finally:
            self.in_flight -= 1
        return AssistantTurn(reply=f"answer to {' + '.join(call.messages[-3:])}")

    async def wait_calls(self, count: int) -> list[Call]:
        async with self.started:
            await asyncio.wait_for(self.started.wait_for(lambda: len(self.calls) >= count), timeout=5)
        return self.calls

    async def synthesize_fact(self, request: FactSynthesisRequest) -> str:
        return ""

    async def compose(self, request: ComposeRequest) -> ComposedText:
        raise NotImplementedError


@dataclass
class Heard(QuietNotifier):
    events: list[object] = field(default_factory=list)

    async def turn_queued(self, event: TurnQueued) -> None:
        self.events.append(event)

    async def reply_progress(self, event: ReplyProgress) -> None:
        self.events.append(event)

    async def turn_answered(self, event: TurnAnswered) -> None:
        self.events.append(event)

    def answered(self) -> list[TurnAnswered]:
        return [e for e in self.events if isinstance(e, TurnAnswered)]


@dataclass
class Desk:
    engine: Engine
    assistant: GatedAssistant
    heard: Heard
    stop: asyncio.Event
    store: MemoryStore

    async def engineer(self, name: str, account: str = "Acme") -> Actor:
        actor, _, _ = await self.engine.accounts.sign_in(account_name=account, platform="test",
                                                         external_id=f"{account}-{name}", name=name)
        return actor

    async def session(self, actor: Actor, problem: str) -> int:
        posted = await self.engine.sessions.start(actor=actor, problem=problem)
        return posted.session.id or 0

    async def until(self, predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.005)

    async def store_then_die(self, reply: str) -> tuple[Batch, TurnResult]:
        """A second worker claims the next batch and stores `reply` for it, then its process dies
        before delivering."""
        dead = TurnService(self.engine.deps)
        batch = await dead.claim()
        assert batch is not None
        return batch, await dead._store(batch, AssistantTurn(reply=reply))

    def expire_leases(self) -> None:
        """Move the clock past the turn lease: whoever holds a turn now counts as dead."""
        clock = self.engine.deps.clock
        assert isinstance(clock, FakeClock)
        clock.advance(seconds=self.engine.deps.settings.turn_lease_seconds + 1)


def make_desk(concurrency: int = 16, deadline: float = 150.0) -> Desk:
    store = MemoryStore()
    assistant = GatedAssistant()
    heard = Heard()
    deps = Deps(uow_factory=memory_uow_factory(store), bus=InMemoryBus(), assistant=assistant, clock=FakeClock(),
                notifiers=Notifiers([heard]),
                settings=EngineSettings(turn_concurrency=concurrency, turn_deadline_seconds=deadline))
    return Desk(engine=Engine(deps), assistant=assistant, heard=heard, stop=asyncio.Event(), store=store)


@pytest.fixture
async def desk() -> AsyncIterator[Desk]:
    d = make_desk()
    runner = asyncio.create_task(d.engine.turns.run_forever(d.stop, poll_seconds=0.05))
    yield d
    d.stop.set()
    for call in d.assistant.calls:
        call.release.set()
    await runner


async def test_sessions_run_at_once_and_messages_during_a_turn_coalesce_in_order(desk: Desk) -> None:
    dana = await desk.engineer("Dana")
    a = await desk.session(dana, "VPN drops")
    b = await desk.session(dana, "Printer offline")
    calls = await desk.assistant.wait_calls(2)  # both sessions' calls started before either finished
    assert {tuple(c.messages) for c in calls} == {("VPN drops",), ("Printer offline",)}
    for text in ("it drops hourly", "only on wifi"):
        await desk.engine.sessions.post_message(actor=dana, session_id=a, text=text)
    await asyncio.sleep(0.1)
    assert len(desk.assistant.calls) == 2  # session a is busy: its new messages wait
    first_a = next(c for c in calls if c.context.session_id == a)
    first_a.release.set()
    calls = await desk.assistant.wait_calls(3)
    assert calls[2].context.session_id == a
    assert calls[2].messages == ["VPN drops", "it drops hourly", "only on wifi"]  # one call sees both
    calls[2].release.set()
    next(c for c in calls if c.context.session_id == b).release.set()
    await desk.until(lambda: len(desk.heard.answered()) == 3)
    await asyncio.sleep(0.1)
    assert len(desk.assistant.calls) == 3  # nothing answered twice
    history = await desk.engine.sessions.history(actor=dana, session_id=a)
    kinds = [(s.kind, s.text) for s in history if s.kind != StepKind.ACTION]
    assert kinds == [(StepKind.ENGINEER_MESSAGE, "VPN drops"),  # as it happened: the reply came after both
                     (StepKind.ENGINEER_MESSAGE, "it drops hourly"), (StepKind.ENGINEER_MESSAGE, "only on wifi"),
                     (StepKind.ASSISTANT_REPLY, "answer to VPN drops"),
                     (StepKind.ASSISTANT_REPLY, "answer to VPN drops + it drops hourly + only on wifi")]
    queued = [e for e in desk.heard.events if isinstance(e, TurnQueued)]
    assert [e.session_id for e in queued] == [a, b, a, a]  # every message shows "working" at once


async def test_the_bound_holds_and_one_accounts_burst_does_not_starve_another() -> None:
    desk = make_desk(concurrency=2)
    acme = await desk.engineer("Dana", "Acme")
    globex = await desk.engineer("Olaf", "Globex")
    for n in range(5):
        await desk.session(acme, f"acme problem {n}")
    await desk.session(globex, "globex problem")  # arrives last
    runner = asyncio.create_task(desk.engine.turns.run_forever(desk.stop, poll_seconds=0.05))
    try:
        calls = await desk.assistant.wait_calls(2)
        await asyncio.sleep(0.1)
        assert len(desk.assistant.calls) == 2 and desk.assistant.peak == 2
        assert sorted(c.messages[0] for c in calls) == ["acme problem 0", "globex problem"]
        served = 2
        while served < 6:
            desk.assistant.calls[served - 2].release.set()
            served += 1
            await desk.assistant.wait_calls(min(served, 6))
        for call in desk.assistant.calls:
            call.release.set()
        await desk.until(lambda: len(desk.heard.answered()) == 6)
        assert desk.assistant.peak == 2
    finally:
        desk.stop.set()
        await runner


async def test_a_hung_call_meets_its_deadline_and_holds_only_its_session() -> None:
    desk = make_desk(deadline=0.3)
    dana = await desk.engineer("Dana")
    runner = asyncio.create_task(desk.engine.turns.run_forever(desk.stop, poll_seconds=0.05))
    try:
        hung = await desk.session(dana, "never answered")
        other = await desk.session(dana, "answered")
        calls = await desk.assistant.wait_calls(2)
        next(c for c in calls if c.context.session_id == other).release.set()
        await desk.until(lambda: len(desk.heard.answered()) == 2)
        by_session = {e.session_id: e for e in desk.heard.answered()}
        assert by_session[other].reply is not None
        assert by_session[hung].failure == "the assistant took too long"
        history = await desk.engine.sessions.history(actor=dana, session_id=hung)
        assert history[0].text == "never answered"  # R16: the message is kept, the user told
        assert "took too long" in history[-1].text
    finally:
        desk.stop.set()
        await runner


async def test_cancel_stops_the_call_keeps_the_messages_and_no_reply_comes_later(desk: Desk) -> None:
    dana = await desk.engineer("Dana")
    sid = await desk.session(dana, "slow one")
    [call] = await desk.assistant.wait_calls(1)
    account_id = dana.account_id
    assert await desk.engine.turns.cancel(account_id=account_id, session_id=sid)
    await desk.until(lambda: desk.assistant.in_flight == 0)
    [answered] = desk.heard.answered()
    assert answered.cancelled and answered.reply is None
    call.release.set()
    assert not await desk.engine.turns.cancel(account_id=account_id, session_id=sid)  # nothing left to cancel
    await desk.engine.sessions.post_message(actor=dana, session_id=sid, text="try again")
    calls = await desk.assistant.wait_calls(2)
    calls[1].release.set()
    await desk.until(lambda: len(desk.heard.answered()) == 2)
    history = await desk.engine.sessions.history(actor=dana, session_id=sid)
    texts = [s.text for s in history]
    assert texts[0] == "slow one" and "cancelled" in texts[1] and texts[2] == "try again"
    assert [s.kind for s in history].count(StepKind.ASSISTANT_REPLY) == 1
    async with desk.engine.deps.uow_factory() as uow:
        first = await uow.turns.get(account_id=account_id, turn_id=answered.reply_id)
        assert first is not None and first.status is TurnStatus.CANCELLED


async def test_progress_shows_the_newest_text_and_never_after_the_answer(desk: Desk) -> None:
    dana = await desk.engineer("Dana")
    sid = await desk.session(dana, "stream it")
    [call] = await desk.assistant.wait_calls(1)
    assert call.on_text is not None
    for n in range(1, 30):
        call.on_text("word " * n)
        await asyncio.sleep(0.02)
    call.release.set()
    await desk.until(lambda: len(desk.heard.answered()) == 1)
    await asyncio.sleep(0.5)
    kinds = [type(e).__name__ for e in desk.heard.events]
    assert kinds[0] == "TurnQueued" and kinds[-1] == "TurnAnswered"
    progress = [e for e in desk.heard.events if isinstance(e, ReplyProgress)]
    assert 1 <= len(progress) < 29  # paced, not one per token
    assert all(p.session_id == sid and p.reply_id == desk.heard.answered()[0].reply_id for p in progress)
    texts = [p.text for p in progress]
    assert texts == sorted(texts, key=len) and len(set(texts)) == len(texts)


async def test_a_worker_that_lost_its_lease_does_not_answer_and_the_taker_does() -> None:
    desk = make_desk()
    dana = await desk.engineer("Dana")
    sid = await desk.session(dana, "crashy")
    dead = desk.engine.turns
    batch = await dead.claim()
    assert batch is not None
    desk.expire_leases()  # the first worker died, its lease ran out
    taker = TurnService(desk.engine.deps)
    task = asyncio.create_task(taker.drain())
    [call] = await desk.assistant.wait_calls(1)
    call.release.set()
    [result] = await task
    assert result.reply is not None and not result.duplicate
    stale = await dead._store(batch, AssistantTurn(reply="late"))
    assert stale.duplicate
    history = await desk.engine.sessions.history(actor=dana, session_id=sid)
    assert [s.text for s in history if s.kind == StepKind.ASSISTANT_REPLY] == ["answer to crashy"]


async def test_a_reply_stored_by_a_worker_that_died_before_delivering_it_is_delivered_not_asked_again() -> None:
    desk = make_desk()
    dana = await desk.engineer("Dana")
    sid = await desk.session(dana, "died after the commit")
    batch, stored = await desk.store_then_die("stored, never posted")
    assert stored.reply is not None and not stored.duplicate
    assert not desk.heard.answered()
    desk.expire_leases()
    [result] = await TurnService(desk.engine.deps).drain()
    assert result.reply is not None and result.reply.id == stored.reply.id
    assert desk.assistant.calls == []  # not asked again
    [answered] = desk.heard.answered()
    assert answered.reply == "stored, never posted" and answered.session_id == sid
    assert answered.redelivery  # the dead worker may have shown it: surfaces check their record
    async with desk.engine.deps.uow_factory() as uow:
        turn = await uow.turns.get(account_id=dana.account_id, turn_id=batch.first.id or 0)
        assert turn is not None and turn.status is TurnStatus.DONE
    assert await TurnService(desk.engine.deps).drain() == []


async def test_a_stored_reply_closes_only_the_turns_it_answers_and_newer_messages_get_their_own() -> None:
    desk = make_desk()
    dana = await desk.engineer("Dana")
    sid = await desk.session(dana, "first")
    await desk.store_then_die("answer to first")
    await desk.engine.sessions.post_message(actor=dana, session_id=sid, text="second")
    desk.expire_leases()
    taker = TurnService(desk.engine.deps)
    task = asyncio.create_task(taker.drain())
    [call] = await desk.assistant.wait_calls(1)
    assert call.messages[-1] == "second"
    call.release.set()
    results = await task
    assert [r.reply.text for r in results if r.reply] == ["answer to first", "answer to first + second"]
