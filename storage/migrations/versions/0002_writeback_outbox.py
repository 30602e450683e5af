"""The PSA writeback outbox and each account's ConnectWise connection.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02

Written by hand, like 0001 (whose helpers are restated here: revision files are not importable).
Only adds tables, so it is safe on a database that already holds data.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Element = sa.schema.SchemaItem


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def _account(table: str) -> list[Element]:
    return [
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=f"fk_{table}_account_id_accounts"
        ),
    ]


def _ref(table: str, name: str, target: str, *, nullable: bool = False) -> list[Element]:
    return [
        sa.Column(name, sa.Integer(), nullable=nullable),
        sa.ForeignKeyConstraint([name], [f"{target}.id"], name=f"fk_{table}_{name}_{target}"),
    ]


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _enum(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(32), nullable=nullable)


def _create(table: str, *elements: Element | list[Element]) -> None:
    flat: list[Element] = []
    for element in elements:
        flat.extend(element if isinstance(element, list) else [element])
    op.create_table(table, _id(), *flat, sa.PrimaryKeyConstraint("id", name=f"pk_{table}"))
    op.create_index(f"ix_{table}_account_id", table, ["account_id"])


def upgrade() -> None:
    _create(
        "writebacks",
        _account("writebacks"),
        _ref("writebacks", "session_id", "sessions"),
        _ref("writebacks", "writeup_id", "writeups"),
        _enum("kind"),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("note_kind", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("marker", sa.String(255), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        _at("created_at"),
        _ref("writebacks", "created_by", "members"),
        sa.Column("target_status_id", sa.Integer(), nullable=True),
        sa.Column("time_entry_minutes", sa.Integer(), nullable=True),
        _enum("status"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        _at("lease_until", nullable=True),
        sa.Column("external_note_id", sa.String(255), nullable=True),
        _at("note_posted_at", nullable=True),
        sa.Column("outcome", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("actual_status", sa.Text(), nullable=True),
        _at("finished_at", nullable=True),
        sa.UniqueConstraint(
            "account_id", "idempotency_key", name="uq_writebacks_account_id_idempotency_key"
        ),
    )
    op.create_index("ix_writebacks_status_created_at", "writebacks", ["status", "created_at"])
    op.create_index("ix_writebacks_session_id_created_at", "writebacks", ["session_id", "created_at"])
    _create(
        "psa_connections",
        _account("psa_connections"),
        sa.Column("site", sa.String(255), nullable=False),
        sa.Column("company_id", sa.String(255), nullable=False),
        sa.Column("public_key", sa.String(255), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        _at("updated_at"),
        _ref("psa_connections", "updated_by", "members"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("codebase", sa.String(255), nullable=True),
        sa.UniqueConstraint("account_id", name="uq_psa_connections_account_id"),
    )


def downgrade() -> None:
    op.drop_table("psa_connections")
    op.drop_table("writebacks")
