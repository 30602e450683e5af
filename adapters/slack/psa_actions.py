"""The contract of the PSA settings modals (R40): their buttons, callbacks, block ids and the one
piece of state a modal carries (the statuses it showed per board). Everything here shares the
`rf_psa_` prefix, so the Bolt listeners of on_psa.py take these requests and no other listener does.
Values that come back from Slack are parsed strictly (ValueError on anything malformed)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from core.models import StatusRole

PSA_PREFIX = "rf_psa_"
MAX_ID = 2**63 - 1
METADATA_MAX_CHARS = 3000

# Buttons in `/rf settings` that push a modal on top of it.
OPEN_CONNECTION = "rf_psa_open_connection"
OPEN_STATUSES = "rf_psa_open_statuses"
OPEN_TIME = "rf_psa_open_time"
OPEN_MEMBER = "rf_psa_open_member"
OPEN_BUTTONS = (OPEN_CONNECTION, OPEN_STATUSES, OPEN_TIME, OPEN_MEMBER)
PANEL_BLOCK = "rf_psa_panel"

# The modals' callback ids (their submissions are answered inside the 3-second ack).
CONNECTION_CALLBACK = "rf_psa_connection"
STATUSES_CALLBACK = "rf_psa_statuses"
TIME_CALLBACK = "rf_psa_time"
MEMBER_CALLBACK = "rf_psa_member"
CALLBACKS = (CONNECTION_CALLBACK, STATUSES_CALLBACK, TIME_CALLBACK, MEMBER_CALLBACK)
RESULT_CALLBACK = "rf_psa_result"  # what a submission shows afterwards: Close only

# External selects: Slack asks for their options with a block_suggestion request.
MEMBER_SEARCH = "rf_psa_member_search"
TICKET_SEARCH = "rf_psa_ticket_search"

# Input blocks (each holds one element, whose action_id is INPUT).
INPUT = "value"
FIELD_PREFIX = "rf_psa_f_"
WORK_TYPE_BLOCK = "rf_psa_work_type"
WORK_ROLE_BLOCK = "rf_psa_work_role"
BILLABLE_BLOCK = "rf_psa_billable"
TIME_ON_BLOCK = "rf_psa_time_on"
TIME_ON_VALUE = "on"
MEMBER_BLOCK = "rf_psa_member_pick"
BY_EMAIL_BLOCK = "rf_psa_by_email"
BY_EMAIL_VALUE = "email"
NONE_VALUE = "none"  # "don't change the status" / "the PSA's default"

_BOARD_BLOCK = re.compile(r"^rf_psa_b([0-9]{1,19})_(resolved|escalated)$")


def field_block(name: str) -> str:
    return FIELD_PREFIX + name


def board_block(board_id: int, role: StatusRole) -> str:
    return f"rf_psa_b{board_id}_{StatusRole(role).value}"


def parse_board_block(block_id: str) -> tuple[int, StatusRole]:
    match = _BOARD_BLOCK.match(block_id)
    if match is None:
        raise ValueError(f"not a board status block: {block_id!r}")
    return int(match.group(1)), StatusRole(match.group(2))


def parse_choice(raw: str | None) -> int | None:
    """A chosen option's value: a PSA id, or NONE_VALUE (nothing chosen)."""
    if raw is None or raw == NONE_VALUE:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or int(raw) > MAX_ID:
        raise ValueError(f"not an id: {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class ShownBoard:
    """One board of the statuses modal, with the choices it showed (to save only what changed)."""

    board_id: int
    resolved: int | None
    escalated: int | None

    def shown(self, role: StatusRole) -> int | None:
        return self.resolved if role == StatusRole.RESOLVED else self.escalated


def _id(value: object, *, optional: bool) -> int | None:
    if value is None and optional:
        return None
    if type(value) is not int or not 0 <= value <= MAX_ID:
        raise ValueError(f"an id must be a non-negative integer, not {value!r}")
    return value


def encode_boards(boards: list[ShownBoard]) -> str:
    raw = json.dumps({"b": [[b.board_id, b.resolved, b.escalated] for b in boards]}, separators=(",", ":"))
    if len(raw) > METADATA_MAX_CHARS:
        raise ValueError(f"private_metadata would be {len(raw)} characters; Slack allows {METADATA_MAX_CHARS}")
    return raw


def decode_boards(raw: object) -> list[ShownBoard]:
    if not isinstance(raw, str) or len(raw) > METADATA_MAX_CHARS:
        raise ValueError("the statuses modal's metadata is not a short string")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"the statuses modal's metadata is not JSON: {exc}") from exc
    if not isinstance(data, dict) or set(data) != {"b"} or not isinstance(data["b"], list):
        raise ValueError("the statuses modal's metadata is not {\"b\": [...]}")
    boards: list[ShownBoard] = []
    for row in data["b"]:
        if not isinstance(row, list) or len(row) != 3:
            raise ValueError(f"a board row is [id, resolved, escalated], not {row!r}")
        board_id = _id(row[0], optional=False)
        assert board_id is not None
        boards.append(ShownBoard(board_id, _id(row[1], optional=True), _id(row[2], optional=True)))
    return boards
