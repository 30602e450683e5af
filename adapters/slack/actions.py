"""The contract between the Block Kit renderers and the Bolt handlers: action ids, button values,
modal callback ids, private_metadata and input ids. Everything that comes back from Slack is parsed
strictly here (ValueError on anything malformed); the handler still re-checks the caller's account."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from core.actions import SPECS, ActionId

PREFIX = "rf_"
MAX_ID = 2**63 - 1  # database ids are BIGINTs
VALUE_MAX_CHARS = 2000  # Slack's limit for a button value
METADATA_MAX_CHARS = 3000  # Slack's limit for a view's private_metadata

OPEN_SESSION = "rf_open_session"  # App Home link button; the handler only acks it
FORM_SUFFIX = "_form"  # rf_confirm_item_form: the same action, its optional form asked for first

# Modal callback ids: a form's modal is called after its action (rf_resolve, rf_fix_partial …).
SETTINGS_CALLBACK = "rf_settings"
LOADING_CALLBACK = "rf_loading"

# Input blocks inside modals: a form's field is the block named after it (its element `<name>_input`);
# a field longer than one box is split over note_1..note_n, joined back under "note" by read_submission.
NOTE_BLOCK = "note"
CHANNEL_BLOCK = "channel"
CHANNEL_INPUT = "channel_input"
TIME_ZONE_BLOCK = "time_zone"
TIME_ZONE_INPUT = "time_zone_input"

_NOTE_PART = re.compile(rf"^{NOTE_BLOCK}_([1-9][0-9]{{0,2}})$")
_ACTIONS = {PREFIX + a.value: a for a in ActionId}


def action_id(action: ActionId) -> str:
    return PREFIX + action.value


def parse_action_id(raw: str) -> ActionId:
    """`rf_confirm_item` → ActionId.CONFIRM_ITEM (rf_open_session is not an action)."""
    found = _ACTIONS.get(raw) if isinstance(raw, str) else None
    if found is None:
        raise ValueError(f"unknown action id {raw!r}")
    return found


def parse_click(raw: str) -> tuple[ActionId, bool]:
    """A button's action, and whether the person asked for its form (`rf_<action>_form`)."""
    if isinstance(raw, str) and raw.endswith(FORM_SUFFIX) and raw not in _ACTIONS:
        return parse_action_id(raw.removesuffix(FORM_SUFFIX)), True
    return parse_action_id(raw), False


_PREVIEWED = {spec.preview: spec.id for spec in SPECS.values() if spec.preview is not None}


def form_action(raw: str) -> ActionId | None:
    """The action whose form a click opens as a modal, or None when the click is performed as it
    is. Core says which actions take their form first (`form_first`: a button carries no values);
    a preview opens the form it fills in; `_form` asks for an optional form (own words)."""
    try:
        which, asked = parse_click(raw)
    except ValueError:
        return None
    which = _PREVIEWED.get(which, which)
    spec = SPECS[which]
    return which if spec.form is not None and (spec.form_first or asked) else None


def note_block_id(part: int) -> str:
    return f"{NOTE_BLOCK}_{part}"


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _load_object(raw: object, limit: int, what: str) -> dict[str, Any]:
    if not isinstance(raw, str):
        raise ValueError(f"{what} is not a string")
    if len(raw) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{what} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{what} is not a JSON object")
    return data


