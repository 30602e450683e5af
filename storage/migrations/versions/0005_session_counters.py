"""Per-session label counters: facts and lane items get their seq from one atomic statement, so
concurrent writers stop colliding on UNIQUE(session_id, seq) and losing an input.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

Adds a table and fills it from what is stored: each counter starts at the highest seq of its
session and name (soft-deleted facts included, as their labels are never reused). Safe on a
database that already holds data; on PostgreSQL it runs under storage/db.py's advisory lock.
Rows a replica of the previous release writes meanwhile cannot collide either: the allocation
also looks at the highest stored seq.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
INSERT INTO session_counters (account_id, session_id, name, value)
SELECT s.account_id, s.id, {name}, MAX(t.seq)
FROM {table} t JOIN sessions s ON s.id = t.session_id
GROUP BY s.account_id, s.id{group}
"""


def upgrade() -> None:
    op.create_table(
        "session_counters",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_session_counters_account_id_accounts"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name="fk_session_counters_session_id_sessions",
                                ondelete="CASCADE"),  # fmt: skip
        sa.PrimaryKeyConstraint("session_id", "name", name="pk_session_counters"),
    )
    op.create_index("ix_session_counters_account_id", "session_counters", ["account_id"])
    op.execute(BACKFILL.format(name="'fact'", table="facts", group=""))
    op.execute(BACKFILL.format(name="t.kind", table="task_items", group=", t.kind"))


def downgrade() -> None:
    op.drop_index("ix_session_counters_account_id", table_name="session_counters")
    op.drop_table("session_counters")
