"""Issue 11's read models: the escalation queue, the pickup metric (R26) and App Home read with a
fixed number of statements whatever the account's size, and still read exactly what they did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from core.bus import InMemoryBus
from core.deps import Deps
from core.engine import Engine
from core.metric import PERIODS, PickupMetric, summarize
from core.models import SessionStatus
from core.ports import UnitOfWorkFactory
from tests.fakes.clock import FakeClock
from tests.storage.crowd import Crowd, StatementCounter, seed_crowd

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OPEN = [SessionStatus.ACTIVE, SessionStatus.PARKED, SessionStatus.ESCALATED]
SIZES = (5, 50)  # sessions, every one of them escalated: half still await pickup


def expected_metrics(crowd: Crowd) -> list[PickupMetric]:
    metrics = []
    for days in sorted(PERIODS):
        since = NOW - timedelta(days=days)
        window = [s for at, s in zip(crowd.claimed_at, crowd.responses_s, strict=True) if at >= since]
        metrics.append(summarize(days, len(window), [s for s in window if s is not None]))
    return metrics


async def _check_reads(engine: Engine, crowd: Crowd, size: int) -> None:
    queue = await engine.handoffs.queue(actor=crowd.engineer)
    assert [e.handoff.id for e in queue] == list(crowd.awaiting)
    assert all(e.session.id == e.handoff.session_id and e.session.status == SessionStatus.ESCALATED for e in queue)
    assert {e.escalated_by.name if e.escalated_by else None for e in queue} == {f"Dana of Crowd {size}"}
    expected = expected_metrics(crowd)
    assert await engine.metric.pickups(actor=crowd.senior) == expected
    assert [await engine.metric.pickup(actor=crowd.senior, days=d) for d in sorted(PERIODS)] == expected
    home = await engine.home.read(actor=crowd.engineer, statuses=OPEN)
    assert [e.handoff.id for e in home.queue] == list(crowd.awaiting) and home.metrics == expected
    mine = await engine.sessions.list(actor=crowd.engineer, statuses=OPEN, mine=True)
    assert [s.id for s in home.sessions] == [s.id for s in mine] and len(mine) > size // 2
    assert all(s.account_id == crowd.account and s.status in OPEN for s in home.sessions)
    viewer = await engine.home.read(actor=crowd.viewer, statuses=OPEN)
    assert viewer.metrics is None and viewer.sessions == [] and len(viewer.queue) == len(queue)


async def test_queue_metric_and_home_read_in_a_fixed_number_of_statements(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine | None
) -> None:
    """5 or 50 escalations: the same statements. On the memory fake, the same answers."""
    core = Engine(Deps(uow_factory=uow_factory, bus=InMemoryBus(), clock=FakeClock(NOW)))
    counter = StatementCounter(engine) if engine is not None else None
    counts = {}
    for size in SIZES:
        crowd = await seed_crowd(uow_factory, now=NOW, sessions=size, handoffs=size, name=f"Crowd {size}")
        assert len(crowd.awaiting) == (size + 1) // 2 and len(crowd.claimed_at) == size // 2
        await _check_reads(core, crowd, size)
        if counter is None:
            continue
        with counter.counting() as queue:
            await core.handoffs.queue(actor=crowd.engineer)
        with counter.counting() as metric:
            await core.metric.pickups(actor=crowd.senior)
        with counter.counting() as home:
            await core.home.read(actor=crowd.engineer, statuses=OPEN)
        counts[size] = (len(queue), len(metric), len(home))
    if counter is not None:
        assert counts[SIZES[0]] == counts[SIZES[1]], counts
        assert counts[SIZES[0]] == (2, 2, 4), counts  # the member, then one read per part
