"""The schema: one table per entity of core/models.py and core/platform.py, every row scoped by
`account_id` (R35) except the inbound inbox, which is written before the account is known.

Each area module declares its tables; importing this package registers all of them in `metadata`,
so the migrations and the mappers see the whole schema. Kept in step with migrations/versions/*.py;
tests/storage/test_migrations.py compares the two.
"""

from __future__ import annotations

from storage.tables._base import metadata
from storage.tables.handoff import draft_templates, handoffs, notifications, writeups
from storage.tables.people import accounts, member_identities, members
from storage.tables.platform import (
    connect_codes,
    psa_board_statuses,
    psa_connections,
    psa_member_links,
    surface_refs,
    tenant_links,
)
from storage.tables.queues import inbound_deliveries, pending_turns, writebacks
from storage.tables.session import facts, fixes, session_counters, sessions, steps, task_items

__all__ = ["metadata", "accounts", "members", "member_identities", "sessions", "steps", "task_items", "facts",
           "session_counters", "fixes", "handoffs", "writeups", "notifications", "draft_templates", "pending_turns",
           "writebacks", "inbound_deliveries", "psa_connections", "psa_board_statuses", "psa_member_links", "tenant_links",
           "surface_refs", "connect_codes"]
