"""Facts the assistant proposes wait on the task lane for a member (R6 as amended).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

A proposal is a lane item of kind "proposed_fact" (label P1, P2 …); `task_items.source_ref` names the
question or check it would answer, so confirming it promotes that item. Nullable, no default
needed: existing rows are questions and checks, which answer nothing. Facts the previous release
stored straight from the assistant stay facts (they were shown as such).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("task_items", sa.Column("source_ref", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM task_items WHERE kind = 'proposed_fact'")
    op.drop_column("task_items", "source_ref")
