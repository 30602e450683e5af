"""Budget: engine overhead of one chat turn, LLM excluded — median ≤ 5 ms (SQLite), ≤ 10 ms (PostgreSQL).

A turn = commit the engineer's message with its pending turn, claim it, build the context, store the
(instant) reply with its lane update, finish the turn. Run: python -m bench.chat_turn --backend sqlite
"""

from __future__ import annotations

import time

from bench.common import args, engine_on, member, report, run

BUDGET_MS = {"sqlite": 5.0, "postgres": 10.0}


async def main() -> bool:
    opts = args()
    async with engine_on(opts.backend) as (engine, _):
        actor = await member(engine, "dana")
        posted = await engine.sessions.start(actor=actor, problem="Benchmark session")
        await engine.turns.drain()
        samples = []
        for i in range(opts.n):
            started = time.perf_counter()
            await engine.sessions.post_message(actor=actor, session_id=posted.session.id or 0, text=f"message {i}")
            result = await engine.turns.run_once()
            samples.append((time.perf_counter() - started) * 1000)
            assert result is not None and result.reply is not None
        return report(f"chat turn ({opts.backend})", samples, BUDGET_MS[opts.backend])


if __name__ == "__main__":
    run(main())
