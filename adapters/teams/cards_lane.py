"""The neutral task-lane card (core.cards) as one Adaptive Card, fitted under Teams' size limit.

Where Slack opens a modal (partial notes, failure reason, escalation reason and target, a new fact)
Teams unfolds a form on the card with `Action.ShowCard`. A lane too big for one message keeps every
button and moves text it cannot hold into `overflow`, to be posted as messages; the card says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from adapters.teams import cards_text as t
from adapters.teams.card_actions import (
    INPUT_FACT_TEXT,
    INPUT_FAILURE_REASON,
    INPUT_PARTIAL_NOTES,
    INPUT_REASON,
    INPUT_TARGET,
    FormAction,
    execute,
)
from adapters.teams.cards_base import (
    STYLES,
    Element,
    action_set,
    adaptive_card,
    card_size_ok,
    fit_count,
    heading,
    safe,
    show_card,
    split_text,
    subtle,
    text_blocks,
    text_input,
    title,
)
from core.cards import ActionId, Card, CardAction, CardLine
from core.facts import MAX_FACT_CHARS
from core.handoffs import MAX_REASON_CHARS

MAX_OUTCOME_NOTES = 2_000
LONG_LINE_CHARS = 3_000  # a longer line shows its start on an oversized card; the whole goes to overflow


@dataclass(frozen=True, kw_only=True)
class CardRender:
    """A card that fits one Teams message, plus text that did not fit (already escaped); post each
    overflow text after the card, split with `message_chunks`."""

    card: dict[str, Any]
    overflow: tuple[str, ...] = ()


def render_lane(card: Card, *, targets: Sequence[tuple[int, str]] = ()) -> CardRender:
    """`targets` are the (member id, name) pairs the escalation form offers."""
    return fit(card, lambda c: render_card(c, targets))


def fit(card: Card, render: Callable[[Card], dict[str, Any]]) -> CardRender:
    """Render in full when it fits; else cap long lines, then move trailing lines without buttons."""
    full = render(card)
    if card_size_ok(full):
        return CardRender(card=full)
    sections = list(card.sections)
    capped: dict[tuple[int, int], str] = {}
    for i, section in enumerate(sections):
        lines = list(section.lines)
        for j, line in enumerate(lines):
            if len(line.text) > LONG_LINE_CHARS:
                head = split_text(line.text, 2 * LONG_LINE_CHARS)[0]
                lines[j] = replace(line, text=head + t.LINE_CONTINUED.format(n=len(line.text) - len(head)))
                capped[(i, j)] = line.text
        sections[i] = replace(section, lines=tuple(lines))
    moved: dict[int, list[str]] = {}
    candidate = replace(card, sections=tuple(sections))
    rendered = render(candidate)
    by_size = sorted(range(len(sections)), key=lambda i: -sum(len(line.text) for line in sections[i].lines))
    for i in by_size:
        if card_size_ok(rendered):
            break
        free = [j for j, line in enumerate(sections[i].lines) if not line.actions]
        if not free:
            continue

        def with_kept(k: int, i: int = i, base: Card = candidate, free: list[int] = free) -> Card:
            """`base` with only the first k button-less lines of section i, and a count of the rest."""
            original = base.sections[i]
            drop = set(free[k:])
            lines = tuple(line for j, line in enumerate(original.lines) if j not in drop)
            if drop:
                lines += (CardLine(text=t.MORE_LINES.format(n=len(drop))),)
            return replace(base, sections=tuple(replace(original, lines=lines) if n == i else s
                                                for n, s in enumerate(base.sections)))

        kept = fit_count(lambda k: render(with_kept(k)), len(free))
        moved[i] = [card.sections[i].lines[j].text for j in free[kept:]]
        for j in free[kept:]:
            capped.pop((i, j), None)
        candidate = with_kept(kept)
        rendered = render(candidate)
    overflow: list[str] = []
    for i, section in enumerate(card.sections):
        head = t.OVERFLOW_SECTION.format(heading=section.heading)
        overflow += [f"{head}\n\n{text}" for (n, _), text in sorted(capped.items()) if n == i]
        if moved.get(i):
            overflow.append(head + "\n\n" + "\n\n".join(moved[i]))
    return CardRender(card=rendered, overflow=tuple(safe(text) for text in overflow))


def render_card(card: Card, targets: Sequence[tuple[int, str]] = ()) -> dict[str, Any]:
    """The neutral card as it stands, whatever its size."""
    body: list[Element] = [*title(card.title), *subtle(card.status_line)]
    for section in card.sections:
        body += heading(section.heading)
        if not section.lines:
            body += subtle(section.empty_text)
        for line in section.lines:
            body += _line(line)
        if section.actions:
            body.append(action_set([_button(a, targets) for a in section.actions]))
    if card.banner is not None:
        items = text_blocks(card.banner.text, weight="Bolder")
        if card.banner.actions:
            items.append(action_set([_button(a, targets) for a in card.banner.actions]))
        body.append({"type": "Container", "style": "warning", "separator": True, "spacing": "Medium", "items": items})
    actions = [_button(a, targets) for a in card.actions]
    open_session = next((a for a in card.actions if a.id == ActionId.PREVIEW_RESOLVE), None)
    if open_session is not None:  # facts can be added while the session is worked (active or parked)
        actions.append(_add_fact(open_session.session_id))
    return adaptive_card(body, actions)


def _line(line: CardLine) -> list[Element]:
    blocks = text_blocks(line.text, spacing="Small")
    if not line.actions:
        return blocks
    return [{"type": "ColumnSet", "spacing": "Small", "columns": [
        {"type": "Column", "width": "stretch", "verticalContentAlignment": "Center", "items": blocks},
        {"type": "Column", "width": "auto", "verticalContentAlignment": "Center",
         "items": [action_set([_button(a, ()) for a in line.actions])]},
    ]}]


def _button(action: CardAction, targets: Sequence[tuple[int, str]]) -> Element:
    style = STYLES.get(action.style or "")
    sid, ref = action.session_id, action.ref
    if action.id == ActionId.FIX_PARTIAL:
        return show_card(action.label, [
            text_input(INPUT_PARTIAL_NOTES, t.PARTIAL_LABEL, max_length=MAX_OUTCOME_NOTES, multiline=True,
                       required=True, error=t.REQUIRED),
        ], execute(FormAction.POST_PARTIAL, t.PARTIAL_SUBMIT, sid, ref, style="positive"), style=style)
    if action.id == ActionId.FIX_FAILED:
        return show_card(action.label, [
            text_input(INPUT_FAILURE_REASON, t.FAILED_LABEL, max_length=MAX_OUTCOME_NOTES, multiline=True),
        ], execute(FormAction.POST_FAILED, t.FAILED_SUBMIT, sid, ref, style="destructive"), style=style)
    if action.id == ActionId.ESCALATE:
        return show_card(action.label, _escalation_form(targets),
                         execute(FormAction.POST_ESCALATION, t.ESCALATE_SUBMIT, sid, style="positive"), style=style)
    confirm = action.id == ActionId.CONFIRM_ITEM and action.label_ref
    tooltip = t.CONFIRM_TOOLTIP.format(ref=action.label_ref) if confirm else None
    return execute(action.id, action.label, sid, ref, style=style, tooltip=tooltip)


def _escalation_form(targets: Sequence[tuple[int, str]]) -> list[Element]:
    form = [text_input(INPUT_REASON, t.ESCALATE_REASON_LABEL, max_length=MAX_REASON_CHARS, multiline=True,
                       required=True, error=t.REQUIRED)]
    if targets:  # the value is the member id as text; "" (the placeholder) means anyone
        form.append({"type": "Input.ChoiceSet", "id": INPUT_TARGET, "label": t.ESCALATE_TARGET_LABEL,
                     "style": "compact", "placeholder": t.ESCALATE_TARGET_ANYONE, "value": "",
                     "choices": [{"title": safe(name), "value": str(member_id)} for member_id, name in targets]})
    return form


def _add_fact(session_id: int) -> Element:
    return show_card(t.ADD_FACT, [
        text_input(INPUT_FACT_TEXT, t.ADD_FACT_LABEL, max_length=MAX_FACT_CHARS, multiline=True, required=True,
                   error=t.REQUIRED),
    ], execute(FormAction.ADD_FACT, t.ADD_FACT_SUBMIT, session_id, style="positive"))
