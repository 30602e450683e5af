"""Budget: engine overhead of one chat turn, LLM excluded — median ≤ 5 ms (SQLite), ≤ 10 ms (PostgreSQL).

A turn = commit the engineer's message with its pending turn (the request path, before any ack),
then claim it, build the context, store the (instant) reply with its lane update and finish the turn
(the worker path). Both are printed; the budget is judged on the whole turn.
Run: python -m bench.chat_turn --backend sqlite
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
        samples, request_path = [], []
        for i in range(opts.n):
            started = time.perf_counter()
            await engine.sessions.post_message(actor=actor, session_id=posted.session.id or 0, text=f"message {i}")
            request_path.append((time.perf_counter() - started) * 1000)
            result = await engine.turns.run_once()
            samples.append((time.perf_counter() - started) * 1000)
            assert result is not None and result.reply is not None
        report(f"request path: message + pending turn committed ({opts.backend})", request_path, BUDGET_MS[opts.backend])
        return report(f"whole chat turn, LLM excluded ({opts.backend})", samples, BUDGET_MS[opts.backend])


if __name__ == "__main__":
    run(main())
