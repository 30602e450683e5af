"""Budget: 50 concurrent pickups of one escalation — exactly one winner, all answered within 200 ms.

Run: python -m bench.pickups --backend postgres
"""

from __future__ import annotations

import asyncio
import time

from bench.common import args, engine_on, member, run
from core.errors import Conflict

SENIORS = 50
BUDGET_MS = 200.0


async def main() -> bool:
    opts = args()
    async with engine_on(opts.backend) as (engine, _):
        await member(engine, "owner")
        dana = await member(engine, "dana")
        seniors = [await member(engine, f"senior{i}") for i in range(SENIORS)]

        async def round_of_pickups() -> tuple[list[object], float]:
            """One escalation, all seniors press Pick up at once: the results and the slowest answer."""
            posted = await engine.sessions.start(actor=dana, problem="Benchmark escalation")
            await engine.turns.drain()
            sid = posted.session.id or 0
            await engine.handoffs.escalate(actor=dana, session_id=sid, reason="bench", markdown="## Problem\nbench")
            answered: list[float] = []
            started = time.perf_counter()

            async def pickup(actor):  # type: ignore[no-untyped-def]
                try:
                    return await engine.handoffs.pickup(actor=actor, session_id=sid)
                except Conflict as exc:
                    return exc
                finally:
                    answered.append((time.perf_counter() - started) * 1000)

            results = await asyncio.gather(*(pickup(s) for s in seniors))
            return list(results), max(answered)

        await round_of_pickups()  # warm-up: a running server has its connections and statements prepared
        results, slowest = await round_of_pickups()
        winners = [r for r in results if not isinstance(r, Exception)]
        losers_told = sum(isinstance(r, Conflict) and str(r).startswith("Already picked up by") for r in results)
        ok = len(winners) == 1 and losers_told == SENIORS - 1 and slowest <= BUDGET_MS
        print(f"{SENIORS} concurrent pickups ({opts.backend}): winners={len(winners)} losers_told={losers_told} "
              f"all answered within {slowest:.1f} ms (budget {BUDGET_MS} ms) → {'OK' if ok else 'OVER BUDGET'}")
        return ok


if __name__ == "__main__":
    run(main())
