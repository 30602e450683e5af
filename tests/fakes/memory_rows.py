"""The schema rules of storage/tables/ restated for the in-memory fake: foreign keys, unique
keys, NOT NULL, and what the database does to values (enums come back as members, datetimes as
aware UTC, JSON as a JSON round trip). Kept free of SQLAlchemy so core tests need none of it."""

from __future__ import annotations

import copy
import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from core.errors import Conflict
from core.models import (
    Account,
    BoardStatus,
    DraftTemplate,
    Fact,
    Fix,
    Handoff,
    Member,
    MemberIdentity,
    Notification,
    PendingTurn,
    PsaConnection,
    PsaMemberLink,
    Session,
    Step,
    TaskItem,
    Writeback,
    Writeup,
)
from core.platform import ConnectCode, InboundDelivery, SurfaceRef, TenantLink


@dataclass
class SessionCounter:
    """A row of storage's session_counters: the last seq handed out per session and name. No core
    entity (only the repositories' allocate_seq sees it); the id is the fake's row key only."""

    account_id: int
    session_id: int
    name: str
    value: int
    id: int | None = None


ENTITIES: tuple[type[Any], ...] = (
    Account, Member, MemberIdentity, Session, Step, TaskItem, Fact, Fix, Handoff, Writeup,
    PendingTurn, Notification, DraftTemplate, Writeback, PsaConnection, BoardStatus, PsaMemberLink, TenantLink, InboundDelivery,
    SurfaceRef, ConnectCode, SessionCounter,
)  # fmt: skip

FOREIGN_KEYS: dict[type[Any], dict[str, type[Any]]] = {
    Account: {},
    Member: {},
    MemberIdentity: {"member_id": Member},
    Session: {"created_by": Member, "handler_id": Member, "resolved_by": Member},
    Step: {"session_id": Session, "author_id": Member},
    TaskItem: {"session_id": Session},
    Fact: {"session_id": Session, "created_by": Member},
    Fix: {"session_id": Session},
    Handoff: {
        "session_id": Session,
        "created_by": Member,
        "target_member_id": Member,
        "claimed_by": Member,
    },
    Writeup: {"session_id": Session, "created_by": Member},
    PendingTurn: {"session_id": Session, "step_id": Step},
    Notification: {"member_id": Member, "session_id": Session, "handoff_id": Handoff},
    DraftTemplate: {"session_id": Session, "fix_id": Fix, "created_by": Member},
    Writeback: {"session_id": Session, "writeup_id": Writeup, "created_by": Member},
    PsaConnection: {"updated_by": Member},
    BoardStatus: {"updated_by": Member},
    PsaMemberLink: {"member_id": Member},
    TenantLink: {},
    InboundDelivery: {},  # not scoped: stored before its account is known
    SurfaceRef: {"session_id": Session},
    ConnectCode: {"created_by": Member},
    SessionCounter: {"session_id": Session},
}
for _cls in ENTITIES:
    if _cls is not Account and "account_id" in {f.name for f in dataclasses.fields(_cls)}:
        FOREIGN_KEYS[_cls]["account_id"] = Account

UNIQUE_KEYS: dict[type[Any], tuple[tuple[str, ...], ...]] = {
    Account: (("name",),),
    MemberIdentity: (("account_id", "platform", "external_id"),),
    TaskItem: (("session_id", "kind", "seq"),),
    Fact: (("session_id", "seq"),),
    Writeback: (("account_id", "idempotency_key"),),
    PsaConnection: (("account_id",),),
    BoardStatus: (("account_id", "board_id", "role"),),
    PsaMemberLink: (("account_id", "member_id"),),
    TenantLink: (("platform", "external_id"),),
    InboundDelivery: (("platform", "key"),),
    SurfaceRef: (("account_id", "surface", "key"),),
    ConnectCode: (("code_hash",),),
    SessionCounter: (("session_id", "name"),),
}


@dataclass(frozen=True)
class Shape:
    fields: tuple[str, ...]
    required: frozenset[str]
    enums: dict[str, type[StrEnum]]
    datetimes: frozenset[str]
    json: frozenset[str]


_SHAPES: dict[type[Any], Shape] = {}


def shape(cls: type[Any]) -> Shape:
    """Read column kinds off the dataclass annotations, as the mapping reads them off tables."""
    if cls not in _SHAPES:
        _SHAPES[cls] = _read_shape(cls)
    return _SHAPES[cls]


def _read_shape(cls: type[Any]) -> Shape:
    hints = typing.get_type_hints(cls)
    names, required, datetimes, json_fields = [], set(), set(), set()
    enums: dict[str, type[StrEnum]] = {}
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        base = next(a for a in args if a is not type(None))
        origin = typing.get_origin(base) or base
        names.append(field.name)
        if type(None) not in args:
            required.add(field.name)
        if origin in (dict, list):
            json_fields.add(field.name)
        elif isinstance(origin, type) and issubclass(origin, StrEnum):
            enums[field.name] = origin
        elif origin is datetime:
            datetimes.add(field.name)
    return Shape(tuple(names), frozenset(required), enums, frozenset(datetimes), frozenset(json_fields))


def values_of(entity: Any) -> dict[str, Any]:
    return {name: getattr(entity, name) for name in shape(type(entity)).fields}


def clone(cls: type[Any], values: dict[str, Any]) -> dict[str, Any]:
    """Copy a row so nobody shares a mutable JSON value with the store."""
    json_fields = shape(cls).json
    return {k: copy.deepcopy(v) if k in json_fields else v for k, v in values.items()}


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def same(cls: type[Any], name: str, a: Any, b: Any) -> bool:
    """Change detection as the SQL mapping does it (JSON compared by its serialisation)."""
    return dump(a) == dump(b) if name in shape(cls).json else bool(a == b)


def normalize(cls: type[Any], values: dict[str, Any]) -> dict[str, Any]:
    """What reading the row back from the database would give; raises what binding would."""
    info, out = shape(cls), dict(values)
    for name, value in values.items():
        if value is None:
            if name in info.required and name != "id":
                detail = f"{cls.__name__}.{name} is required"
                raise Conflict(f"The change conflicts with existing data ({detail}).", reason="storage.conflict",
                               params={"detail": detail})
        elif name in info.enums:
            out[name] = info.enums[name](value)
        elif name in info.datetimes:
            if not isinstance(value, datetime):
                raise TypeError(f"{cls.__name__}.{name}: expected a datetime")
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware UTC datetime")
            out[name] = value.astimezone(UTC)
        elif name in info.json:
            out[name] = json.loads(json.dumps(value))
    return out


def constraint_conflict(cls: type[Any], what: str) -> Conflict:
    detail = f"{cls.__name__}: {what}"
    return Conflict(f"The change conflicts with existing data ({detail}).", reason="storage.conflict", params={"detail": detail})
