"""Pickup-to-first-action (R26): how fast a claimed escalation sees its first step. Not time saved."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.access import Actor, load_member, require_worker
from core.deps import Deps
from core.errors import InvalidInput
from core.ports import UnitOfWork

PERIODS = {7: "7d", 30: "30d", 90: "90d"}
BAD_PERIOD = "metric.period_unknown"  # a refusal code (core.errors)
DEFINITION = (
    "Pickup-to-first-action: seconds from an escalation being picked up to the first step after it "
    "in that session; claimed handoffs only. It measures responsiveness, not time saved."
)


@dataclass(frozen=True, kw_only=True)
class PickupMetric:
    days: int
    n_claimed: int
    n_with_action: int
    average_s: float | None
    median_s: float | None
    p95_s: float | None
    definition: str = DEFINITION


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile: an observed value, stable for small n."""
    ordered = sorted(values)
    rank = max(1, -(-95 * len(ordered) // 100))
    return ordered[rank - 1]


def summarize(days: int, n_claimed: int, deltas: list[float]) -> PickupMetric:
    return PickupMetric(
        days=days, n_claimed=n_claimed, n_with_action=len(deltas),
        average_s=statistics.fmean(deltas) if deltas else None,
        median_s=statistics.median(deltas) if deltas else None,
        p95_s=p95(deltas) if deltas else None,
    )


def parse_period(text: str | None) -> int:
    text = ((text or "").strip() or "7d").lower().removesuffix("d")
    if not (text.isascii() and text.isdigit()) or int(text) not in PERIODS:  # "²".isdigit() is True
        raise InvalidInput("The period is 7d, 30d or 90d.", reason=BAD_PERIOD, params={"periods": sorted(PERIODS)})
    return int(text)


class MetricService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def pickup(self, *, actor: Actor, days: int = 7) -> PickupMetric:
        [metric] = await self.pickups(actor=actor, periods=(days,))
        return metric

    async def pickups(self, *, actor: Actor, periods: Sequence[int] = tuple(PERIODS)) -> list[PickupMetric]:
        """Several periods from one read of the longest: App Home and the stats card show all three."""
        for days in periods:
            if days not in PERIODS:
                raise InvalidInput("The period is 7d, 30d or 90d.", reason=BAD_PERIOD, params={"periods": sorted(PERIODS)})
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            require_worker(member)
            return await read_metrics(uow, account_id=actor.account_id, now=self.deps.clock.now(), periods=periods)


async def read_metrics(uow: UnitOfWork, *, account_id: int, now: datetime, periods: Sequence[int]) -> list[PickupMetric]:
    """One read, whatever the number of claims (the caller has checked the role)."""
    if not periods:
        return []
    responses = await uow.handoffs.pickup_responses(account_id=account_id, since=now - timedelta(days=max(periods)))
    metrics = []
    for days in periods:
        since = now - timedelta(days=days)
        claimed = [(at, first) for at, first in responses if at >= since]
        deltas = [max(0.0, (first - at).total_seconds()) for at, first in claimed if first is not None]
        metrics.append(summarize(days, len(claimed), deltas))
    return metrics
