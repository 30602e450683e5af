"""Neutral view models of an escalation as people see it: the channel post (R22), the handoff the
senior receives and the word that someone picked it up (R23). Built once here, with their fields in
one order and their wording in plain text; Slack, Teams and the console only render them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.actions import ActionId
from core.cards import CardAction
from core.events import EscalationClaimed, EscalationCreated
from core.handoffs import Pickup, QueueEntry

POST_TITLE = "Escalation: #{id} {title}"
POST_SUMMARY = "Escalation #{id} {title}: {reason} (by {by})"
TICKET, NO_TICKET = "Ticket", "no ticket linked"
ESCALATED_BY, TARGET, REASON = "Escalated by", "Asked for", "Reason"
AWAITING = "Awaiting pickup."
PICKED_UP_BY = "Picked up by {name}."
PICK_UP = "Pick up"
HANDOFF_TITLE = "You picked up #{id} {title}"
HANDOFF_SUMMARY = "You picked up #{id} {title}, escalated by {by}."
FACTS, NO_FACTS = "What we know", "No facts were recorded."
TRIED, NOTHING_TRIED = "What was tried", "Nothing was tried yet."
PACKAGE, NO_PACKAGE = "Escalation package", "No package was written."
HANDOFF_NEXT = "You are its handler now; continue in the session's conversation."
PICKUP_HEADLINE = "{by} picked up this session from {escalator} and is on it."
PICKUP_NEXT = "{by} is its handler now: changes to the session are theirs (and admins')."
SOMEONE = "someone"


@dataclass(frozen=True, kw_only=True)
class ViewField:
    """A labelled value. `key` names the field for code (tests, compact lines); `wide` marks text
    that may run long, shown on a row of its own where a surface lays fields out in columns."""

    key: str
    label: str
    value: str
    wide: bool = False


@dataclass(frozen=True, kw_only=True)
class ViewSection:
    """A heading and its lines; `markdown` lines are stored markdown (the package), else plain text."""

    heading: str
    lines: tuple[str, ...]
    empty_text: str
    markdown: bool = False


def field(fields: tuple[ViewField, ...], key: str) -> str:
    return next((f.value for f in fields if f.key == key), "")


@dataclass(frozen=True, kw_only=True)
class EscalationPostView:
    """The escalation channel's post: ticket, who escalated, whom for, why; then its state, and
    **Pick up** (by session and handoff id) while it awaits pickup."""

    session_id: int
    handoff_id: int
    title: str
    summary: str
    fields: tuple[ViewField, ...]
    state: str
    picked_up: bool
    actions: tuple[CardAction, ...]


@dataclass(frozen=True, kw_only=True)
class HandoffView:
    """What the senior receives on pickup: ticket, who escalated and why, then what we know, what
    was tried and the package, nothing shortened here (renderers split what does not fit)."""

    session_id: int
    handoff_id: int
    title: str
    summary: str
    fields: tuple[ViewField, ...]
    sections: tuple[ViewSection, ...]
    next_step: str


@dataclass(frozen=True, kw_only=True)
class PickupResultView:
    """Said where the session lives once someone picked it up: who, from whom, what happens next."""

    session_id: int
    title: str
    picked_up_by: str
    escalated_by: str
    headline: str
    next_step: str


def _ticket(ticket: str | None) -> str:
    return (ticket if ticket.startswith("#") else f"#{ticket}") if ticket else NO_TICKET


def escalation_post(*, session_id: int, handoff_id: int, title: str, ticket: str | None, escalated_by: str,
                    reason: str, target: str | None = None, claimed_by: str | None = None) -> EscalationPostView:
    """The post awaiting pickup or, with `claimed_by`, the same post after the claim."""
    fields = [ViewField(key="ticket", label=TICKET, value=_ticket(ticket)),
              ViewField(key="escalated_by", label=ESCALATED_BY, value=escalated_by)]
    if target:
        fields.append(ViewField(key="target", label=TARGET, value=target))
    fields.append(ViewField(key="reason", label=REASON, value=reason, wide=True))
    actions = () if claimed_by else (
        CardAction(id=ActionId.PICKUP, label=PICK_UP, session_id=session_id, ref=handoff_id, style="primary"),)
    return EscalationPostView(
        session_id=session_id, handoff_id=handoff_id, title=POST_TITLE.format(id=session_id, title=title),
        summary=POST_SUMMARY.format(id=session_id, title=title, reason=reason, by=escalated_by), fields=tuple(fields),
        state=PICKED_UP_BY.format(name=claimed_by) if claimed_by else AWAITING, picked_up=bool(claimed_by),
        actions=actions)


def post_record(event: EscalationCreated) -> dict[str, Any]:
    """What a surface stores with its copy of the post, to show the same post again on claim."""
    return {"title": event.title, "ticket": event.ticket, "escalated_by": event.escalated_by, "reason": event.reason,
            "target": event.target}


def created_post(event: EscalationCreated) -> EscalationPostView:
    return escalation_post(session_id=event.session_id, handoff_id=event.handoff_id, **post_record(event))


def stored_post(record: Mapping[str, Any], *, session_id: int, handoff_id: int, claimed_by: str | None, title: str,
                escalated_by: str, ticket: str | None = None, reason: str = "") -> EscalationPostView:
    """A stored post (`post_record`) shown again; what the record lacks comes from the arguments."""
    return escalation_post(
        session_id=session_id, handoff_id=handoff_id, title=str(record.get("title") or title),
        ticket=record.get("ticket", ticket),
        escalated_by=str(record.get("escalated_by") or escalated_by), reason=str(record.get("reason") or reason),
        target=record.get("target"), claimed_by=claimed_by)


def claimed_post(event: EscalationClaimed, record: Mapping[str, Any]) -> EscalationPostView:
    return stored_post(record, session_id=event.session_id, handoff_id=event.handoff_id, claimed_by=event.claimed_by,
                       title=event.title, escalated_by=event.escalated_by)


def queued_post(entry: QueueEntry) -> EscalationPostView:
    """A queue entry as its post; the queue does not say whom it was asked for."""
    return escalation_post(session_id=entry.session.id or 0, handoff_id=entry.handoff.id or 0, title=entry.session.title,
                           ticket=entry.session.ticket_ref, reason=entry.handoff.reason,
                           escalated_by=entry.escalated_by.name if entry.escalated_by else SOMEONE)


def handoff_view(pickup: Pickup) -> HandoffView:
    s, handoff = pickup.session, pickup.handoff
    sid = s.id or 0
    by = pickup.escalated_by.name if pickup.escalated_by else SOMEONE
    package = (pickup.package,) if pickup.package.strip() else ()
    return HandoffView(
        session_id=sid, handoff_id=handoff.id or 0, title=HANDOFF_TITLE.format(id=sid, title=s.title),
        summary=HANDOFF_SUMMARY.format(id=sid, title=s.title, by=by),
        fields=(ViewField(key="ticket", label=TICKET, value=_ticket(s.ticket_ref)),
                ViewField(key="escalated_by", label=ESCALATED_BY, value=by),
                ViewField(key="reason", label=REASON, value=handoff.reason, wide=True)),
        sections=(ViewSection(heading=FACTS, lines=pickup.facts, empty_text=NO_FACTS),
                  ViewSection(heading=TRIED, lines=pickup.tried, empty_text=NOTHING_TRIED),
                  ViewSection(heading=PACKAGE, lines=package, empty_text=NO_PACKAGE, markdown=True)),
        next_step=HANDOFF_NEXT)


def pickup_result(event: EscalationClaimed) -> PickupResultView:
    return PickupResultView(
        session_id=event.session_id, title=event.title, picked_up_by=event.claimed_by, escalated_by=event.escalated_by,
        headline=PICKUP_HEADLINE.format(by=event.claimed_by, escalator=event.escalated_by),
        next_step=PICKUP_NEXT.format(by=event.claimed_by))