def _id(value: object, what: str, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if type(value) is not int or not 0 <= value <= MAX_ID:  # bool and float are refused on purpose
        raise ValueError(f"{what} must be a non-negative integer id, not {value!r}")
    return value


def encode_value(session_id: int, ref: int | None) -> str:
    """A button's value: which session, and which object in it (R3: by id, never by position)."""
    _id(session_id, "session id")
    _id(ref, "ref", optional=True)
    return _dump({"s": session_id, "r": ref})


def clicked_value(action: dict[str, Any]) -> str:
    """A button's value, or the chosen option's of a select (both are `encode_value` strings)."""
    chosen = action.get("selected_option")
    raw = chosen.get("value") if isinstance(chosen, dict) else action.get("value")
    return raw if isinstance(raw, str) else ""


def decode_value(raw: str) -> tuple[int, int | None]:
    data = _load_object(raw, VALUE_MAX_CHARS, "button value")
    if set(data) != {"s", "r"}:
        raise ValueError(f"button value has keys {sorted(data)}, expected s and r")
    session_id = _id(data["s"], "session id")
    assert session_id is not None
    return session_id, _id(data["r"], "ref", optional=True)


@dataclass(frozen=True, kw_only=True)
class ModalMeta:
    """What a modal remembers between opening and submission (its private_metadata).
    `joins` are the whitespace runs between the note's parts, so the note comes back exactly."""

    session_id: int | None = None
    version: int | None = None
    fix_id: int | None = None
    fact_id: int | None = None
    item_id: int | None = None
    joins: tuple[str, ...] = ()

    @property
    def ref(self) -> int | None:
        """The object the form's action names (one of them is set at most)."""
        return next((r for r in (self.fix_id, self.fact_id, self.item_id) if r is not None), None)


_META_KEYS = {"s": "session_id", "v": "version", "f": "fix_id", "fact": "fact_id", "i": "item_id"}
MAX_JOIN_CHARS = 16
MAX_JOINS = 100


def _check_joins(joins: object) -> tuple[str, ...]:
    if not isinstance(joins, (list, tuple)) or len(joins) > MAX_JOINS:
        raise ValueError("joins must be a short list")
    for join in joins:
        if not isinstance(join, str) or len(join) > MAX_JOIN_CHARS or join.strip():
            raise ValueError(f"a join is a short run of whitespace, not {join!r}")
    return tuple(joins)


def encode_metadata(meta: ModalMeta) -> str:
    data: dict[str, Any] = {}
    for key, attr in _META_KEYS.items():
        value = _id(getattr(meta, attr), attr, optional=True)
        if value is not None:
            data[key] = value
    if meta.joins:
        data["j"] = list(_check_joins(meta.joins))
    raw = _dump(data)
    if len(raw) > METADATA_MAX_CHARS:
        raise ValueError(f"private_metadata would be {len(raw)} characters; Slack allows {METADATA_MAX_CHARS}")
    return raw


def decode_metadata(raw: str) -> ModalMeta:
    data = _load_object(raw, METADATA_MAX_CHARS, "private_metadata")
    unknown = set(data) - set(_META_KEYS) - {"j"}
    if unknown:
        raise ValueError(f"private_metadata has unknown keys {sorted(unknown)}")
    values = {attr: _id(data.get(key), attr, optional=True) for key, attr in _META_KEYS.items()}
    return ModalMeta(**values, joins=_check_joins(data.get("j", [])))


def _state_value(state: object) -> str | None:
    """One element's state from a view_submission, as a plain string (None when empty)."""
    if not isinstance(state, dict):
        raise ValueError("an input state is not an object")
    kind = state.get("type")
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        value = state.get("value")
    elif kind in ("static_select", "external_select", "radio_buttons"):
        value = (state.get("selected_option") or {}).get("value")
    elif kind == "conversations_select":
        value = state.get("selected_conversation")
    elif kind == "channels_select":
        value = state.get("selected_channel")
    elif kind == "users_select":
        value = state.get("selected_user")
    elif kind in ("checkboxes", "multi_static_select"):
        chosen = [o.get("value") for o in state.get("selected_options") or [] if isinstance(o, dict)]
        value = ",".join(v for v in chosen if isinstance(v, str)) or None
    else:
        raise ValueError(f"unsupported input type {kind!r}")
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{kind} carried a non-string value")
    return value


def join_note(parts: list[str], joins: tuple[str, ...] | list[str]) -> str:
    """Undo the modal's split: part, join, part, … A missing join (older view) falls back to a blank line."""
    out = parts[0] if parts else ""
    for i, part in enumerate(parts[1:]):
        out += (joins[i] if i < len(joins) else "\n\n") + part
    return out


def read_submission(view_state_values: dict[str, Any], *, joins: tuple[str, ...] = ()) -> dict[str, str | None]:
    """`view.state.values` → {block_id: string or None}. A block with several elements gives
    `block_id.action_id` keys. The note's parts come back joined under NOTE_BLOCK (pass the joins
    from the modal's metadata), and each part stays under its own block id for errors."""
    if not isinstance(view_state_values, dict):
        raise ValueError("view state values are not an object")
    out: dict[str, str | None] = {}
    parts: dict[int, str] = {}
    for block_id, elements in view_state_values.items():
        if not isinstance(elements, dict):
            raise ValueError(f"block {block_id!r} state is not an object")
        for element_id, state in elements.items():
            key = block_id if len(elements) == 1 else f"{block_id}.{element_id}"
            out[key] = _state_value(state)
        match = _NOTE_PART.match(block_id)
        if match and len(elements) == 1:
            parts[int(match.group(1))] = out[block_id] or ""
    if parts:
        out[NOTE_BLOCK] = join_note([parts[i] for i in sorted(parts)], joins)
    return out
