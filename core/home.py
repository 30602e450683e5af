"""What a member's home shows (Slack's App Home): their open sessions, the escalation queue and, for
engineers and admins, the pickup metric (R26) per period. One unit of work, a fixed number of reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.access import WORKERS, Actor, load_member
from core.deps import Deps
from core.handoffs import QueueEntry, read_queue
from core.metric import PERIODS, PickupMetric, read_metrics
from core.models import Session, SessionStatus


@dataclass(frozen=True, kw_only=True)
class Home:
    sessions: list[Session]
    queue: list[QueueEntry]
    metrics: list[PickupMetric] | None  # None for viewers: the metric is for those who pick up


class HomeService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def read(self, *, actor: Actor, statuses: Sequence[SessionStatus]) -> Home:
        """Four reads whatever the account's size: the member, their sessions in `statuses`, the
        queue, and the metric for every period at once."""
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            sessions = await uow.sessions.list(account_id=actor.account_id, statuses=statuses, handler_id=member.id)
            queue = await read_queue(uow, account_id=actor.account_id)
            metrics = None
            if member.role in WORKERS:
                metrics = await read_metrics(uow, account_id=actor.account_id, now=self.deps.clock.now(),
                                             periods=sorted(PERIODS))
        return Home(sessions=sessions, queue=queue, metrics=metrics)
