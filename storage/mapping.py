"""Maps core's dataclasses onto the tables (imperative mapping, cosmicpython style).

Repositories therefore return the very core entities; attribute changes are flushed on commit.
JSON attributes (preferences, ticket_info, data, script_params, outcome_proposal, parameters,
payload, ref) are tracked deeply: reassigning them *and* mutating them in place (even nested)
persists, because `TrackingSession` compares each loaded JSON value with a snapshot before every
flush. That keeps the SQL backend and tests/fakes/memory_uow.py observably identical.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Table, event, inspect
from sqlalchemy.orm import (
    InstanceState,
    Session,
    make_transient,
    make_transient_to_detached,
    registry,
)
from sqlalchemy.orm.attributes import flag_modified

from core import models, platform
from storage import tables

mapper_registry = registry(metadata=tables.metadata)

ENTITY_TABLES: tuple[tuple[type[Any], Table], ...] = (
    (models.Account, tables.accounts),
    (models.Member, tables.members),
    (models.MemberIdentity, tables.member_identities),
    (models.Session, tables.sessions),
    (models.Step, tables.steps),
    (models.TaskItem, tables.task_items),
    (models.Fact, tables.facts),
    (models.Fix, tables.fixes),
    (models.Handoff, tables.handoffs),
    (models.Writeup, tables.writeups),
    (models.PendingTurn, tables.pending_turns),
    (models.Notification, tables.notifications),
    (models.DraftTemplate, tables.draft_templates),
    (models.Writeback, tables.writebacks),
    (models.PsaConnection, tables.psa_connections),
    (models.BoardStatus, tables.psa_board_statuses),
    (models.PsaMemberLink, tables.psa_member_links),
    (platform.TenantLink, tables.tenant_links),
    (platform.InboundDelivery, tables.inbound_deliveries),
    (platform.SurfaceRef, tables.surface_refs),
    (platform.ConnectCode, tables.connect_codes),
)

_SNAPSHOT_KEY = "rf_json_snapshot"


def _dialect_free_json_columns(table: Table) -> tuple[str, ...]:
    """Column names whose (variant) type is JSON on every dialect."""
    names = []
    for column in table.columns:
        base = getattr(column.type, "impl", column.type)
        if isinstance(column.type, JSON) or isinstance(base, JSON):
            names.append(column.name)
    return tuple(names)


JSON_ATTRIBUTES: dict[type[Any], tuple[str, ...]] = {
    cls: _dialect_free_json_columns(table) for cls, table in ENTITY_TABLES
}


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _snapshot(state: InstanceState[Any], names: tuple[str, ...] | None = None) -> None:
    attributes = JSON_ATTRIBUTES.get(state.class_, ())
    snapshot: dict[str, str] = state.info.setdefault(_SNAPSHOT_KEY, {})
    for name in names if names is not None else attributes:
        if name in attributes and name in state.dict:
            snapshot[name] = _dump(state.dict[name])


def _on_load(target: Any, _context: Any) -> None:
    _snapshot(inspect(target))


def _on_refresh(target: Any, _context: Any, attrs: Any) -> None:
    _snapshot(inspect(target), tuple(attrs) if attrs else None)


def _on_written(_mapper: Any, _connection: Any, target: Any) -> None:
    _snapshot(inspect(target))


class TrackingSession(Session):
    """The sync session behind every AsyncSession of ours: flags in-place JSON changes before
    every flush, explicit or automatic (a query's autoflush, commit). A change made only in place
    leaves the session looking clean, so SQLAlchemy would skip the flush (and before_flush)."""

    def flush(self, objects: Sequence[Any] | None = None) -> None:
        _flag_mutated_json(self)
        super().flush(objects)


@event.listens_for(TrackingSession, "before_commit")
def _flag_before_commit(session: Session) -> None:
    """commit checks for changes before it calls flush()."""
    _flag_mutated_json(session)


def _flag_mutated_json(session: Session) -> None:
    for obj in list(session.identity_map.values()):
        state = inspect(obj)
        attributes = JSON_ATTRIBUTES.get(state.class_, ())
        snapshot = state.info.get(_SNAPSHOT_KEY, {})
        for name in attributes:
            if name in state.dict and snapshot.get(name) != _dump(state.dict[name]):
                flag_modified(obj, name)


def start_mappers() -> None:
    """Map every entity once; safe to call again (later calls do nothing)."""
    for cls, table in ENTITY_TABLES:
        if inspect(cls, raiseerr=False) is not None:
            continue
        mapper_registry.map_imperatively(cls, table)
        event.listen(cls, "load", _on_load)
        event.listen(cls, "refresh", _on_refresh)
        event.listen(cls, "after_insert", _on_written)
        event.listen(cls, "after_update", _on_written)


def attach_inserted(session: Session, entity: Any) -> None:
    """Make an entity whose row a Core INSERT wrote (its id already set) a live, clean member of
    `session`, as if `add` had inserted it: later changes to it are flushed, nothing is re-sent.
    An entity left over from an earlier unit of work (detached) is taken over as well."""
    if inspect(entity).detached:
        make_transient(entity)
    make_transient_to_detached(entity)
    session.add(entity)
    _snapshot(inspect(entity))
