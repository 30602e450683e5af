"""KeyedLocks: one at a time per key, others in parallel, and no lock left behind."""

from __future__ import annotations

import asyncio

from core.ordering import KeyedLocks


async def test_one_key_runs_in_order_other_keys_in_parallel_and_nothing_is_kept() -> None:
    locks = KeyedLocks()
    log: list[str] = []

    async def work(key: str, name: str, seconds: float) -> None:
        async with locks.hold(key):
            log.append(f"{name}+")
            await asyncio.sleep(seconds)
            log.append(f"{name}-")

    await asyncio.gather(work("a", "a1", 0.05), work("a", "a2", 0.0), work("b", "b1", 0.01))
    assert log.index("a1-") < log.index("a2+")  # same key: the second waits for the first
    assert log.index("b1+") < log.index("a1-")  # another key does not wait
    assert len(locks) == 0
