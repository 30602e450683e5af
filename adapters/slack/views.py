"""Modals (and, re-exported from `home`, the App Home view) as plain view dicts for views.open /
views.update / views.publish. Each view has passed `limits.check_view` before it is returned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from adapters.slack import kit
from adapters.slack import labels as w
from adapters.slack.actions import (
    CHANNEL_BLOCK,
    CHANNEL_INPUT,
    LOADING_CALLBACK,
    MAX_JOIN_CHARS,
    NOTE_BLOCK,
    SETTINGS_CALLBACK,
    TIME_ZONE_BLOCK,
    TIME_ZONE_INPUT,
    ModalMeta,
    action_id,
    encode_metadata,
    note_block_id,
    parse_action_id,
    read_submission,
)
from adapters.slack.home import home_view
from adapters.slack.limits import (
    INPUT_CHARS,
    SECTION_TEXT,
    VIEW_TITLE,
    check_view,
    fit_chunks,
    split_text,
)
from adapters.slack.text import escape, shorten
from adapters.slack.wording import error_text
from core.actions import SPECS, ActionId
from core.errors import InvalidInput
from core.forms import FORMS, FieldKind, Form, FormField, validate
from core.previews import Fallback, Preview
from core.resolution import MAX_SUMMARY_CHARS
from core.time_zones import MAX_TIME_ZONE_CHARS, TIME_ZONE_PREF, check_time_zone

__all__ = [
    "CHANNEL_PREF", "escalate_modal", "form_modal", "home_view", "loading_modal", "member_settings_modal",
    "message_modal", "modal", "note_parts", "read_submission", "resolve_modal", "settings_modal", "settings_values",
    "submission_errors",
]

CHANNEL_PREF = "slack_escalation_channel"
MAX_TARGETS = 100  # a static_select holds at most 100 options
TOGGLE_VALUE = "true"  # a checked toggle, as core's forms read it
Blocks = list[dict[str, Any]]


def modal(title: str, callback_id: str, blocks: list[dict[str, Any]], *, submit: str | None = None,
          metadata: str | None = None) -> dict[str, Any]:
    """A modal view, checked against Slack's rules; without `submit` it only has Close."""
    view: dict[str, Any] = {"type": "modal", "callback_id": callback_id, "title": kit.plain(shorten(title, VIEW_TITLE)),
                            "close": kit.plain(w.CANCEL if submit else w.CLOSE), "blocks": blocks}
    if submit:
        view["submit"] = kit.plain(submit)
    if metadata is not None:
        view["private_metadata"] = metadata
    return check_view(view)


def _modal(title: str, callback_id: str, blocks: list[dict[str, Any]], *, submit: str | None = None,
           meta: ModalMeta | None = None) -> dict[str, Any]:
    return modal(title, callback_id, blocks, submit=submit, metadata=encode_metadata(meta) if meta else None)


def loading_modal(title: str, callback_id: str) -> dict[str, Any]:
    """Opened at once (a trigger_id lives 3 s), then replaced with views.update when the work is done."""
    return _modal(title, callback_id, [kit.section(w.LOADING)])


def message_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (an error while preparing a form, say); Close only."""
    return _modal(title, LOADING_CALLBACK, [kit.section(t) for t in fit_chunks(text, SECTION_TEXT, escape)]
                  or [kit.section(w.MESSAGE_TITLE)])


def note_parts(markdown: str) -> tuple[list[str], tuple[str, ...]]:
    """A note cut into input-sized parts (a plain_text_input holds at most 3000 characters) plus the
    whitespace between them, kept in the metadata: Slack may trim an input's ends, the join may not."""
    chunks = split_text(markdown, INPUT_CHARS) or [""]
    parts: list[str] = []
    joins: list[str] = []
    for chunk in chunks[:-1]:
        body = chunk.rstrip()
        tail = chunk[len(body):]
        if not body or len(tail) > MAX_JOIN_CHARS:  # an odd whitespace run stays inside its part
            body, tail = chunk, ""
        parts.append(body)
        joins.append(tail)
    parts.append(chunks[-1])
    return parts, tuple(joins)


def form_of(action: ActionId) -> Form:
    form = SPECS[action].form
    if form is None:
        raise ValueError(f"{action} takes no form")
    return FORMS[form]


def _split(field: FormField) -> bool:
    """A field longer than one box (a plain_text_input holds 3000 characters) is split over several."""
    return field.kind == FieldKind.LONG_TEXT and (field.max_chars or 0) > INPUT_CHARS


def block_of(field: FormField) -> str:
    """The input block a field's errors are shown on: the field's name, or the first box of a split one."""
    return note_block_id(1) if _split(field) else field.name


