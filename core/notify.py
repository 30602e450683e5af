"""After-commit delivery of events: the bus, every surface's notifier, in-app notifications (R22, R25).

Called only once the action's transaction has committed. Nothing here can undo or fail the action:
each failing channel is logged and the rest still run.
"""

from __future__ import annotations

import logging

from core.access import WORKERS
from core.deps import Deps
from core.events import EscalationClaimed, EscalationCreated, Event, ReplyProgress, to_bus_message
from core.models import Notification

log = logging.getLogger("rflow.notify")


async def dispatch(deps: Deps, events: list[Event]) -> None:
    for event in events:
        try:
            await deps.bus.publish(event.account_id, to_bus_message(event))
        except Exception:  # the bus promises not to raise; a broken one still must not block (R25)
            log.exception("bus publish failed for %s", event.kind)
        for notifier in deps.notifiers:
            try:
                await _notify(notifier, event)
            except Exception:
                log.exception("notifier %s failed for %s", type(notifier).__name__, event.kind)
        try:
            await _record_in_app(deps, event)
        except Exception:
            log.exception("in-app notifications failed for %s", event.kind)


async def notify_progress(deps: Deps, event: ReplyProgress) -> None:
    """A reply as it streams goes to the surfaces only: not the bus, not in-app (R37)."""
    for notifier in deps.notifiers:
        try:
            await _notify(notifier, event)
        except Exception:
            log.exception("notifier %s failed for %s", type(notifier).__name__, event.kind)


async def _notify(notifier: object, event: Event) -> None:
    """A notifier handles an event by having a method named after its kind; others it ignores."""
    handler = getattr(notifier, event.kind, None)
    if handler is not None:
        await handler(event)


async def _record_in_app(deps: Deps, event: Event) -> None:
    """In-app notifications: for every eligible member on an escalation, for the escalator on pickup."""
    if not isinstance(event, (EscalationCreated, EscalationClaimed)):
        return
    now = deps.clock.now()
    async with deps.uow_factory() as uow:
        if isinstance(event, EscalationCreated):
            for member in await uow.members.list(account_id=event.account_id):
                if member.role not in WORKERS or member.id == event.escalated_by_id:
                    continue
                text = f"Session #{event.session_id} escalated by {event.escalated_by}: {event.reason}"
                if member.id == event.target_id:
                    text = f"{event.escalated_by} escalated session #{event.session_id} to you: {event.reason}"
                await uow.notifications.add(
                    Notification(
                        account_id=event.account_id, member_id=member.id or 0, kind=event.kind, text=text,
                        created_at=now, session_id=event.session_id, handoff_id=event.handoff_id,
                    )
                )
        elif isinstance(event, EscalationClaimed) and event.escalated_by_id != event.claimed_by_id:
            await uow.notifications.add(
                Notification(
                    account_id=event.account_id, member_id=event.escalated_by_id, kind=event.kind,
                    text=f"{event.claimed_by} picked up session #{event.session_id}.", created_at=now,
                    session_id=event.session_id, handoff_id=event.handoff_id,
                )
            )
        await uow.commit()
