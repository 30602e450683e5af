"""Budget: a preview served from cache — ≤ 1 ms and zero LLM calls (R2).

Run: python -m bench.preview_cache --backend sqlite
"""

from __future__ import annotations

import time

from bench.common import args, engine_on, member, report, run


async def main() -> bool:
    opts = args()
    async with engine_on(opts.backend) as (engine, assistant):
        actor = await member(engine, "dana")
        posted = await engine.sessions.start(actor=actor, problem="Benchmark session")
        await engine.turns.drain()
        sid = posted.session.id or 0
        await engine.facts.add_note(actor=actor, session_id=sid, text="A fact worth a note")
        await engine.previews.preview(actor=actor, session_id=sid, kind="resolve")
        calls_before = assistant.calls
        samples = []
        for _ in range(opts.n):
            started = time.perf_counter()
            preview = await engine.previews.preview(actor=actor, session_id=sid, kind="resolve")
            samples.append((time.perf_counter() - started) * 1000)
            assert preview.cached
        llm_calls = assistant.calls - calls_before
        print(f"LLM calls while serving {opts.n} cached previews: {llm_calls}")
        return report(f"cached preview ({opts.backend})", samples, 1.0) and llm_calls == 0


if __name__ == "__main__":
    run(main())
