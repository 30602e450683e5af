"""A process killed in the middle of an assistant turn loses nothing and answers once (durable queue)."""

from __future__ import annotations

import asyncio
import sqlite3

from tests.e2e.conftest import Rflow
from tests.fakes.anthropic_api import FakeAnthropic


async def test_killed_mid_turn_then_restarted(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    anthropic.push_hang(60)  # the first assistant call never returns: the process dies waiting
    anthropic.push_update("Back again: what changed on the server recently?")
    first = await rflow.start("/new Terminal server is slow every morning\n", RF_TURN_LEASE_SECONDS="1")
    for _ in range(200):
        if anthropic.requests:
            break
        await asyncio.sleep(0.05)
    assert len(anthropic.requests) == 1, "the turn never reached the assistant"
    first.kill()
    await first.wait()

    await asyncio.sleep(1.2)  # the dead worker's lease runs out
    run = await rflow.console("/open 1\n/lane\n", "--strict", RF_TURN_LEASE_SECONDS="1")
    assert run.code == 0, run.out + run.err
    assert "Resumed 1 assistant turn(s) left pending by an earlier run." in run.out
    assert run.out.count("assistant> Back again: what changed on the server recently?") == 1

    again = await rflow.console("/open 1\n/lane\n", "--strict")
    assert "Resumed" not in again.out and "assistant>" not in again.out
    with sqlite3.connect(rflow.tmp / "rflow.db") as db:
        kinds = [row[0] for row in db.execute("select kind from steps order by id")]
    assert kinds == ["engineer_message", "assistant_reply"]
    assert len(anthropic.requests) == 2
