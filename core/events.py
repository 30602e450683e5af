"""Events recorded by engine actions and dispatched after commit (R22, R25)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class EscalationCreated:
    account_id: int
    session_id: int
    handoff_id: int
    title: str
    reason: str
    escalated_by_id: int
    escalated_by: str
    target_id: int | None
    target: str | None
    ticket: str | None
    package: str
    thread_ref: str | None
    surface: str
    kind: str = "escalation_created"


@dataclass(frozen=True, kw_only=True)
class EscalationClaimed:
    account_id: int
    session_id: int
    handoff_id: int
    title: str
    claimed_by_id: int
    claimed_by: str
    escalated_by_id: int
    escalated_by: str
    package: str
    facts: tuple[str, ...]
    tried: tuple[str, ...]
    thread_ref: str | None
    surface: str
    kind: str = "escalation_claimed"


@dataclass(frozen=True, kw_only=True)
class SessionResolved:
    account_id: int
    session_id: int
    title: str
    resolved_by_id: int
    resolved_by: str
    outcome: str
    thread_ref: str | None
    surface: str
    kind: str = "session_resolved"


@dataclass(frozen=True, kw_only=True)
class TurnQueued:
    """An engineer's message waits for the assistant: every surface showing the session says that
    the assistant is working, within a second of the message (R37). `author_id` is the member who
    wrote it (Slack streams the reply to that person's view of the thread)."""

    account_id: int
    session_id: int
    author_id: int
    thread_ref: str | None
    surface: str
    kind: str = "turn_queued"


@dataclass(frozen=True, kw_only=True)
class ReplyProgress:
    """The assistant's reply so far while it streams (R37): always the whole text so far, sent to
    notifiers only (never the bus), at most every few hundred milliseconds, never after the turn's
    TurnAnswered. `reply_id` names the reply (the first turn of the batch it answers), so a surface
    can keep one stream per reply."""

    account_id: int
    session_id: int
    reply_id: int
    author_id: int
    text: str
    thread_ref: str | None
    surface: str
    kind: str = "reply_progress"


@dataclass(frozen=True, kw_only=True)
class TurnAnswered:
    """The assistant answered (or failed to answer) the engineer's messages; surfaces post the reply
    into the thread (finishing a stream they opened for `reply_id`) and re-render the lane.
    `cancelled`: the engineer stopped the turn; there is no reply and nothing to say but that.
    `redelivery`: a worker stored this reply and died before closing its turns; it may have delivered
    it first, so a surface that recorded the delivery (`SurfaceRefService.mark_delivered`) skips it."""

    account_id: int
    session_id: int
    reply: str | None
    failure: str | None
    thread_ref: str | None
    surface: str
    reply_id: int = 0
    author_id: int | None = None
    cancelled: bool = False
    redelivery: bool = False
    kind: str = "turn_answered"


@dataclass(frozen=True, kw_only=True)
class WritebackFinished:
    account_id: int
    session_id: int
    ticket_id: int
    outcome: str | None
    message: str
    thread_ref: str | None
    surface: str
    kind: str = "writeback_finished"


@dataclass(frozen=True, kw_only=True)
class MessagePosted:
    """An engineer's message in a session, from `via` (slack, teams, console). Surfaces other than
    `via` that show the session repeat it, so each surface shows what happened on the other."""

    account_id: int
    session_id: int
    author: str
    text: str
    via: str
    thread_ref: str | None
    surface: str
    kind: str = "message_posted"


Event = (EscalationCreated | EscalationClaimed | SessionResolved | TurnQueued | ReplyProgress | TurnAnswered
         | WritebackFinished | MessagePosted)


def to_bus_message(event: Event) -> dict[str, Any]:
    """The live-event form: small, no package text (subscribers fetch what they show)."""
    data = asdict(event)
    for bulky in ("package", "facts", "tried"):
        data.pop(bulky, None)
    return data
