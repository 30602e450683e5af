"""Teams cards: engine objects in, Adaptive Card JSON (schema 1.5, plain dicts) out.

Pure functions with no SDK and no network, so every card can be validated against Microsoft's
schema in a test. Buttons follow `card_actions`; wording lives in `cards_text`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.teams import cards_text as t
from adapters.teams import replies as r
from adapters.teams.card_actions import execute
from adapters.teams.cards_base import (
    CARD_LIMIT_BYTES,
    STYLES,
    Element,
    action_set,
    adaptive_card,
    card_size,
    card_size_ok,
    fact_set,
    fit_count,
    heading,
    message_chunks,
    safe,
    subtle,
    text_blocks,
)
from adapters.teams.cards_base import title as title_blocks
from adapters.teams.cards_forms import form_body, form_of, form_submit
from adapters.teams.cards_lane import CardRender, fit, render_card, render_lane
from adapters.teams.settings_actions import SettingsAction, settings_button
from core.actions import ActionId
from core.cards import Card, CardAction, CardLine, CardSection
from core.handoffs import QueueEntry
from core.metric import DEFINITION, PickupMetric
from core.previews import Fallback, Preview
from core.views import PICK_UP, EscalationPostView, HandoffView, PickupResultView

__all__ = [
    "CARD_LIMIT_BYTES", "CardRender", "card_size", "card_size_ok", "escalation_post_card", "handoff_card",
    "help_card", "lane_card", "message_chunks", "pickup_result_text", "queue_card", "render_handoff", "render_lane", "resolution_card",
    "safe", "stats_card",
]


def lane_card(card: Card, *, targets: Sequence[tuple[int, str]] = ()) -> dict[str, Any]:
    """The task lane as one card. Use `render_lane` when posting: an oversized lane moves text into
    its `overflow`, which must follow as messages."""
    return render_lane(card, targets=targets).card


def resolution_card(preview: Preview, *, summary_default: str, offer_time_minutes: int | None) -> dict[str, Any]:
    """The note preview as the resolution form (core/forms.py), filled in with the note to edit."""
    if preview.kind != "resolve":
        raise ValueError("resolution_card renders resolution previews only")
    cached = t.RESOLUTION_CACHED if preview.cached else ""
    body: list[Element] = [
        *title_blocks(t.RESOLUTION_TITLE.format(id=preview.session_id)),
        *subtle(t.RESOLUTION_VERSION.format(version=preview.state_version, cached=cached)),
    ]
    if preview.fallback is Fallback.GROUNDING:
        body += text_blocks(t.RESOLUTION_UNGROUNDED, color="Warning", spacing="Small")
    elif preview.composed_by == "deterministic":
        reason = f" ({preview.fallback_reason})" if preview.fallback_reason else ""
        body += text_blocks(t.RESOLUTION_DETERMINISTIC.format(reason=reason), color="Warning", spacing="Small")
    skip = frozenset() if offer_time_minutes else frozenset({"log_time"})
    body += form_body(form_of(ActionId.RESOLVE), values={"note": preview.markdown, "summary": summary_default},
                      hints={"log_time": t.RESOLUTION_TIME.format(minutes=offer_time_minutes)}, skip=skip)
    return adaptive_card(body, [form_submit(ActionId.RESOLVE, preview.session_id)])


def escalation_post_card(view: EscalationPostView) -> dict[str, Any]:
    """The escalation channel's post: **Pick up** until someone claims it, then who did (R23)."""
    body: list[Element] = [*title_blocks(view.title), fact_set([(f.label, f.value) for f in view.fields])]
    if view.picked_up:
        return adaptive_card(body + text_blocks(view.state, color="Good", weight="Bolder"))
    return adaptive_card(body + subtle(view.state), [_execute(a) for a in view.actions])


