"""Modals (and, re-exported from `home`, the App Home view) as plain view dicts for views.open /
views.update / views.publish. Each view has passed `limits.check_view` before it is returned."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.slack import kit
from adapters.slack import labels as w
from adapters.slack.actions import (
    CHANNEL_BLOCK,
    CHANNEL_INPUT,
    ESCALATE_CALLBACK,
    ESCALATED_STATUS_BLOCK,
    ESCALATED_STATUS_INPUT,
    FACT_CALLBACK,
    FAILED_CALLBACK,
    LOADING_CALLBACK,
    MAX_JOIN_CHARS,
    NOTE_BLOCK,
    NOTE_INPUT,
    PARTIAL_CALLBACK,
    REASON_BLOCK,
    REASON_INPUT,
    RESOLVE_CALLBACK,
    RESOLVED_STATUS_BLOCK,
    RESOLVED_STATUS_INPUT,
    SETTINGS_CALLBACK,
    SUMMARY_BLOCK,
    SUMMARY_INPUT,
    TARGET_BLOCK,
    TARGET_INPUT,
    TEXT_BLOCK,
    TEXT_INPUT,
    TIME_BLOCK,
    TIME_ENTRIES_BLOCK,
    TIME_ENTRIES_INPUT,
    TIME_ENTRIES_VALUE,
    TIME_INPUT,
    TIME_LOG_VALUE,
    ModalMeta,
    encode_metadata,
    note_block_id,
    read_submission,
)
from adapters.slack.home import home_view
from adapters.slack.limits import INPUT_CHARS, SECTION_TEXT, VIEW_TITLE, check_view, fit_chunks, split_text
from adapters.slack.text import escape, shorten, user_mrkdwn
from core.facts import MAX_FACT_CHARS
from core.handoffs import MAX_REASON_CHARS
from core.models import WriteupKind
from core.previews import Preview
from core.resolution import MAX_NOTE_CHARS, MAX_SUMMARY_CHARS, TIME_PREF
from core.writeback import STATUS_PREF

__all__ = [
    "CHANNEL_PREF", "escalate_modal", "fact_modal", "failed_modal", "home_view", "loading_modal", "message_modal",
    "note_parts", "partial_modal", "read_submission", "resolve_modal", "settings_modal", "settings_values",
    "submission_errors",
]

CHANNEL_PREF = "slack_escalation_channel"
RESOLVED_STATUS_PREF = STATUS_PREF[WriteupKind.RESOLVE]
ESCALATED_STATUS_PREF = STATUS_PREF[WriteupKind.ESCALATE]
MAX_TARGETS = 100  # a static_select holds at most 100 options
MAX_FIX_TEXT = INPUT_CHARS  # partial notes and failure reasons: one input box


def _modal(title: str, callback_id: str, blocks: list[dict[str, Any]], *, submit: str | None = None,
           meta: ModalMeta | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {"type": "modal", "callback_id": callback_id, "title": kit.plain(shorten(title, VIEW_TITLE)),
                            "close": kit.plain(w.CANCEL if submit else w.CLOSE), "blocks": blocks}
    if submit:
        view["submit"] = kit.plain(submit)
    if meta is not None:
        view["private_metadata"] = encode_metadata(meta)
    return check_view(view)


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


def resolve_modal(preview: Preview, *, summary_default: str, offer_time_minutes: int | None) -> dict[str, Any]:
    """R15: the note to edit before posting (split over several boxes when long, never cut), the
    summary, and the optional time entry. Submission: read_submission(values, joins=meta.joins)."""
    parts, joins = note_parts(preview.markdown)
    head = w.RESOLVE_HEAD.format(id=preview.session_id, version=preview.state_version,
                                 cached=w.CACHED if preview.cached else "")
    blocks: list[dict[str, Any]] = [kit.context(head)]
    if preview.composed_by == "deterministic":
        reason = f" ({escape(shorten(preview.fallback_reason, 200))})" if preview.fallback_reason else ""
        blocks.append(kit.context(w.DETERMINISTIC.format(reason=reason)))
    if len(parts) > 1:
        blocks.append(kit.context(w.NOTE_SPLIT.format(chars=f"{len(preview.markdown):,}", box=f"{INPUT_CHARS:,}",
                                                      n=len(parts))))
    if len(preview.markdown.strip()) > MAX_NOTE_CHARS:
        blocks.append(kit.context(w.NOTE_TOO_LONG.format(chars=f"{len(preview.markdown.strip()):,}",
                                                         max=f"{MAX_NOTE_CHARS:,}")))
    for k, part in enumerate(parts, start=1):
        label = w.NOTE_LABEL if len(parts) == 1 else w.NOTE_PART_LABEL.format(k=k, n=len(parts))
        element = kit.text_input(NOTE_INPUT, initial=part, multiline=True, max_length=INPUT_CHARS)
        blocks.append(kit.input_block(note_block_id(k), label, element, optional=k > 1))
    summary = kit.text_input(SUMMARY_INPUT, initial=shorten(summary_default, MAX_SUMMARY_CHARS) if summary_default else None,
                             max_length=MAX_SUMMARY_CHARS)
    blocks.append(kit.input_block(SUMMARY_BLOCK, w.SUMMARY_LABEL, summary, optional=True,
                                  hint=w.SUMMARY_HINT.format(max=MAX_SUMMARY_CHARS)))
    if offer_time_minutes is not None:
        checkbox = {"type": "checkboxes", "action_id": TIME_INPUT,
                    "options": [kit.option(w.TIME_OPTION.format(minutes=offer_time_minutes), TIME_LOG_VALUE)]}
        blocks.append(kit.input_block(TIME_BLOCK, w.TIME_LABEL, checkbox, optional=True))
    meta = ModalMeta(session_id=preview.session_id, version=preview.state_version, joins=joins)
    return _modal(w.RESOLVE_TITLE, RESOLVE_CALLBACK, blocks, submit=w.POST, meta=meta)


def escalate_modal(*, session_id: int, version: int, package_preview: str,
                   targets: list[tuple[int, str]]) -> dict[str, Any]:
    """R21: reason, optional colleague, and the package it will post, shown read-only."""
    reason = kit.text_input(REASON_INPUT, multiline=True, max_length=MAX_REASON_CHARS)
    blocks: list[dict[str, Any]] = [kit.input_block(REASON_BLOCK, w.REASON_LABEL, reason)]
    if targets:
        select = {"type": "static_select", "action_id": TARGET_INPUT, "placeholder": kit.plain(w.TARGET_PLACEHOLDER),
                  "options": [kit.option(name, str(member_id)) for member_id, name in targets[:MAX_TARGETS]]}
        blocks.append(kit.input_block(TARGET_BLOCK, w.TARGET_LABEL, select, optional=True))
        if len(targets) > MAX_TARGETS:
            blocks.append(kit.context(w.TARGETS_CUT.format(shown=MAX_TARGETS, total=len(targets))))
    blocks += [kit.divider(), kit.section(w.PACKAGE_HEAD.format(id=session_id, version=version))]
    blocks += [kit.section(t) for t in fit_chunks(package_preview, SECTION_TEXT, user_mrkdwn)]
    return _modal(w.ESCALATE_TITLE, ESCALATE_CALLBACK, blocks, submit=w.POST,
                  meta=ModalMeta(session_id=session_id, version=version))


def partial_modal(session_id: int, fix_id: int) -> dict[str, Any]:
    """R10: partly worked needs notes."""
    element = kit.text_input(TEXT_INPUT, multiline=True, max_length=MAX_FIX_TEXT)
    return _modal(w.PARTIAL_TITLE, PARTIAL_CALLBACK, [kit.input_block(TEXT_BLOCK, w.PARTIAL_LABEL, element)],
                  submit=w.SAVE, meta=ModalMeta(session_id=session_id, fix_id=fix_id))


def failed_modal(session_id: int, fix_id: int) -> dict[str, Any]:
    """R10: didn't work takes a reason (optional)."""
    element = kit.text_input(TEXT_INPUT, multiline=True, max_length=MAX_FIX_TEXT)
    return _modal(w.FAILED_TITLE, FAILED_CALLBACK, [kit.input_block(TEXT_BLOCK, w.FAILED_LABEL, element, optional=True)],
                  submit=w.SAVE, meta=ModalMeta(session_id=session_id, fix_id=fix_id))


