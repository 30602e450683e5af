"""R23 on real databases: 20 concurrent pickups of one escalation, exactly one winner (both backends)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from core.bus import InMemoryBus
from core.deps import Deps
from core.engine import Engine
from core.errors import Conflict
from core.models import Role, SessionStatus
from storage.db import make_engine, upgrade
from storage.uow import SqlUnitOfWorkFactory
from tests.services import postgres_url_or_skip


async def _admin(url: str, statement: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Engine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'race.db'}"
    admin = None
    if request.param == "postgres":
        admin = postgres_url_or_skip()
        name = f"rflow_race_{secrets.token_hex(4)}"
        await _admin(admin, f'CREATE DATABASE "{name}"')
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    db = make_engine(url)
    try:
        await upgrade(db)
        yield Engine(Deps(uow_factory=SqlUnitOfWorkFactory(db), bus=InMemoryBus()))
    finally:
        await db.dispose()
        if admin:
            await _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_twenty_concurrent_pickups_one_winner(engine: Engine) -> None:
    async def member(name: str, role: Role | None = None):  # type: ignore[no-untyped-def]
        actor, _, _ = await engine.accounts.sign_in(account_name="Acme", platform="test", external_id=name,
                                                    name=name, role=role)
        return actor

    await member("Olive")
    dana = await member("Dana")
    seniors = [await member(f"Senior{i}") for i in range(20)]
    posted = await engine.sessions.start(actor=dana, problem="Mail flow stopped for one domain")
    sid = posted.session.id or 0
    await engine.handoffs.escalate(actor=dana, session_id=sid, reason="needs Exchange admin")

    results = await asyncio.gather(*(engine.handoffs.pickup(actor=s, session_id=sid) for s in seniors),
                                   return_exceptions=True)
    winners = [(i, r) for i, r in enumerate(results) if not isinstance(r, BaseException)]
    assert len(winners) == 1, results
    name = f"Senior{winners[0][0]}"
    losers = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, Conflict) and str(r) == f"Already picked up by {name}." for r in losers), losers
    view = await engine.sessions.view(actor=dana, session_id=sid)
    assert view.session.status == SessionStatus.ACTIVE and view.handler is not None and view.handler.name == name
    assert view.escalation is not None and view.escalation.claimed_by == view.handler.id
