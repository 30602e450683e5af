"""Events, from the action that causes them to the people who hear of them (R22, R25).

An action records its events in its unit of work (`record`): the in-app notifications they imply
are written right there, in the action's own transaction, so they exist exactly when the change
does. Once the unit of work has committed, `publish` hands its events to the one dispatcher: the
live-event bus and every surface's notifier. Nothing there can undo or fail the action: each
failing channel is logged and the rest still run. Events that belong to no transaction (a reply
delivered, its progress) go to `dispatch` and `notify_progress` directly.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from core.access import WORKERS
from core.deps import Deps
from core.events import (
    EscalationClaimed,
    EscalationCreated,
    Event,
    MessagePosted,
    ReplyProgress,
    SessionResolved,
    TurnAnswered,
    TurnQueued,
    WritebackFinished,
    to_bus_message,
)
from core.models import Notification
from core.ports import UnitOfWork
from core.ports.services import Notifier

log = logging.getLogger("rflow.notify")


class QuietNotifier:
    """Hears every event and shows none: a surface's notifier overrides what it shows."""

    async def turn_queued(self, event: TurnQueued) -> None: ...
    async def reply_progress(self, event: ReplyProgress) -> None: ...
    async def turn_answered(self, event: TurnAnswered) -> None: ...
    async def message_posted(self, event: MessagePosted) -> None: ...
    async def escalation_created(self, event: EscalationCreated) -> None: ...
    async def escalation_claimed(self, event: EscalationClaimed) -> None: ...
    async def session_resolved(self, event: SessionResolved) -> None: ...
    async def writeback_finished(self, event: WritebackFinished) -> None: ...


def _handler(notifier: Notifier, event: Event) -> Callable[[], Awaitable[None]]:
    """The notifier's method for this event, typed end to end (a new event fails type checking here)."""
    match event:
        case TurnQueued():
            return lambda: notifier.turn_queued(event)
        case ReplyProgress():
            return lambda: notifier.reply_progress(event)
        case TurnAnswered():
            return lambda: notifier.turn_answered(event)
        case MessagePosted():
            return lambda: notifier.message_posted(event)
        case EscalationCreated():
            return lambda: notifier.escalation_created(event)
        case EscalationClaimed():
            return lambda: notifier.escalation_claimed(event)
        case SessionResolved():
            return lambda: notifier.session_resolved(event)
        case WritebackFinished():
            return lambda: notifier.writeback_finished(event)


async def record(uow: UnitOfWork, deps: Deps, event: Event) -> None:
    """Keep `event` for after the commit, and write the in-app notifications it implies now."""
    uow.events.append(event)
    for notification in await _in_app(uow, deps, event):
        await uow.notifications.add(notification)


async def publish(deps: Deps, uow: UnitOfWork) -> None:
    """After the unit of work: its events, if it committed (a rolled-back action told nobody)."""
    events, uow.events = list(uow.events), []
    if uow.committed:
        await dispatch(deps, events)


async def dispatch(deps: Deps, events: Iterable[Event]) -> None:
    for event in events:
        try:
            await deps.bus.publish(event.account_id, to_bus_message(event))
        except Exception:  # the bus promises not to raise; a broken one still must not block (R25)
            log.exception("bus publish failed for %s", event.kind)
        await _tell_surfaces(deps, event)


async def notify_progress(deps: Deps, event: ReplyProgress) -> None:
    """A reply as it streams goes to the surfaces only: not the bus, not in-app (R37)."""
    await _tell_surfaces(deps, event)


async def _tell_surfaces(deps: Deps, event: Event) -> None:
    for notifier in deps.notifiers:
        try:
            await _handler(notifier, event)()
        except Exception:
            log.exception("notifier %s failed for %s", type(notifier).__name__, event.kind)


async def _in_app(uow: UnitOfWork, deps: Deps, event: Event) -> list[Notification]:
    """For every eligible member on an escalation, for the escalator on pickup."""
    now = deps.clock.now()
    if isinstance(event, EscalationCreated):
        out = []
        for member in await uow.members.list(account_id=event.account_id):
            if member.role not in WORKERS or member.id == event.escalated_by_id:
                continue
            text = f"Session #{event.session_id} escalated by {event.escalated_by}: {event.reason}"
            if member.id == event.target_id:
                text = f"{event.escalated_by} escalated session #{event.session_id} to you: {event.reason}"
            out.append(Notification(account_id=event.account_id, member_id=member.id or 0, kind=event.kind, text=text,
                                    created_at=now, session_id=event.session_id, handoff_id=event.handoff_id))
        return out
    if isinstance(event, EscalationClaimed) and event.escalated_by_id != event.claimed_by_id:
        return [Notification(account_id=event.account_id, member_id=event.escalated_by_id, kind=event.kind,
                             text=f"{event.claimed_by} picked up session #{event.session_id}.", created_at=now,
                             session_id=event.session_id, handoff_id=event.handoff_id)]
    return []

