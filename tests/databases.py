"""Throwaway PostgreSQL databases beside the one the test run was given (tests/services.py), for the
suites that need a database of their own: created empty, dropped (forcibly) afterwards."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import make_url, text

from storage.db import make_engine


async def admin(url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE cannot run inside one)."""
    engine = make_engine(url)
    try:
        async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


@asynccontextmanager
async def throwaway_database(admin_url: str, prefix: str) -> AsyncIterator[str]:
    """`<prefix>_<random>` beside the admin URL's database; yields its URL, drops it afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    await admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