def _text(field: FormField, text: str | None) -> Blocks:
    """One box; a text longer than the field may hold is shown in full above an empty box, never cut."""
    blocks: Blocks = []
    if text and field.max_chars is not None and len(text) > field.max_chars:
        blocks.append(kit.context(w.TEXT_TOO_LONG.format(chars=f"{len(text):,}", max=f"{field.max_chars:,}")))
        blocks += [kit.section(t) for t in fit_chunks(text, SECTION_TEXT, escape)]
        text = None
    element = kit.text_input(f"{field.name}_input", initial=text, multiline=field.kind == FieldKind.LONG_TEXT,
                             max_length=min(field.max_chars or INPUT_CHARS, INPUT_CHARS), placeholder=field.placeholder)
    return blocks + [kit.input_block(field.name, field.label, element, optional=not field.required, hint=field.help)]


def _long_text(field: FormField, text: str) -> tuple[Blocks, tuple[str, ...]]:
    """R15: a note to edit, split over several boxes when long (never cut), joined back on submission."""
    if field.name != NOTE_BLOCK:
        raise ValueError(f"only the note is split over boxes, not {field.name!r}")
    parts, joins = note_parts(text)
    blocks: Blocks = []
    if len(parts) > 1:
        blocks.append(kit.context(w.NOTE_SPLIT.format(chars=f"{len(text):,}", box=f"{INPUT_CHARS:,}", n=len(parts))))
    if field.max_chars is not None and len(text.strip()) > field.max_chars:
        blocks.append(kit.context(w.NOTE_TOO_LONG.format(chars=f"{len(text.strip()):,}", max=f"{field.max_chars:,}")))
    for k, part in enumerate(parts, start=1):
        label = field.label if len(parts) == 1 else w.PART_LABEL.format(label=field.label, k=k, n=len(parts))
        element = kit.text_input(f"{field.name}_input", initial=part, multiline=True, max_length=INPUT_CHARS)
        blocks.append(kit.input_block(note_block_id(k), label, element, optional=k > 1 or not field.required,
                                      hint=field.help if k == 1 else None))
    return blocks, joins


def _search(field: FormField, action_id: str) -> Blocks:
    """A text field whose value is picked from what the PSA finds as the person types (a ticket):
    an external_select, its options answered by a block_suggestion request (on_psa.py)."""
    select = kit.external_select(action_id, placeholder=w.TICKET_PLACEHOLDER, min_query_length=1)
    return [kit.input_block(field.name, field.label, select, optional=not field.required, hint=w.TICKET_HINT)]


