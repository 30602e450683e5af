"""Block Kit messages: the task lane, the escalation-channel post and the handoff DM. Pure
functions from core's neutral views to (fallback text, blocks); every result has passed
`limits.check_blocks`, so what leaves here is a payload Slack accepts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.slack import kit
from adapters.slack import labels as w
from adapters.slack.actions import FORM_SUFFIX, action_id, encode_value
from adapters.slack.limits import (
    FALLBACK_TEXT,
    FIELD_TEXT,
    SECTION_TEXT,
    Delivery,
    check_blocks,
    fit_chunks,
    fits,
    message_chunks,
)
from adapters.slack.text import escape, escape_within, shorten
from core.actions import ActionId
from core.cards import Card, CardAction, CardChoice, CardLine, CardSection
from core.views import (
    EscalationPostView,
    HandoffView,
    PickupResultView,
    ViewField,
    ViewSection,
)

Blocks = list[dict[str, Any]]
MAX_FACT_OPTIONS = 100  # a static_select holds at most 100 options
STATUS_LINE = 1000
REASON_ROOM = 2500  # the core keeps reasons to 500 characters; this only bounds odd input
FIELD_ROOM = FIELD_TEXT - 50  # a field holds 2000 characters, its label included


@dataclass(frozen=True)
class _Density:
    """How much of the lane one message shows: the longest line (raw characters), how many plain
    lines and how many buttoned items per section (None: all), how many options a select offers."""

    cap: int | None
    lines: int | None
    items: int | None
    options: int = MAX_FACT_OPTIONS


# From everything to a compact lane; the first density that fits one message wins.
_DENSITIES = (
    _Density(None, None, None), _Density(600, 60, 20, 60), _Density(300, 40, 12, 40), _Density(200, 25, 8, 25),
    _Density(120, 15, 5, 15), _Density(80, 8, 3, 8), _Density(60, 5, 2, 4),
)


OWN_WORDS = {ActionId.CONFIRM_ITEM: w.CONFIRM_OWN_WORDS}  # an optional form, asked for by a second button


def lane_buttons(actions: Sequence[CardAction]) -> list[dict[str, Any]]:
    out = []
    for a in actions:
        value = encode_value(a.session_id, a.ref)
        out.append(kit.button(a.label, action_id(a.id), value=value, style=a.style))
        if a.id in OWN_WORDS:
            out.append(kit.button(OWN_WORDS[a.id], action_id(a.id) + FORM_SUFFIX, value=value))
    return out


class _Lane:
    def __init__(self, density: _Density) -> None:
        self.density = density
        self.shortened = False

    def line(self, text: str, room: int | None = None) -> str:
        """A line at this density; `room` bounds its escaped length (a line that is a block of its own)."""
        cap = self.density.cap
        shown = shorten(text, cap) if cap else text
        while room is not None and len(escape(shown)) > room:
            shown = shorten(text, max(1, min(len(shown), room) // 2))
        self.shortened |= shown != text
        return shown

    def texts(self, lines: list[str]) -> Blocks:
        return [kit.section(t) for t in fit_chunks("\n".join(lines), SECTION_TEXT, escape)]

    def section(self, sec: CardSection) -> Blocks:
        head = f"*{sec.heading}*"
        d = self.density
        controls = lane_buttons(sec.actions) + [choice_select(c, d.options) for c in sec.choices]
        if not sec.lines:
            return self.texts([head, w.EMPTY.format(text=sec.empty_text)]) + ([kit.actions(controls)] if controls else [])
        plain = [i for i, ln in enumerate(sec.lines) if not ln.actions]
        buttoned = [i for i, ln in enumerate(sec.lines) if ln.actions]
        shown = set(plain[: d.lines]) | set(buttoned[: d.items])
        hidden_plain = len(plain) - len(plain[: d.lines])
        hidden_buttoned = len(buttoned) - len(buttoned[: d.items])
        out: Blocks = []
        buffer = [head]
        for i, ln in enumerate(sec.lines):
            if i not in shown:
                continue
            if not ln.actions:
                buffer.append("• " + self.line(ln.text))
            else:
                if buffer:
                    out += self.texts(buffer)
                    buffer = []
                out += self.buttoned(ln)
        if hidden_plain:
            buffer.append(w.MORE_LINES.format(n=hidden_plain))
        if hidden_buttoned:
            buffer.append(w.MORE_ITEMS.format(n=hidden_buttoned))
        if buffer:
            out += self.texts(buffer)
        if controls:
            out.append(kit.actions(controls))
        return out

    def buttoned(self, ln: CardLine) -> Blocks:
        """One block per item, so each block's action_ids are unique and a click names its item."""
        text = escape(self.line(ln.text, room=SECTION_TEXT))
        buttons = lane_buttons(ln.actions)
        if len(buttons) == 1:
            return [kit.section(text, accessory=buttons[0])]
        return [kit.section(text), kit.actions(buttons)]