def render_handoff(view: HandoffView) -> CardRender:
    """The senior's handoff context (package, facts, what was tried), fitted like the lane."""
    card = Card(title=view.title, status_line=view.next_step, sections=tuple(
        CardSection(heading=sec.heading, empty_text=sec.empty_text,
                    lines=tuple(CardLine(text=card_markdown(ln) if sec.markdown else ln) for ln in sec.lines))
        for sec in view.sections))
    facts = fact_set([(f.label, f.value) for f in view.fields])

    def render(c: Card) -> dict[str, Any]:
        rendered = render_card(c)
        rendered["body"].insert(len(title_blocks(c.title)), facts)  # title, fields, next step, sections
        return rendered

    return fit(card, render)


def handoff_card(view: HandoffView) -> dict[str, Any]:
    """The handoff card alone; post `render_handoff(view).overflow` after it when there is any."""
    return render_handoff(view).card


def pickup_result_text(view: PickupResultView) -> str:
    """Said in the session's conversation once someone picked it up."""
    return r.PICKED_UP.format(headline=safe(view.headline), next_step=safe(view.next_step))


def _execute(action: CardAction) -> Element:
    return execute(action.id, action.label, action.session_id, action.ref, style=STYLES.get(action.style or ""))


def queue_card(entries: list[QueueEntry]) -> dict[str, Any]:
    """Escalations awaiting pickup, each with its Pick up; more than a message holds are counted."""
    def build(count: int) -> dict[str, Any]:
        body: list[Element] = [*title_blocks(t.QUEUE_TITLE)]
        if not entries:
            body += subtle(t.QUEUE_EMPTY)
        for entry in entries[:count]:
            body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": [
                *text_blocks(t.QUEUE_LINE.format(id=entry.session.id, title=entry.session.title)),
                *subtle(t.QUEUE_DETAIL.format(reason=entry.handoff.reason, when=card_time(entry.handoff.created_at),
                                              by=entry.escalated_by.name if entry.escalated_by else "?")),
                action_set([execute(ActionId.PICKUP, PICK_UP, entry.session.id or 0, entry.handoff.id, style="positive")]),
            ]})
        if count < len(entries):
            body += subtle(t.QUEUE_MORE.format(n=len(entries) - count))
        return adaptive_card(body)

    return build(fit_count(build, len(entries)))


def stats_card(metrics: list[PickupMetric]) -> dict[str, Any]:
    """Pickup-to-first-action per period, with its definition (R26: responsiveness, not time saved)."""
    body: list[Element] = [*title_blocks(t.STATS_TITLE)]
    if not metrics:
        body += subtle(t.STATS_NONE)
    for metric in metrics:
        body += heading(t.STATS_PERIOD.format(days=metric.days))
        body.append(fact_set([
            (t.STATS_CLAIMED, str(metric.n_claimed)), (t.STATS_WITH_ACTION, str(metric.n_with_action)),
            (t.STATS_AVERAGE, duration(metric.average_s)), (t.STATS_MEDIAN, duration(metric.median_s)),
            (t.STATS_P95, duration(metric.p95_s)),
        ]))
    body += subtle(metrics[0].definition if metrics else DEFINITION)
    return adaptive_card(body)


def help_card() -> dict[str, Any]:
    """The commands, and a button to the PSA settings card (`settings` is typed too)."""
    body: list[Element] = [*title_blocks(t.HELP_TITLE), *text_blocks(t.HELP_INTRO)]
    for command, argument, what in t.HELP_COMMANDS:
        usage = f"**{command}**" + (f" _{argument}_" if argument else "")
        body += text_blocks(f"{usage} — {what}", spacing="Small")
    return adaptive_card(body, [settings_button(SettingsAction.OPEN, t.HELP_SETTINGS_BUTTON)])


def duration(value: float | None) -> str:
    if value is None:
        return t.NO_VALUE
    return f"{value:.0f}s" if value < 120 else f"{value / 60:.1f}min"


def card_time(moment: datetime) -> str:
    """A time Teams shows in the reader's own zone (the card's DATE/TIME functions; naive is UTC)."""
    stamp = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}"


def card_markdown(text: str) -> str:
    """Cards have no markdown headings: `## Summary` becomes a bold line."""
    return re.sub(r"(?m)^ {0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", r"**\1**", text)
