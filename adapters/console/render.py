"""Text renderings of engine state for the console: pure functions, no I/O."""

from __future__ import annotations

import re
from datetime import datetime

from adapters.console import messages as m
from core.actions import Outcome, OutcomeCode
from core.cards import Card, CardAction, CardChoice
from core.handoffs import QueueEntry
from core.metric import PickupMetric
from core.models import Member, Session
from core.previews import Preview
from core.views import (
    EscalationPostView,
    HandoffView,
    PickupResultView,
    ViewField,
    handoff_view,
    queued_post,
)

# What a terminal would act on rather than show: C0 controls but newline and tab (ESC starts every
# escape sequence, CR and BS overwrite what is shown), DEL, the C1 controls (CSI and OSC among them),
# the bidirectional overrides and isolates that reorder what follows, and lone surrogates (which no
# terminal encoding can write).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def picture(char: str) -> str:
    """A control character as a visible, inert stand-in: its Unicode control picture (ESC is ␛,
    NUL ␀, DEL ␡), else its code point written out."""
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def neutral(text: str) -> str:
    """`text` safe to write to a terminal: every control character shown as its stand-in, so an
    escape sequence in someone's words reads as `␛[31m` instead of colouring (or clearing) the
    screen. Newlines and tabs stay."""
    return CONTROL.sub(lambda match: picture(match.group()), text)


def _hint(action: CardAction | CardChoice) -> str:
    ref = action.label_ref or "" if isinstance(action, CardAction) else ""
    hints = {
        "confirm_item": f"/promote {ref}", "dismiss_item": f"/reject {ref}", "apply_fix": "/apply", "fix_worked": "/worked",
        "fix_failed": "/failed [reason]", "fix_partial": "/partial <notes>", "fix_dismiss": "/dismiss",
        "outcome_confirm": "/confirm", "outcome_not_yet": "/notyet", "preview_resolve": "/preview resolve",
        "escalate": "/escalate <reason>", "park": "/park [reason]", "pickup": f"/pickup {action.session_id}",
        "add_fact": "/fact <text>", "edit_fact": "/editfact <n> <text>", "delete_fact": "/delfact <n>",
        "add_fix": "/fix <title> :: <what to do>", "link_ticket": "/link <ticket>", "retry_writeback": "/retry",
        "preview_escalate": "/preview escalate",
    }
    return hints[action.id.value]


def card(card: Card) -> list[str]:
    lines = [f"━━ {card.title}", f"   {card.status_line}"]
    for section in card.sections:
        lines.append(f"── {section.heading}")
        if not section.lines:
            lines.append(f"   {section.empty_text}")
        for line in section.lines:
            hint = "  [" + ", ".join(_hint(a) for a in line.actions) + "]" if line.actions else ""
            lines.append(f"   {line.text}{hint}")
        controls: list[CardAction | CardChoice] = [*section.actions, *section.choices]
        offered = [f"{a.label}: {_hint(a)}" for a in controls]
        if offered:
            lines.append("   " + " · ".join(offered))
    if card.banner is not None:
        lines.append(f"!! {card.banner.text}  " + " · ".join(_hint(a) for a in card.banner.actions))
    if card.actions:
        lines.append("── " + " · ".join(f"{a.label}: {_hint(a)}" for a in card.actions))
    return lines


def sessions(items: list[Session], members: dict[int, str], current: int | None) -> list[str]:
    if not items:
        return [m.SESSIONS_EMPTY]
    return [m.SESSION_LINE.format(marker="*" if s.id == current else " ", id=s.id, status=s.status, title=s.title,
                                  handler=members.get(s.handler_id, "?")) for s in items]


def age(since: datetime, now: datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _fields(fields: tuple[ViewField, ...]) -> str:
    return " · ".join(f"{f.label}: {f.value}" for f in fields)


def escalation_post(view: EscalationPostView, *, head: str | None = None, indent: str = "   ") -> list[str]:
    """The post's title (or `head`), its fields in their order, then its state and the command that picks it up."""
    hint = " ".join(_hint(a) for a in view.actions)
    return [view.title if head is None else head, f"{indent}{_fields(view.fields)}",
            f"{indent}{view.state}" + (f" {hint}" if hint else "")]


def queue(entries: list[QueueEntry], now: datetime) -> list[str]:
    lines = [] if entries else [m.QUEUE_EMPTY]
    for e in entries:
        view = queued_post(e)
        lines += escalation_post(view, head=m.QUEUE_LINE.format(title=view.title, age=age(e.handoff.created_at, now)),
                                 indent="    ")
    return lines


def handoff(view: HandoffView) -> list[str]:
    lines = [f"━━ {view.title}", f"   {_fields(view.fields)}", f"   {view.next_step}"]
    for section in view.sections:
        lines.append(f"── {section.heading}")
        if not section.lines:
            lines.append(f"   {section.empty_text}")
        for line in section.lines:
            lines += line.splitlines() if section.markdown else [f"   {line}"]
    return lines


def pickup_result(view: PickupResultView) -> str:
    return m.PICKUP_RESULT.format(id=view.session_id, title=view.title, headline=view.headline, next_step=view.next_step)


def preview(p: Preview) -> list[str]:
    how = ("" if p.composed_by == "assistant"
           else m.PREVIEW_FALLBACK.get(str(p.fallback), m.PREVIEW_DETERMINISTIC) if p.deterministic
           else f", {p.composed_by}")
    head = m.PREVIEW_HEAD.format(kind=m.PREVIEW_KINDS[p.kind],
                                 version=p.state_version, cached=", cached" if p.cached else "", how=how)
    return [head, *p.markdown.splitlines()]


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}s" if value < 120 else f"{value / 60:.1f}min"


def metric(result: PickupMetric) -> list[str]:
    return [m.STATS_HEAD.format(days=result.days, n_claimed=result.n_claimed, n_with_action=result.n_with_action),
            m.STATS_LINE.format(avg=seconds(result.average_s), median=seconds(result.median_s), p95=seconds(result.p95_s)),
            f"  {result.definition}"]


def member_names(members: list[Member]) -> dict[int, str]:
    return {mem.id or 0: mem.name for mem in members}


def outcome(o: Outcome) -> list[str]:
    """An action's outcome in words (messages.OUTCOMES), then what it hands over: the previewed
    note, the picked-up package, the writeback on its way."""
    if o.preview is not None:
        return preview(o.preview)
    p = o.params
    fill = {**p, "id": o.session_id, "word": p.get("outcome_label", ""), "by": p.get("escalated_by") or "?",
            "target": m.ESCALATED_TARGET.format(name=p["target"]) if p.get("target") else "",
            "detail": m.CLOSING_DETAIL.get((o.code, bool(p.get("ticket_id"))), "")}
    lines = [m.OUTCOMES[o.code].format_map(fill)]
    if o.pickup is not None:
        lines += handoff(handoff_view(o.pickup))
    if p.get("ticket_id") and o.code in (OutcomeCode.RESOLVED, OutcomeCode.ESCALATED):
        lines.append(m.WRITEBACK_QUEUED.format(id=p["ticket_id"]))
    return lines
