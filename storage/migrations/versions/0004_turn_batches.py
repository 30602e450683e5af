"""Concurrent turns and threads (R37): find a session's open turns fast, and the inbox's thread key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Adds a nullable column and two indexes: safe on a database that already holds data. Deliveries
stored before it have no thread key and are handled as before (in any order).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_pending_turns_session_id_status", "pending_turns", ["session_id", "status"])
    with op.batch_alter_table("inbound_deliveries") as batch:
        batch.add_column(sa.Column("thread_key", sa.String(255), nullable=True))
    op.create_index("ix_inbound_deliveries_thread_key_status", "inbound_deliveries", ["thread_key", "status"])


def downgrade() -> None:
    op.drop_index("ix_inbound_deliveries_thread_key_status", table_name="inbound_deliveries")
    with op.batch_alter_table("inbound_deliveries") as batch:
        batch.drop_column("thread_key")
    op.drop_index("ix_pending_turns_session_id_status", table_name="pending_turns")
