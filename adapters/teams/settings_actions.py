"""What a button of the PSA settings card carries and how it comes back.

Settings are no session's, so their buttons are not core actions (`card_actions`): each is an
`Action.Execute` with verb `rfs_<what>` and data `{"rfs": what}`, with an `Action.Submit` fallback of
the same data, so one parser reads the `adaptiveCard/action` invoke and the fallback's message
`value`. The card's inputs arrive merged into the data, named below; nothing here is trusted beyond
its shape: core validates every value against the PSA and checks the caller's role."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from adapters.teams.cards_base import Element
from core.models import StatusRole

VERB_PREFIX = "rfs_"
DATA_KEY = "rfs"
NO_VALUE = "none"  # a menu's "Don't change" / "not set" choice: the setting is cleared
MAX_INPUTS = 500  # more inputs than any settings card has: never ours

# Input ids of the card (the connection's are `psa_<field name>`, a board's `board_<id>_<role>`).
TIME_ENABLED, TIME_WORK_TYPE, TIME_WORK_ROLE, TIME_BILLABLE = "time_enabled", "time_work_type", "time_work_role", "time_billable"
ME_MEMBER = "me_member"
_BOARD_INPUT = re.compile(r"^board_(\d{1,10})_([a-z]+)$")


class SettingsAction(StrEnum):
    OPEN = "open"  # show the card (the help card's button)
    CONNECTION = "connection"  # save the connection, then test it
    TEST = "test"
    STATUSES = "statuses"
    TIME = "time"
    ME = "me"  # the chosen PSA member
    ME_BY_EMAIL = "me_email"  # matched by the caller's e-mail


KINDS: dict[str, SettingsAction] = {a.value: a for a in SettingsAction}


@dataclass(frozen=True, kw_only=True)
class SettingsClick:
    kind: SettingsAction
    inputs: Mapping[str, str] = field(default_factory=dict)


def settings_verb(kind: SettingsAction) -> str:
    return VERB_PREFIX + kind.value


def settings_button(kind: SettingsAction, title: str, *, style: str | None = None) -> Element:
    data = {DATA_KEY: kind.value}
    fallback: Element = {"type": "Action.Submit", "title": title, "data": dict(data)}
    button: Element = {"type": "Action.Execute", "title": title, "verb": settings_verb(kind), "data": data}
    if style:
        button["style"] = fallback["style"] = style
    button["fallback"] = fallback
    return button


def connection_input(name: str) -> str:
    return f"psa_{name}"


def board_input(board_id: int, role: StatusRole) -> str:
    return f"board_{board_id}_{role.value}"


def board_inputs(inputs: Mapping[str, str]) -> dict[int, dict[StatusRole, str]]:
    """The board menus among the inputs: {board id: {role: value}}; other keys are not board menus."""
    found: dict[int, dict[StatusRole, str]] = {}
    roles = {r.value: r for r in StatusRole}
    for key, value in inputs.items():
        match = _BOARD_INPUT.match(key)
        if match and match.group(2) in roles:
            found.setdefault(int(match.group(1)), {})[roles[match.group(2)]] = value
    return found


def is_settings(payload: object) -> bool:
    """Whether an invoke `value` or a fallback's message `value` is a settings click."""
    if not isinstance(payload, dict):
        return False
    action = payload.get("action")
    data = action.get("data") if isinstance(action, dict) else payload
    return isinstance(data, dict) and DATA_KEY in data


def parse_settings(payload: object) -> SettingsClick:
    """Read a settings click from an invoke `value` or an `Action.Submit` `value`; `ValueError` otherwise."""
    if not isinstance(payload, dict):
        raise ValueError("a card action is a JSON object")
    data: Any = payload
    if "action" in payload:
        action = payload["action"]
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            raise ValueError("an adaptiveCard/action invoke carries an Action.Execute")
        data = action.get("data")
        if not isinstance(data, dict):
            raise ValueError("the action has no data object")
    name = data.get(DATA_KEY)
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ValueError("unknown settings action")
    if "action" in payload and payload["action"].get("verb") != settings_verb(kind):
        raise ValueError("the verb does not match the action data")
    if len(data) > MAX_INPUTS:
        raise ValueError("too many inputs")
    inputs = {str(k): v for k, v in data.items() if k != DATA_KEY and isinstance(v, str)}
    return SettingsClick(kind=kind, inputs=inputs)
