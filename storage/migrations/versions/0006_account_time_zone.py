"""Each account's time zone: notes and packages write their dates in it, in words.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Adds `accounts.time_zone` (an IANA name, validated in core.time_zones when it is set). Existing
accounts get "UTC", which is what every date meant until now, so the column can be NOT NULL at
once; the server default also covers rows a replica of the previous release inserts meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): batch mode would copy and drop `accounts`, which every
    # table's foreign key refers to.
    op.drop_column("accounts", "time_zone")