def choice_select(choice: CardChoice, most: int) -> dict[str, Any]:
    """A pick-one-object action as a select; the latest `most` options are offered, since each
    option weighs on the message's size budget. A destructive one asks again before it acts."""
    select: dict[str, Any] = {"type": "static_select", "action_id": action_id(choice.id), "placeholder": kit.plain(choice.label),
                              "options": [kit.option(shorten(text, 40), encode_value(choice.session_id, ref))
                                          for ref, text in choice.options[-most:]]}
    if choice.style == "danger":
        select["confirm"] = kit.confirm(w.CONFIRM_TITLE.format(label=choice.label.rstrip("…")), w.CONFIRM_DANGER,
                                        w.CONFIRM_YES, style="danger")
    return select


def _render_lane(card: Card, density: _Density) -> Blocks:
    lane = _Lane(density)
    blocks: Blocks = [kit.header(card.title), kit.context(escape(lane.line(card.status_line, room=STATUS_LINE)))]
    for sec in card.sections:
        blocks += [kit.divider(), *lane.section(sec)]
    if card.banner is not None:
        blocks += [kit.divider(), *lane.buttoned(card.banner)]
    final = lane_buttons(card.actions)
    if final:
        blocks += [kit.divider(), kit.actions(final)]
    if lane.shortened:
        blocks.append(kit.context(w.SHORTENED))
    return blocks


def lane_blocks(card: Card) -> tuple[str, Blocks]:
    """The one task-lane message. A lane too big for one message is shown denser (shorter lines,
    fewer items, fewer options in a select), always saying so."""
    blocks: Blocks = []
    for density in _DENSITIES:
        blocks = _render_lane(card, density)
        if fits(blocks):
            break
    check_blocks(blocks, surface="message")
    text = shorten(w.LANE_FALLBACK.format(title=card.title, status=card.status_line), FALLBACK_TEXT)
    return escape(text), blocks


def _field(f: ViewField) -> str:
    return f"*{escape(f.label)}*\n{escape_within(f.value, REASON_ROOM if f.wide else FIELD_ROOM)}"


def _fields(fields: Sequence[ViewField]) -> Blocks:
    """The fields in their order: short ones side by side, a wide one on a row of its own."""
    out: Blocks = []
    run: list[str] = []
    for f in fields:
        if not f.wide:
            run.append(_field(f))
            continue
        if run:
            out.append(kit.fields_section(run))
            run = []
        out.append(kit.section(_field(f)))
    return out + ([kit.fields_section(run)] if run else [])


def escalation_post_blocks(view: EscalationPostView) -> tuple[str, Blocks]:
    """R22/R23: the escalation-channel post, with Pick up until someone claims it."""
    blocks: Blocks = [kit.header(view.title), *_fields(view.fields)]
    state = escape_within(view.state, FIELD_ROOM)
    blocks.append(kit.section(w.PICKED_UP.format(state=state)) if view.picked_up else kit.context(state))
    if view.actions:
        blocks.append(kit.actions(lane_buttons(view.actions)))
    check_blocks(blocks, surface="message")
    text = shorten(view.summary, FALLBACK_TEXT - 80) + (f" · {view.state}" if view.picked_up else "")
    return escape(shorten(text, FALLBACK_TEXT)), blocks


def pickup_result_text(view: PickupResultView) -> str:
    """Said in the session's thread (markdown; `say` escapes it) once someone picked it up."""
    return w.PICKUP_NOTE.format(headline=view.headline, next_step=view.next_step)


def _handoff_body(view: HandoffView) -> str:
    """The sections as markdown, nothing shortened: the package as written, other lines listed."""
    def listed(sec: ViewSection) -> str:
        if not sec.lines:
            return f"*{sec.heading}*\n" + w.EMPTY.format(text=sec.empty_text)
        return "\n".join([f"*{sec.heading}*", *(ln if sec.markdown else f"• {ln}" for ln in sec.lines)])

    return "\n\n".join(listed(sec) for sec in view.sections)


def handoff_dm_delivery(view: HandoffView) -> Delivery:
    """R23: what the senior receives on claim, with nothing shortened. Send every message in order,
    then upload `snippet` as a file when it is set (a package too long for MAX_MESSAGES messages)."""
    fallback = escape(shorten(view.summary, FALLBACK_TEXT))
    head: Blocks = [kit.header(view.title), *_fields(view.fields), kit.context(escape(view.next_step))]
    rest = message_chunks(_handoff_body(view), filename=f"handoff-{view.session_id}.md")
    if rest.snippet is not None:
        notice = rest.messages[0][1]
        check_blocks(head + notice, surface="message")
        return Delivery(messages=[(fallback, head + notice)], snippet=rest.snippet, filename=rest.filename)
    first_blocks = rest.messages[0][1]
    if fits(head + first_blocks):
        check_blocks(head + first_blocks, surface="message")
        return Delivery(messages=[(fallback, head + first_blocks), *rest.messages[1:]], filename=rest.filename)
    check_blocks(head, surface="message")
    return Delivery(messages=[(fallback, head), *rest.messages], filename=rest.filename)
