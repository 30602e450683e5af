"""A neutral card model of the task lane. Slack renders it as Block Kit, Teams as an Adaptive Card,
the console as text; the engine decides what is shown and which actions exist, once."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core.actions import ActionId
from core.labels import FIX_STATUS_LABELS, OUTCOME_LABELS
from core.machines import FixEvent, SessionEvent, fix_offers, session_accepts_changes, session_offers
from core.models import FactSource, FixAuthor, FixStatus, ItemKind, ItemStatus, Session
from core.sessions import SessionView


@dataclass(frozen=True, kw_only=True)
class CardAction:
    """A button. `ref` names the object it acts on by id (R3), never by position."""

    id: ActionId
    label: str
    session_id: int
    ref: int | None = None
    label_ref: str | None = None
    style: str | None = None


@dataclass(frozen=True, kw_only=True)
class CardChoice:
    """An action on one object picked from a list (which fact to edit or delete): a select in Slack,
    a choice on a card in Teams. `options` are (object id, text) pairs, latest last."""

    id: ActionId
    label: str
    session_id: int
    options: tuple[tuple[int, str], ...]
    style: str | None = None


@dataclass(frozen=True, kw_only=True)
class CardLine:
    text: str
    actions: tuple[CardAction, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CardSection:
    heading: str
    lines: tuple[CardLine, ...]
    empty_text: str = "Nothing yet."
    actions: tuple[CardAction, ...] = ()
    choices: tuple[CardChoice, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Card:
    title: str
    status_line: str
    sections: tuple[CardSection, ...]
    banner: CardLine | None = None
    actions: tuple[CardAction, ...] = field(default=())




# The button of each control core.machines offers: action, label, style.
SESSION_BUTTONS: dict[SessionEvent, tuple[ActionId, str, str | None]] = {
    SessionEvent.RESOLVE: (ActionId.PREVIEW_RESOLVE, "Preview resolution", "primary"),
    SessionEvent.ESCALATE: (ActionId.ESCALATE, "Escalate", None),
    SessionEvent.PARK: (ActionId.PARK, "Park", None),
    SessionEvent.PICKUP: (ActionId.PICKUP, "Pick up", "primary"),
}
MAX_CHOICES = 100  # the latest objects a choice offers (a Slack select holds 100 options)
OPTION_CHARS = 75  # Slack cuts an option's text at 75 characters
ADD_FACT, EDIT_FACT, DELETE_FACT = "Add a fact", "Edit a fact…", "Delete a fact…"
ADD_FIX, LINK_TICKET, RETRY_WRITEBACK = "Propose a fix", "Link a ticket", "Retry the writeback"
FIX_BUTTONS: dict[FixEvent, tuple[ActionId, str, str | None]] = {
    FixEvent.APPLY: (ActionId.APPLY_FIX, "Apply", "primary"),
    FixEvent.WORKED: (ActionId.FIX_WORKED, "Worked", None),
    FixEvent.FAILED: (ActionId.FIX_FAILED, "Didn't work", "danger"),
    FixEvent.PARTIAL: (ActionId.FIX_PARTIAL, "Partly", None),
    FixEvent.DISMISS: (ActionId.FIX_DISMISS, "Dismiss", None),
}


def lane_card(view: SessionView) -> Card:
    s = view.session
    sid = s.id or 0
    handler = view.handler.name if view.handler else "nobody"
    status = f"{str(s.status).capitalize()} · handler {handler}" + (f" · {ticket_line(s)}" if s.ticket_ref else "")
    facts = tuple(CardLine(text=f"{f.label} {f.text}") for f in view.facts)
    open_items = [i for i in view.items if i.status == ItemStatus.OPEN]
    closed = not session_accepts_changes(s.status)

    def item_lines(kind: ItemKind) -> tuple[CardLine, ...]:
        return tuple(
            CardLine(text=f"{i.label} {i.text}", actions=() if closed else (
                CardAction(id=ActionId.CONFIRM_ITEM, label="Confirm", session_id=sid, ref=i.id, label_ref=i.label),
                *((CardAction(id=ActionId.DISMISS_ITEM, label="Dismiss", session_id=sid, ref=i.id, label_ref=i.label),)
                  if kind == ItemKind.FACT else ())))
            for i in open_items if i.kind == kind)

    proposed = item_lines(ItemKind.FACT)
    sections = [
        _facts_section(view, facts, closed),
        *((CardSection(heading="Proposed facts — confirm what is true", lines=proposed),) if proposed else ()),
        CardSection(heading="Questions", lines=item_lines(ItemKind.QUESTION), empty_text="No open questions."),
        CardSection(heading="Checks", lines=item_lines(ItemKind.CHECK), empty_text="No open checks."),
        _fix_section(view, closed),
    ]
    banner = None
    fix = view.active_fix
    if fix is not None and fix.outcome_proposal and not closed:
        word = OUTCOME_LABELS.get(str(fix.outcome_proposal.get("outcome")), "changed")
        banner = CardLine(text=f"Confirm outcome? The assistant read that the fix {word}.", actions=(
            CardAction(id=ActionId.OUTCOME_CONFIRM, label="Confirm", session_id=sid, ref=fix.id, style="primary"),
            CardAction(id=ActionId.OUTCOME_NOT_YET, label="Not yet", session_id=sid, ref=fix.id)))
    pickup_ref = view.escalation.id if view.escalation else None
    actions = tuple(CardAction(id=SESSION_BUTTONS[e][0], label=SESSION_BUTTONS[e][1], style=SESSION_BUTTONS[e][2],
                               session_id=sid, ref=pickup_ref if e is SessionEvent.PICKUP else None)
                    for e in session_offers(s.status))
    if not closed and s.ticket_ref is None:
        actions += (CardAction(id=ActionId.LINK_TICKET, label=LINK_TICKET, session_id=sid),)
    if view.writeback_failed:
        actions += (CardAction(id=ActionId.RETRY_WRITEBACK, label=RETRY_WRITEBACK, session_id=sid, style="primary"),)
    return Card(title=f"#{sid} {s.title}", status_line=status, sections=tuple(sections), banner=banner, actions=actions)


def ticket_line(session: Session) -> str:
    """The linked ticket as the lane shows it: number, summary, company, board, status."""
    info = session.ticket_info or {}
    details = " · ".join(str(info[k]) for k in ("company", "board", "status") if info.get(k))
    summary = f" {info['summary']}" if info.get("summary") else ""
    return f"ticket #{session.ticket_ref}{summary}" + (f" ({details})" if details else "")


def _facts_section(view: SessionView, lines: tuple[CardLine, ...], closed: bool) -> CardSection:
    """R5: notes are edited directly, promoted facts through their source item; any fact is deleted
    (softly). Nothing is offered once the session is closed."""
    section = CardSection(heading="What we know", lines=lines, empty_text="No facts yet.")
    if closed:
        return section
    sid = view.session.id or 0
    live = [f for f in view.facts if f.deleted_at is None and f.id is not None]
    notes = tuple((f.id or 0, _option(f"{f.label} {f.text}")) for f in live if f.source == FactSource.NOTE)[-MAX_CHOICES:]
    every = tuple((f.id or 0, _option(f"{f.label} {f.text}")) for f in live)[-MAX_CHOICES:]
    choices = tuple(choice for choice in (
        CardChoice(id=ActionId.EDIT_FACT, label=EDIT_FACT, session_id=sid, options=notes),
        CardChoice(id=ActionId.DELETE_FACT, label=DELETE_FACT, session_id=sid, options=every, style="danger"),
    ) if choice.options)
    return replace(section, actions=(CardAction(id=ActionId.ADD_FACT, label=ADD_FACT, session_id=sid),), choices=choices)


def _option(text: str) -> str:
    """An option names its object; the object itself is shown in full in its section."""
    flat = " ".join(text.split())
    return flat if len(flat) <= OPTION_CHARS else flat[: OPTION_CHARS - 1].rstrip() + "…"


def _fix_section(view: SessionView, closed: bool) -> CardSection:
    fix = view.active_fix
    sid = view.session.id or 0
    propose = () if closed else (CardAction(id=ActionId.ADD_FIX, label=ADD_FIX, session_id=sid),)
    if fix is None:
        return CardSection(heading="Suggested fix", lines=(), empty_text="No fix suggested yet.", actions=propose)
    who = "engineer's fix" if fix.author == FixAuthor.ENGINEER else f"confidence {fix.confidence}%"
    state = FIX_STATUS_LABELS.get(FixStatus(fix.status), str(fix.status))
    if fix.status == FixStatus.PROPOSED and fix.applied_at:
        state = "applied, verifying"
    lines = [CardLine(text=f"{fix.title} ({who}) — {state}"), CardLine(text=fix.description)]
    if fix.partial_notes:
        lines.append(CardLine(text=f"Partly: {fix.partial_notes}"))
    if fix.failure_reason:
        lines.append(CardLine(text=f"Why it failed: {fix.failure_reason}"))
    if fix.script:
        lines.append(CardLine(text=f"Script ({fix.script_language or 'script'}) drafted, {len(fix.script_params)} parameter(s)."))
    actions = () if closed else tuple(
        CardAction(id=FIX_BUTTONS[e][0], label=FIX_BUTTONS[e][1], style=FIX_BUTTONS[e][2], session_id=sid, ref=fix.id)
        for e in fix_offers(fix.status, applied=fix.applied_at is not None))
    return CardSection(heading="Suggested fix", lines=tuple(lines), actions=(*actions, *propose))
