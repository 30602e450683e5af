"""Platforms: tenant links, the durable inbound inbox, surface references and connect codes.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03

Written by hand, like 0001 (whose helpers are restated here: revision files are not importable).
Only adds tables and their indexes, so it is safe on a database that already holds data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Element = sa.schema.SchemaItem


def _json(nullable: bool = False) -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=nullable).with_variant(
        postgresql.JSONB(none_as_null=nullable), "postgresql"
    )


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


def _create(table: str, *elements: Element | list[Element], scoped: bool = True) -> None:
    flat: list[Element] = []
    for element in elements:
        flat.extend(element if isinstance(element, list) else [element])
    op.create_table(table, _id(), *flat, sa.PrimaryKeyConstraint("id", name=f"pk_{table}"))
    if scoped:
        op.create_index(f"ix_{table}_account_id", table, ["account_id"])


def upgrade() -> None:
    _create(
        "tenant_links",
        _account("tenant_links"),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        _at("created_at"),
        sa.UniqueConstraint(
            "platform", "external_id", name="uq_tenant_links_platform_external_id"
        ),
    )
    # No account_id: a delivery is stored before its account is known.
    _create(
        "inbound_deliveries",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        _at("created_at"),
        _enum("status"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        _at("lease_until", nullable=True),
        _at("finished_at", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("platform", "key", name="uq_inbound_deliveries_platform_key"),
        scoped=False,
    )
    op.create_index(
        "ix_inbound_deliveries_status_created_at", "inbound_deliveries", ["status", "created_at"]
    )
    _create(
        "surface_refs",
        _account("surface_refs"),
        sa.Column("surface", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("ref", _json(), nullable=False),
        _at("updated_at"),
        _ref("surface_refs", "session_id", "sessions", nullable=True),
        sa.UniqueConstraint(
            "account_id", "surface", "key", name="uq_surface_refs_account_id_surface_key"
        ),
    )
    op.create_index("ix_surface_refs_surface_key", "surface_refs", ["surface", "key"])
    _create(
        "connect_codes",
        _account("connect_codes"),
        sa.Column("code_hash", sa.String(128), nullable=False),
        _ref("connect_codes", "created_by", "members"),
        _at("created_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        sa.Column("used_by_platform", sa.String(32), nullable=True),
        sa.Column("used_by_tenant", sa.String(255), nullable=True),
        sa.UniqueConstraint("code_hash", name="uq_connect_codes_code_hash"),
    )


def downgrade() -> None:
    op.drop_table("connect_codes")
    op.drop_table("surface_refs")
    op.drop_table("inbound_deliveries")
    op.drop_table("tenant_links")