def form_modal(action: ActionId, meta: ModalMeta, *, initial: Mapping[str, str | None] | None = None,
               head: Blocks | None = None, members: Sequence[tuple[int, str]] = (),
               toggles: Mapping[str, str] | None = None, searches: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The modal of an action's form, from core's declaration (core/forms.py): title, fields, labels,
    limits, required and help. `initial` fills fields in; `members` are a member field's choices and
    `toggles` a toggle's option text (a member field without choices, a toggle without text, is left out);
    `searches` maps a text field to the external select (its action_id) it is picked with instead."""
    form = form_of(action)
    initial = initial or {}
    blocks: Blocks = ([kit.context(escape(form.intro))] if form.intro else []) + list(head or [])
    joins: tuple[str, ...] = ()
    for field in form.fields:
        optional = not field.required
        if field.kind == FieldKind.TOGGLE:
            if (toggles or {}).get(field.name):
                box = {"type": "checkboxes", "action_id": f"{field.name}_input",
                       "options": [kit.option((toggles or {})[field.name], TOGGLE_VALUE)]}
                blocks.append(kit.input_block(field.name, field.label, box, optional=True, hint=field.help))
        elif field.kind == FieldKind.MEMBER:
            if members:
                select = {"type": "static_select", "action_id": f"{field.name}_input",
                          "placeholder": kit.plain(field.placeholder or w.MEMBER_PLACEHOLDER),
                          "options": [kit.option(name, str(member_id)) for member_id, name in members[:MAX_TARGETS]]}
                blocks.append(kit.input_block(field.name, field.label, select, optional=optional, hint=field.help))
            if len(members) > MAX_TARGETS:
                blocks.append(kit.context(w.TARGETS_CUT.format(shown=MAX_TARGETS, total=len(members))))
        elif field.name in (searches or {}):
            blocks += _search(field, (searches or {})[field.name])
        elif _split(field):
            parts, joins = _long_text(field, initial.get(field.name) or "")
            blocks += parts
        else:
            blocks += _text(field, initial.get(field.name))
    return _modal(form.title, action_id(action), blocks, submit=form.submit, meta=replace(meta, joins=joins))


def _preview_head(preview: Preview, head: str) -> Blocks:
    blocks = [kit.context(head)]
    if preview.fallback is Fallback.GROUNDING:
        blocks.append(kit.context(w.DETERMINISTIC_UNGROUNDED))
    elif preview.composed_by == "deterministic":
        reason = f" ({escape(shorten(preview.fallback_reason, 200))})" if preview.fallback_reason else ""
        blocks.append(kit.context(w.DETERMINISTIC.format(reason=reason)))
    return blocks


def resolve_modal(preview: Preview, *, summary_default: str, offer_time_minutes: int | None) -> dict[str, Any]:
    """R15: the note to edit before posting, the summary, and the optional time entry."""
    head = w.RESOLVE_HEAD.format(id=preview.session_id, version=preview.state_version,
                                 cached=w.CACHED if preview.cached else "")
    toggles = {"log_time": w.TIME_OPTION.format(minutes=offer_time_minutes)} if offer_time_minutes is not None else None
    return form_modal(ActionId.RESOLVE, ModalMeta(session_id=preview.session_id, version=preview.state_version),
                      initial={"note": preview.markdown, "summary": shorten(summary_default, MAX_SUMMARY_CHARS)},
                      head=_preview_head(preview, head), toggles=toggles)


def escalate_modal(preview: Preview, *, targets: Sequence[tuple[int, str]]) -> dict[str, Any]:
    """R21: reason, optional colleague, and the package it will post, to edit."""
    head = w.PACKAGE_HEAD.format(id=preview.session_id, version=preview.state_version)
    return form_modal(ActionId.ESCALATE, ModalMeta(session_id=preview.session_id, version=preview.state_version),
                      initial={"note": preview.markdown}, head=_preview_head(preview, head), members=targets)


def settings_modal(prefs: dict[str, Any], *, psa_panel: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """`/rf settings` (admins): escalation channel and the time zone, then the PSA's panel (its
    buttons push the connection, statuses per board, time entries and member modals: psa_views.py)."""
    channel: dict[str, Any] = {"type": "conversations_select", "action_id": CHANNEL_INPUT,
                               "default_to_current_conversation": False,
                               "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    if prefs.get(CHANNEL_PREF):
        channel["initial_conversation"] = str(prefs[CHANNEL_PREF])
    blocks = [kit.input_block(CHANNEL_BLOCK, w.CHANNEL_LABEL, channel, optional=True, hint=w.CHANNEL_HINT)]
    zone = kit.text_input(TIME_ZONE_INPUT, initial=str(prefs.get(TIME_ZONE_PREF) or "") or None,
                          max_length=MAX_TIME_ZONE_CHARS, placeholder=w.TIME_ZONE_PLACEHOLDER)
    blocks.append(kit.input_block(TIME_ZONE_BLOCK, w.TIME_ZONE_LABEL, zone, optional=True, hint=w.TIME_ZONE_HINT))
    return _modal(w.SETTINGS_TITLE, SETTINGS_CALLBACK, blocks + list(psa_panel), submit=w.SAVE)


def member_settings_modal(psa: str, psa_panel: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """`/rf settings` for everyone else: their own PSA member only (nothing to submit)."""
    return _modal(w.SETTINGS_TITLE, SETTINGS_CALLBACK, [kit.context(w.ADMINS_ONLY.format(psa=psa)), *psa_panel])


def settings_values(values: Mapping[str, str | None]) -> dict[str, Any]:
    """A checked settings submission (see submission_errors) → the preference values to store."""
    zone = (values.get(TIME_ZONE_BLOCK) or "").strip()
    return {CHANNEL_PREF: values.get(CHANNEL_BLOCK) or None,
            **({TIME_ZONE_PREF: zone} if zone else {})}  # left empty: the account keeps its zone


def submission_errors(callback: str, values: Mapping[str, str | None]) -> dict[str, str]:
    """Slack's inline errors (`ack(response_action="errors", errors=...)`), keyed by block id: core
    validates the form, as perform will, and the field it names is mapped back to its block. The
    settings (not a core form) are checked here. An unknown callback raises ValueError."""
    if callback != SETTINGS_CALLBACK:
        form = form_of(parse_action_id(callback))
        try:
            validate(form, values)
        except InvalidInput as exc:
            field = next((f for f in form.fields if f.name == exc.field), form.fields[0])
            return {block_of(field): error_text(exc)}
        return {}
    errors: dict[str, str] = {}
    zone = (values.get(TIME_ZONE_BLOCK) or "").strip()
    if zone:
        try:
            check_time_zone(zone)  # core's rule, so the box says it before anything is saved
        except InvalidInput as exc:
            errors[TIME_ZONE_BLOCK] = error_text(exc)
    return errors
