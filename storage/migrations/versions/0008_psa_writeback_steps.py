"""A PSA writeback an MSP can run on (R39, R40): steps, per-board statuses, engineers' PSA members.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

- `writebacks`: the marker written into notes is gone (it was customer-visible); each step keeps
  its own state (`note_attempted_at`, `time_*`, `status_outcome`), and the status is no longer
  copied into the row when it is queued (a retry reads the configuration as it is then).
- `psa_connections`: vendor-neutral (`settings` and per-value encrypted `secrets_encrypted`). Rows
  are converted in place: the encrypted private key is moved as it is, never decrypted here.
- `psa_board_statuses`, `psa_member_links`: new tables.
- Account preferences: `cw_time_entries` becomes `time_entries`; the per-account status ids are
  dropped, since ConnectWise statuses belong to a board (an admin chooses them per board).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_PREFS = ("cw_resolved_status_id", "cw_escalated_status_id")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=False).with_variant(postgresql.JSONB(none_as_null=False), "postgresql")


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _common(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=f"fk_{table}_account_id_accounts"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    ]


def _writebacks_up() -> None:
    for name in ("note_attempted_at", "time_started_at", "time_attempted_at"):
        op.add_column("writebacks", _at(name, nullable=True))
    op.add_column("writebacks", sa.Column("time_entry_id", sa.String(255), nullable=True))
    op.add_column("writebacks", sa.Column("time_outcome", sa.String(64), nullable=True))
    op.add_column("writebacks", sa.Column("time_detail", sa.Text(), nullable=True))
    op.add_column("writebacks", sa.Column("status_outcome", sa.String(64), nullable=True))
    # A plain DROP COLUMN (SQLite 3.35+): neither column is in an index or a constraint.
    op.drop_column("writebacks", "marker")
    op.drop_column("writebacks", "target_status_id")


def _connections_up() -> None:
    bind = op.get_bind()
    old = bind.execute(sa.text(
        "SELECT account_id, site, company_id, public_key, client_id, private_key_encrypted, updated_at, "
        "updated_by, kind, codebase FROM psa_connections").columns(updated_at=_at("updated_at").type)).mappings().all()
    op.drop_table("psa_connections")
    table = op.create_table(
        "psa_connections", *_common("psa_connections"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("settings", _json(), nullable=False),
        sa.Column("secrets_encrypted", _json(), nullable=False),
        _at("updated_at"),
        sa.Column("updated_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["members.id"], name="fk_psa_connections_updated_by_members"),
        sa.UniqueConstraint("account_id", name="uq_psa_connections_account_id"),
    )
    op.create_index("ix_psa_connections_account_id", "psa_connections", ["account_id"])
    rows = []
    for row in old:
        settings = {"site": row["site"], "company": row["company_id"], "public_key": row["public_key"],
                    "client_id": row["client_id"]}
        if row["codebase"]:
            settings["codebase"] = row["codebase"]
        rows.append({"account_id": row["account_id"], "kind": row["kind"], "settings": settings,
                     "secrets_encrypted": {"private_key": row["private_key_encrypted"]},
                     "updated_at": row["updated_at"], "updated_by": row["updated_by"]})
    if rows:
        op.bulk_insert(table, rows)


def _new_tables_up() -> None:
    op.create_table(
        "psa_board_statuses", *_common("psa_board_statuses"),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("board_name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("status_id", sa.Integer(), nullable=False),
        sa.Column("status_name", sa.Text(), nullable=False),
        sa.Column("closes", sa.Boolean(), nullable=False),
        _at("updated_at"),
        sa.Column("updated_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["members.id"], name="fk_psa_board_statuses_updated_by_members"),
        sa.UniqueConstraint("account_id", "board_id", "role", name="uq_psa_board_statuses_account_id_board_id_role"),
    )
    op.create_index("ix_psa_board_statuses_account_id", "psa_board_statuses", ["account_id"])
    op.create_table(
        "psa_member_links", *_common("psa_member_links"),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("psa_member_id", sa.Integer(), nullable=False),
        sa.Column("psa_member_name", sa.Text(), nullable=False),
        sa.Column("matched_by", sa.String(16), nullable=False),
        _at("updated_at"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name="fk_psa_member_links_member_id_members"),
        sa.UniqueConstraint("account_id", "member_id", name="uq_psa_member_links_account_id_member_id"),
    )
    op.create_index("ix_psa_member_links_account_id", "psa_member_links", ["account_id"])


def _preferences_up() -> None:
    bind = op.get_bind()
    for account_id, raw in bind.execute(sa.text("SELECT id, preferences FROM accounts")).all():
        prefs = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
        changed = {k: v for k, v in prefs.items() if k not in OLD_PREFS and k != "cw_time_entries"}
        if "cw_time_entries" in prefs:
            changed["time_entries"] = prefs["cw_time_entries"]
        if changed != prefs:
            accounts = sa.table("accounts", sa.column("id", sa.Integer()), sa.column("preferences", _json()))
            bind.execute(accounts.update().where(accounts.c.id == account_id).values(preferences=changed))


def upgrade() -> None:
    _writebacks_up()
    _connections_up()
    _new_tables_up()
    _preferences_up()


def downgrade() -> None:
    op.drop_table("psa_member_links")
    op.drop_table("psa_board_statuses")
    op.execute("DELETE FROM psa_connections")  # the old shape cannot hold other vendors' settings
    op.drop_table("psa_connections")
    op.create_table(
        "psa_connections", *_common("psa_connections"),
        sa.Column("site", sa.String(255), nullable=False),
        sa.Column("company_id", sa.String(255), nullable=False),
        sa.Column("public_key", sa.String(255), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        _at("updated_at"),
        sa.Column("updated_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["members.id"], name="fk_psa_connections_updated_by_members"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("codebase", sa.String(255), nullable=True),
        sa.UniqueConstraint("account_id", name="uq_psa_connections_account_id"),
    )
    op.create_index("ix_psa_connections_account_id", "psa_connections", ["account_id"])
    op.add_column("writebacks", sa.Column("marker", sa.String(255), nullable=False, server_default=""))
    op.add_column("writebacks", sa.Column("target_status_id", sa.Integer(), nullable=True))
    for name in ("status_outcome", "time_detail", "time_outcome", "time_entry_id", "time_attempted_at",
                 "time_started_at", "note_attempted_at"):
        op.drop_column("writebacks", name)
