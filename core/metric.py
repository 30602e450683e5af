"""Pickup-to-first-action (R26): how fast a claimed escalation sees its first step. Not time saved."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import timedelta

from core.access import Actor, load_member, require_worker
from core.deps import Deps
from core.errors import InvalidInput

PERIODS = {7: "7d", 30: "30d", 90: "90d"}
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
        raise InvalidInput("The period is 7d, 30d or 90d.")
    return int(text)


class MetricService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def pickup(self, *, actor: Actor, days: int = 7) -> PickupMetric:
        if days not in PERIODS:
            raise InvalidInput("The period is 7d, 30d or 90d.")
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            require_worker(member)
            since = self.deps.clock.now() - timedelta(days=days)
            handoffs = await uow.handoffs.list_claimed_since(account_id=actor.account_id, since=since)
            deltas: list[float] = []
            for handoff in handoffs:
                assert handoff.claimed_at is not None
                step = await uow.steps.first_after(account_id=actor.account_id, session_id=handoff.session_id,
                                                   after=handoff.claimed_at)
                if step is not None:
                    deltas.append(max(0.0, (step.created_at - handoff.claimed_at).total_seconds()))
        return summarize(days, len(handoffs), deltas)
