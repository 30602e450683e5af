"""What a Teams button carries and how it comes back: as a core `Action` (core/actions.py).

Every button is an `Action.Execute` (verb `rf_<action id>`) with an `Action.Submit` fallback carrying
the same data, so one parser reads both the `adaptiveCard/action` invoke and the fallback's message
`value`. Data names the session and the object by id (R3); a form's submit carries the same action id
and the card merges its inputs in, named as the form's fields (core/forms.py). Nothing here is
trusted beyond its shape: `perform` validates the values and re-checks the caller's account and role.
"""

from __future__ import annotations

from typing import Any

from core.actions import SPECS, Action, ActionId
from core.forms import FORMS

VERB_PREFIX = "rf_"
MAX_ID = 2**63 - 1  # what a BIGINT column holds; anything larger was never ours
KINDS: dict[str, ActionId] = {a.value: a for a in ActionId}
TOGGLE_ON, TOGGLE_OFF = "true", "false"  # what an Input.Toggle sends; core.forms reads both
CHOSEN_REF = "rf_ref"  # the Input.ChoiceSet of a pick-one-object action: its value is the object id as text


def verb(kind: ActionId) -> str:
    return VERB_PREFIX + kind.value


def action_data(kind: ActionId, session_id: int, ref: int | None = None) -> dict[str, Any]:
    """The data a button sends: `{"rf": id, "s": session, "r": ref}`."""
    return {"rf": kind.value, "s": session_id, "r": ref}


def execute(kind: ActionId, title: str, session_id: int, ref: int | None = None, *,
            style: str | None = None, tooltip: str | None = None) -> dict[str, Any]:
    """An `Action.Execute` with an `Action.Submit` fallback of the same data, for clients before 1.4."""
    data = action_data(kind, session_id, ref)
    fallback: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": dict(data)}
    button: dict[str, Any] = {"type": "Action.Execute", "title": title, "verb": verb(kind), "data": data}
    if style:
        button["style"] = fallback["style"] = style
    if tooltip:
        button["tooltip"] = tooltip
    button["fallback"] = fallback
    return button


def input_names(kind: ActionId) -> tuple[str, ...]:
    """The inputs an action's submit may carry: the fields of its form."""
    form = SPECS[kind].form
    return tuple(f.name for f in FORMS[form].fields) if form is not None else ()


def parse_action(payload: object) -> Action:
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
    if action.get("verb") != verb(parsed.id):
        raise ValueError("the verb does not match the action data")
    return parsed


def _from_data(data: dict[Any, Any]) -> Action:
    name = data.get("rf")
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ValueError("unknown card action")
    session_id = _id(data.get("s"), "session")
    if session_id is None:
        raise ValueError("the action names no session")
    values: dict[str, str] = {}
    for key in input_names(kind):
        if key in data:
            value = data[key]
            if not isinstance(value, str):
                raise ValueError(f"input {key} is not text")
            values[key] = value
    ref = _id(data.get("r"), "ref")
    if ref is None and CHOSEN_REF in data:
        ref = _id(_chosen(data[CHOSEN_REF]), "chosen object")
    return Action(id=kind, session_id=session_id, ref=ref, values=values)


def _chosen(value: object) -> int:
    """A ChoiceSet sends the chosen value as text: digits only, else it was never one of ours."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 19:
        raise ValueError("the chosen object is not an id")
    return int(value)


def _id(value: object, what: str) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not 1 <= value <= MAX_ID:  # bool is an int subclass: refused
        raise ValueError(f"the {what} is not a valid id")
    return value
