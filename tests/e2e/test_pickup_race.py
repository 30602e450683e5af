"""R23 on real databases: 20 concurrent pickups of one escalation, exactly one winner (both backends)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, nullcontext
from pathlib import Path

import pytest

from core.bus import InMemoryBus
from core.deps import Deps
from core.engine import Engine
from core.errors import Conflict
from core.models import Role, SessionStatus
from storage.db import make_engine, upgrade
from storage.uow import SqlUnitOfWorkFactory
from tests.databases import throwaway_database
from tests.services import postgres_url_or_skip


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Engine]:
    database: AbstractAsyncContextManager[str] = nullcontext(f"sqlite+aiosqlite:///{tmp_path / 'race.db'}")
    if request.param == "postgres":
        database = throwaway_database(postgres_url_or_skip(), "rflow_race")
    async with database as url:
        db = make_engine(url)
        try:
            await upgrade(db)
            yield Engine(Deps(uow_factory=SqlUnitOfWorkFactory(db), bus=InMemoryBus()))
        finally:
            await db.dispose()


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
