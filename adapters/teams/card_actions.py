"""What a Teams button carries and how it comes back.

Every button is an `Action.Execute` (verb `rf_<id>`) with an `Action.Submit` fallback carrying the
same data, so one parser reads both the `adaptiveCard/action` invoke and the fallback's message
`value`. Data names the session and the object by id (R3); the handler re-checks both against the
caller's account, so nothing here is trusted beyond its shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.cards import ActionId

VERB_PREFIX = "rf_"
MAX_ID = 2**63 - 1  # what a BIGINT column holds; anything larger was never ours


class FormAction(StrEnum):
    """Submit buttons of the forms Teams shows on the card where Slack opens a modal."""

    ADD_FACT = "add_fact"
    POST_RESOLUTION = "post_resolution"
    POST_ESCALATION = "post_escalation"
    POST_PARTIAL = "post_partial"
    POST_FAILED = "post_failed"


CardActionKind = ActionId | FormAction
KINDS: dict[str, CardActionKind] = {**{a.value: a for a in ActionId}, **{a.value: a for a in FormAction}}

# Input ids on our cards; the values come back merged into the action data.
INPUT_NOTE = "note"
INPUT_SUMMARY = "summary"
INPUT_REASON = "reason"
INPUT_TARGET = "target"
INPUT_PARTIAL_NOTES = "partial_notes"
INPUT_FAILURE_REASON = "failure_reason"
INPUT_FACT_TEXT = "fact_text"
INPUT_LOG_TIME = "log_time"
INPUT_IDS = (INPUT_NOTE, INPUT_SUMMARY, INPUT_REASON, INPUT_TARGET, INPUT_PARTIAL_NOTES,
             INPUT_FAILURE_REASON, INPUT_FACT_TEXT, INPUT_LOG_TIME)
TOGGLE_ON, TOGGLE_OFF = "true", "false"


@dataclass(frozen=True, kw_only=True)
class CardActionInput:
    """A validated click: which action, on which session and object, with the card's inputs.
    `version` is the state_version a resolution form was rendered at (R2), when it carries one."""

    action: CardActionKind
    session_id: int
    ref: int | None
    inputs: dict[str, str] = field(default_factory=dict)
    version: int | None = None


def verb(kind: CardActionKind) -> str:
    return VERB_PREFIX + kind.value


def action_data(kind: CardActionKind, session_id: int, ref: int | None = None, *,
                version: int | None = None) -> dict[str, Any]:
    """The data a button sends: `{"rf": id, "s": session, "r": ref}` (+ `"v"` for a form's version)."""
    data: dict[str, Any] = {"rf": kind.value, "s": session_id, "r": ref}
    if version is not None:
        data["v"] = version
    return data


def execute(kind: CardActionKind, title: str, session_id: int, ref: int | None = None, *,
            style: str | None = None, version: int | None = None, tooltip: str | None = None) -> dict[str, Any]:
    """An `Action.Execute` with an `Action.Submit` fallback of the same data, for clients before 1.4."""
    data = action_data(kind, session_id, ref, version=version)
    fallback: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": dict(data)}
    button: dict[str, Any] = {"type": "Action.Execute", "title": title, "verb": verb(kind), "data": data}
    if style:
        button["style"] = fallback["style"] = style
    if tooltip:
        button["tooltip"] = tooltip
    button["fallback"] = fallback
    return button


def parse_action(payload: object) -> CardActionInput:
    """Read a click from an invoke `value` (`{"action": {"type": "Action.Execute", ...}}`) or from
    an `Action.Submit` message `value` (the data itself). Anything else raises `ValueError`."""
    if not isinstance(payload, dict):
        raise ValueError("a card action is a JSON object")
    if "action" not in payload:
        return _from_data(payload)
    action = payload["action"]
    if not isinstance(action, dict) or action.get("type") != "Action.Execute":
        raise ValueError("an adaptiveCard/action invoke carries an Action.Execute")
    data = action.get("data")
    if not isinstance(data, dict):
        raise ValueError("the action has no data object")
    parsed = _from_data(data)
    if action.get("verb") != verb(parsed.action):
        raise ValueError("the verb does not match the action data")
    return parsed


def _from_data(data: dict[Any, Any]) -> CardActionInput:
    name = data.get("rf")
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ValueError("unknown card action")
    session_id = _id(data.get("s"), "session", minimum=1)
    if session_id is None:
        raise ValueError("the action names no session")
    inputs: dict[str, str] = {}
    for key in INPUT_IDS:
        if key in data:
            value = data[key]
            if not isinstance(value, str):
                raise ValueError(f"input {key} is not text")
            inputs[key] = value
    return CardActionInput(action=kind, session_id=session_id, ref=_id(data.get("r"), "ref", minimum=1),
                           inputs=inputs, version=_id(data.get("v"), "version", minimum=0))


def _id(value: object, what: str, *, minimum: int) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not minimum <= value <= MAX_ID:  # bool is an int subclass: refused
        raise ValueError(f"the {what} is not a valid id")
    return value