def fact_modal(session_id: int, fact_id: int | None, text: str = "") -> dict[str, Any]:
    """Add a note fact (fact_id None) or edit one. A text longer than a fact may be is shown in full
    above an empty box rather than cut to fit the box."""
    blocks: list[dict[str, Any]] = []
    initial: str | None = text
    if len(text) > MAX_FACT_CHARS:
        blocks.append(kit.context(w.FACT_TOO_LONG.format(chars=f"{len(text):,}", max=f"{MAX_FACT_CHARS:,}")))
        blocks += [kit.section(t) for t in fit_chunks(text, SECTION_TEXT, escape)]
        initial = None
    element = kit.text_input(TEXT_INPUT, initial=initial, multiline=True, max_length=MAX_FACT_CHARS)
    blocks.append(kit.input_block(TEXT_BLOCK, w.FACT_LABEL, element))
    title = w.FACT_ADD_TITLE if fact_id is None else w.FACT_EDIT_TITLE
    return _modal(title, FACT_CALLBACK, blocks, submit=w.SAVE, meta=ModalMeta(session_id=session_id, fact_id=fact_id))


def settings_modal(prefs: dict[str, Any]) -> dict[str, Any]:
    """`/rf settings` (admins): escalation channel, the ConnectWise status ids and time entries.
    Pref keys: slack_escalation_channel, cw_resolved_status_id, cw_escalated_status_id, cw_time_entries."""
    channel: dict[str, Any] = {"type": "conversations_select", "action_id": CHANNEL_INPUT,
                               "default_to_current_conversation": False,
                               "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    if prefs.get(CHANNEL_PREF):
        channel["initial_conversation"] = str(prefs[CHANNEL_PREF])
    blocks = [kit.input_block(CHANNEL_BLOCK, w.CHANNEL_LABEL, channel, optional=True, hint=w.CHANNEL_HINT)]
    for block_id, action, label, key in ((RESOLVED_STATUS_BLOCK, RESOLVED_STATUS_INPUT, w.RESOLVED_STATUS_LABEL,
                                          RESOLVED_STATUS_PREF),
                                         (ESCALATED_STATUS_BLOCK, ESCALATED_STATUS_INPUT, w.ESCALATED_STATUS_LABEL,
                                          ESCALATED_STATUS_PREF)):
        current = prefs.get(key)
        element = kit.text_input(action, initial=str(current) if current not in (None, "", False) else None,
                                 max_length=18)
        blocks.append(kit.input_block(block_id, label, element, optional=True, hint=w.STATUS_HINT))
    time_option = kit.option(w.TIME_ENTRIES_OPTION, TIME_ENTRIES_VALUE)
    checkbox: dict[str, Any] = {"type": "checkboxes", "action_id": TIME_ENTRIES_INPUT, "options": [time_option]}
    if prefs.get(TIME_PREF) is True:
        checkbox["initial_options"] = [time_option]
    blocks.append(kit.input_block(TIME_ENTRIES_BLOCK, w.TIME_ENTRIES_LABEL, checkbox, optional=True))
    return _modal(w.SETTINGS_TITLE, SETTINGS_CALLBACK, blocks, submit=w.SAVE)


def settings_values(values: Mapping[str, str | None]) -> dict[str, Any]:
    """A checked settings submission (see submission_errors) → the preference values to store."""
    def status(block_id: str) -> int | None:
        raw = (values.get(block_id) or "").strip()
        return int(raw) if raw else None
    return {CHANNEL_PREF: values.get(CHANNEL_BLOCK) or None,
            RESOLVED_STATUS_PREF: status(RESOLVED_STATUS_BLOCK),
            ESCALATED_STATUS_PREF: status(ESCALATED_STATUS_BLOCK),
            TIME_PREF: TIME_ENTRIES_VALUE in (values.get(TIME_ENTRIES_BLOCK) or "").split(",")}


def _length(errors: dict[str, str], block_id: str, text: str, most: int, message: str) -> None:
    if len(text) > most:
        errors[block_id] = message.format(chars=f"{len(text):,}", max=f"{most:,}")


def submission_errors(kind: str, values: Mapping[str, str | None]) -> dict[str, str]:
    """R15's limits as Slack's inline errors (`ack(response_action="errors", errors=...)`), keyed by
    block id. `kind` is a callback id (rf_resolve) or the bare word (resolve). Lengths are counted
    as the engine counts them: after stripping the ends."""
    kind = kind.removeprefix("rf_")
    errors: dict[str, str] = {}

    def text(block_id: str) -> str:
        return (values.get(block_id) or "").strip()

    if kind == "resolve":
        note = text(NOTE_BLOCK)
        if not note:
            errors[note_block_id(1)] = w.ERR_NOTE_EMPTY
        _length(errors, note_block_id(1), note, MAX_NOTE_CHARS, w.ERR_NOTE_LONG)
        _length(errors, SUMMARY_BLOCK, text(SUMMARY_BLOCK), MAX_SUMMARY_CHARS, w.ERR_SUMMARY_LONG)
    elif kind == "escalate":
        if not text(REASON_BLOCK):
            errors[REASON_BLOCK] = w.ERR_REASON_EMPTY
        _length(errors, REASON_BLOCK, text(REASON_BLOCK), MAX_REASON_CHARS, w.ERR_REASON_LONG)
    elif kind == "partial":
        if not text(TEXT_BLOCK):
            errors[TEXT_BLOCK] = w.ERR_PARTIAL_EMPTY
        _length(errors, TEXT_BLOCK, text(TEXT_BLOCK), MAX_FIX_TEXT, w.ERR_TEXT_LONG)
    elif kind == "failed":
        _length(errors, TEXT_BLOCK, text(TEXT_BLOCK), MAX_FIX_TEXT, w.ERR_TEXT_LONG)
    elif kind == "fact":
        if not text(TEXT_BLOCK):
            errors[TEXT_BLOCK] = w.ERR_FACT_EMPTY
        _length(errors, TEXT_BLOCK, text(TEXT_BLOCK), MAX_FACT_CHARS, w.ERR_TEXT_LONG)
    elif kind == "settings":
        for block_id in (RESOLVED_STATUS_BLOCK, ESCALATED_STATUS_BLOCK):
            raw = text(block_id)
            if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
                errors[block_id] = w.ERR_STATUS_ID
    else:
        raise ValueError(f"unknown modal kind {kind!r}")
    return errors
