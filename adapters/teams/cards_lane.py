"""The neutral task-lane card (core.cards) as one Adaptive Card, fitted under Teams' size limit.

Where Slack opens a modal, Teams unfolds the action's declared form on the card with
`Action.ShowCard` (`cards_forms`): every action that asks its form first, each open question or
check confirmed in the engineer's own words (R4), and a fact to edit or delete, chosen on the card.
A lane too big for one message keeps every button and moves text it cannot hold into `overflow`,
to be posted as messages; the card says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from adapters.teams import cards_text as t
from adapters.teams.card_actions import execute
from adapters.teams.cards_base import (
    STYLES,
    Element,
    action_set,
    adaptive_card,
    card_size_ok,
    fit_count,
    heading,
    safe,
    split_text,
    subtle,
    text_blocks,
    title,
)
from adapters.teams.cards_forms import Members, choice_button, form_button
from core.actions import SPECS, ActionId
from core.cards import Card, CardAction, CardLine

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


def render_card(card: Card, targets: Members = ()) -> dict[str, Any]:
    """The neutral card as it stands, whatever its size."""
    body: list[Element] = [*title(card.title), *subtle(card.status_line)]
    for section in card.sections:
        body += heading(section.heading)
        if not section.lines:
            body += subtle(section.empty_text)
        for line in section.lines:
            body += _line(line)
        controls = [_button(a, targets) for a in section.actions]
        controls += [choice_button(c, style=STYLES.get(c.style or "")) for c in section.choices]
        if controls:
            body.append(action_set(controls))
    if card.banner is not None:
        items = text_blocks(card.banner.text, weight="Bolder")
        if card.banner.actions:
            items.append(action_set([_button(a, targets) for a in card.banner.actions]))
        body.append({"type": "Container", "style": "warning", "separator": True, "spacing": "Medium", "items": items})
    return adaptive_card(body, [_button(a, targets) for a in card.actions])


def _line(line: CardLine) -> list[Element]:
    blocks = text_blocks(line.text, spacing="Small")
    if not line.actions:
        return blocks
    row = [{"type": "ColumnSet", "spacing": "Small", "columns": [
        {"type": "Column", "width": "stretch", "verticalContentAlignment": "Center", "items": blocks},
        {"type": "Column", "width": "auto", "verticalContentAlignment": "Center",
         "items": [action_set([_button(a, ()) for a in line.actions])]},
    ]}]
    # Below the row, full width: each open question or check confirmed in the engineer's own words,
    # which needs no assistant (R4, R16). The one-click Confirm lets the assistant word the fact.
    own_words = [form_button(t.CONFIRM_OWN_WORDS, a.id, a.session_id, a.ref)
                 for a in line.actions if a.id == ActionId.CONFIRM_ITEM]
    if own_words:
        row.append({**action_set(own_words), "spacing": "None"})
    return row


def _button(action: CardAction, targets: Members) -> Element:
    style = STYLES.get(action.style or "")
    if SPECS[action.id].form_first:
        return form_button(action.label, action.id, action.session_id, action.ref, members=targets, style=style)
    confirm = action.id == ActionId.CONFIRM_ITEM and action.label_ref
    tooltip = t.CONFIRM_TOOLTIP.format(ref=action.label_ref) if confirm else None
    return execute(action.id, action.label, action.session_id, action.ref, style=style, tooltip=tooltip)
