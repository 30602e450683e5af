"""The App Home tab: my open sessions, the escalation queue with Pick up, and (for engineers and
admins; the caller decides) the pickup metric R26 for 7/30/90 days."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from adapters.slack import kit
from adapters.slack import labels as w
from adapters.slack.actions import OPEN_SESSION, action_id, encode_value
from adapters.slack.limits import check_view
from adapters.slack.text import escape, escape_within
from core.actions import ActionId
from core.cards import ticket_line
from core.handoffs import QueueEntry
from core.metric import PickupMetric
from core.models import Session
from core.views import PICK_UP

MAX_SESSIONS = 20
MAX_QUEUE = 20
PART_CHARS = 800  # escaped characters of each part of an entry: three parts stay within a section's 3000


def slack_date(when: datetime) -> str:
    """Slack renders this token in the reader's own time zone; the text after | is the fallback."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return f"<!date^{int(aware.timestamp())}^{{date_short_pretty}} {{time}}|{aware:%Y-%m-%d %H:%M} UTC>"


def duration(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}s" if value < 120 else f"{value / 60:.1f}min"


def _session_block(session: Session, link: str | None) -> dict[str, Any]:
    ticket = f" · {ticket_line(session)}" if session.ticket_ref else ""
    text = w.HOME_SESSION.format(id=session.id, title=escape_within(session.title, PART_CHARS),
                                 status=str(session.status).capitalize(), ticket=escape_within(ticket, PART_CHARS))
    accessory = kit.button(w.HOME_OPEN, OPEN_SESSION, url=link) if link else None
    return kit.section(text, accessory=accessory)


def _queue_block(entry: QueueEntry) -> dict[str, Any]:
    session, handoff = entry.session, entry.handoff
    text = w.HOME_QUEUE_LINE.format(id=session.id, title=escape_within(session.title, PART_CHARS),
                                    reason=escape_within(handoff.reason, PART_CHARS),
                                    by=escape_within(entry.escalated_by.name if entry.escalated_by else "someone", 200),
                                    when=slack_date(handoff.created_at))
    pickup = kit.button(PICK_UP, action_id(ActionId.PICKUP), value=encode_value(session.id or 0, handoff.id),
                        style="primary")
    return kit.section(text, accessory=pickup)


def home_view(*, sessions: list[Session], queue: list[QueueEntry], metrics: list[PickupMetric] | None,
              links: Mapping[int, str] | None = None) -> dict[str, Any]:
    """`links` maps a session id to its thread's permalink (chat.getPermalink), shown as a link button."""
    links = links or {}
    blocks: list[dict[str, Any]] = [kit.header(w.HOME_HEADER), kit.section(w.HOME_SESSIONS)]
    if not sessions:
        blocks.append(kit.context(w.HOME_NO_SESSIONS))
    blocks += [_session_block(s, links.get(s.id or 0)) for s in sessions[:MAX_SESSIONS]]
    if len(sessions) > MAX_SESSIONS:
        blocks.append(kit.context(w.HOME_MORE_SESSIONS.format(n=len(sessions) - MAX_SESSIONS)))
    blocks += [kit.divider(), kit.section(w.HOME_QUEUE)]
    if not queue:
        blocks.append(kit.context(w.HOME_QUEUE_EMPTY))
    blocks += [_queue_block(e) for e in queue[:MAX_QUEUE]]
    if len(queue) > MAX_QUEUE:
        blocks.append(kit.context(w.HOME_MORE_QUEUE.format(n=len(queue) - MAX_QUEUE)))
    if metrics is not None:
        blocks += [kit.divider(), kit.section(w.HOME_METRIC)]
        for m in metrics:
            blocks.append(kit.section(w.HOME_METRIC_LINE.format(
                days=m.days, n_claimed=m.n_claimed, n_with_action=m.n_with_action, avg=duration(m.average_s),
                median=duration(m.median_s), p95=duration(m.p95_s))))
        if metrics:
            blocks.append(kit.context(escape(metrics[0].definition)))
    return check_view({"type": "home", "blocks": blocks})
