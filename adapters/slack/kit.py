"""Small Block Kit constructors. They build plain dicts (what Bolt sends) and never omit a field
Slack would need; `limits.check_blocks` later proves each payload against slack_sdk's models."""

from __future__ import annotations

from typing import Any

from adapters.slack.text import shorten

Block = dict[str, Any]

BUTTON_TEXT = 75
OPTION_TEXT = 75
OPTION_VALUE = 150
HEADER_TEXT = 150


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(shorten(text, HEADER_TEXT))}


def section(text: str, *, accessory: dict[str, Any] | None = None, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if accessory is not None:
        block["accessory"] = accessory
    if block_id is not None:
        block["block_id"] = block_id
    return block


def fields_section(fields: list[str]) -> Block:
    return {"type": "section", "fields": [mrkdwn(f) for f in fields]}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts]}


def divider() -> Block:
    return {"type": "divider"}


def actions(elements: list[dict[str, Any]], *, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": elements}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def button(label: str, action_id: str, *, value: str | None = None, style: str | None = None,
           url: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "action_id": action_id, "text": plain(shorten(label, BUTTON_TEXT))}
    if value is not None:
        element["value"] = value
    if style in ("primary", "danger"):  # anything else is Slack's default look
        element["style"] = style
    if url is not None:
        element["url"] = url
    return element


def confirm(title: str, text: str, yes: str, *, style: str | None = None) -> dict[str, Any]:
    """A confirmation dialog object: Slack asks before the element acts."""
    dialog: dict[str, Any] = {"title": plain(shorten(title, 100)), "text": plain(shorten(text, 300)),
                              "confirm": plain(yes), "deny": plain("Cancel")}
    if style in ("primary", "danger"):
        dialog["style"] = style
    return dialog


def option(text: str, value: str) -> dict[str, Any]:
    if len(value) > OPTION_VALUE:
        raise ValueError(f"an option value is at most {OPTION_VALUE} characters")
    return {"text": plain(shorten(text, OPTION_TEXT)), "value": value}


def text_input(action_id: str, *, initial: str | None = None, multiline: bool = False,
               max_length: int | None = None, placeholder: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": action_id}
    if multiline:
        element["multiline"] = True
    if max_length is not None:
        element["max_length"] = max_length
    if initial:  # Slack rejects an empty initial_value; no value is the same thing
        element["initial_value"] = initial
    if placeholder:
        element["placeholder"] = plain(shorten(placeholder, 150))
    return element


def input_block(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False,
                hint: str | None = None) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": plain(shorten(label, 2000)), "element": element}
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = plain(shorten(hint, 2000))
    return block


def static_select(action_id: str, options: list[dict[str, Any]], *, initial: dict[str, Any] | None = None,
                  placeholder: str | None = None) -> dict[str, Any]:
    """A menu of at most 100 options; `initial` must be one of them (Slack compares text and value)."""
    element: dict[str, Any] = {"type": "static_select", "action_id": action_id, "options": options}
    if placeholder:
        element["placeholder"] = plain(shorten(placeholder, 150))
    if initial is not None:
        element["initial_option"] = initial
    return element


def external_select(action_id: str, *, placeholder: str, min_query_length: int,
                    initial: dict[str, Any] | None = None) -> dict[str, Any]:
    """A menu whose options Slack asks for as the person types (a `block_suggestion` request)."""
    element: dict[str, Any] = {"type": "external_select", "action_id": action_id,
                               "placeholder": plain(shorten(placeholder, 150)), "min_query_length": min_query_length}
    if initial is not None:
        element["initial_option"] = initial
    return element


def radio_buttons(action_id: str, options: list[dict[str, Any]], *,
                  initial: dict[str, Any] | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "radio_buttons", "action_id": action_id, "options": options}
    if initial is not None:
        element["initial_option"] = initial
    return element


def checkboxes(action_id: str, options: list[dict[str, Any]], *,
               initial: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "checkboxes", "action_id": action_id, "options": options}
    if initial:
        element["initial_options"] = initial
    return element
