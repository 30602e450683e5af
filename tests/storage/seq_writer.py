"""One OS process of tests/storage/test_seq_concurrency.py: builds its own database engine and
engine services, waits for the go signal, then adds facts (or lane items) concurrently and prints
one JSON line per attempt. Several of these run at once against one SQLite file or PostgreSQL.

    python -m tests.storage.seq_writer <url> <account> <member> <session> <worker> <count> <go-file> facts|lane
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from core.access import Actor
from core.bus import InMemoryBus
from core.deps import Deps
from core.engine import Engine
from core.lane import merge_proposals
from core.ports import UnitOfWorkFactory
from storage.db import make_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.storage.scenario import T0

GO_WAIT_SECONDS = 60.0


async def _add_fact(engine: Engine, actor: Actor, session_id: int, text: str) -> dict[str, Any]:
    """Through the public service, as a surface would call it: any error is a lost input."""
    try:
        fact = await engine.facts.add_note(actor=actor, session_id=session_id, text=text)
    except Exception as error:  # reported to the parent, which fails the test with it
        return {"text": text, "ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"text": text, "ok": True, "seq": fact.seq}


async def _add_items(factory: UnitOfWorkFactory, account_id: int, session_id: int, tag: str) -> dict[str, Any]:
    """One assistant turn's proposals (a question and a check) merged in their own transaction."""
    try:
        async with factory() as uow:
            session = await uow.sessions.get(account_id=account_id, session_id=session_id)
            assert session is not None
            created = await merge_proposals(uow, session=session, questions=(f"question {tag}?",),
                                            checks=(f"check {tag}",), now=T0)
            await uow.commit()
    except Exception as error:
        return {"text": tag, "ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"text": tag, "ok": True, "items": [[item.kind.value, item.seq, item.text] for item in created]}


async def _wait_for(go: Path) -> None:
    deadline = time.monotonic() + GO_WAIT_SECONDS
    while not go.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("no go signal")
        await asyncio.sleep(0.005)


async def main(argv: list[str]) -> None:
    url, account, member, session, worker, count, go, mode = argv
    account_id, session_id, n = int(account), int(session), int(count)
    db = make_engine(url)
    try:
        factory = SqlUnitOfWorkFactory(db)
        engine = Engine(Deps(uow_factory=factory, bus=InMemoryBus()))
        async with factory() as uow:  # connect (and import) before the start, not during it
            await uow.sessions.get(account_id=account_id, session_id=session_id)
        Path(f"{go}.ready.{worker}").touch()
        await _wait_for(Path(go))
        if mode == "facts":
            actor = Actor(account_id=account_id, member_id=int(member))
            jobs = [_add_fact(engine, actor, session_id, f"fact {worker}-{k}") for k in range(n)]
        else:
            jobs = [_add_items(factory, account_id, session_id, f"{worker}-{k}") for k in range(n)]
        for result in await asyncio.gather(*jobs):
            print(json.dumps(result), flush=True)
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
