"""Budget: redaction (R14) stays linear on long and hostile pastes — a 240 kB paste in ≤ 300 ms
(median), and every pathological input no slower per character at 4x its size than at 1x (ratio
≤ 2.5, measured in the same run, so a noisy machine cancels out).

Run: python -m bench.redaction
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bench.common import report
from core.redaction import redact

PASTE = "password is wrong; srv-01 at 10.0.0.1 says 0x80070005 pass pin token sk- eyJ "
# Inputs that make a backtracking pattern go quadratic or worse; `n` is their size knob.
PATHOLOGICAL: dict[str, Callable[[int], str]] = {
    "dots": lambda n: "password=" + "." * (20 * n) + "x",
    "brackets": lambda n: "password=x" + ".)" * (10 * n),
    "ats": lambda n: "https://u:" + "@x" * (5 * n),
    "qualifiers": lambda n: "password for " * (4 * n),
    "newlines": lambda n: "password:" + "\n" * (20 * n),
    "pem": lambda n: "-----BEGIN PRIVATE KEY-----\n" + "QUJD\n" * (4 * n),
}
SIZE = 1000
RATIO_BUDGET = 2.5


def timed(text: str, repeats: int = 5) -> float:
    """Best of `repeats`, in ms: the least disturbed run."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        redact(text)
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


async def main() -> bool:
    samples = [timed(PASTE * 3000 + "password: final1", repeats=1) for _ in range(10)]
    ok = report("redact a 240 kB paste", samples, 300.0)
    for name, make in PATHOLOGICAL.items():
        small, large = make(SIZE), make(4 * SIZE)
        per_char = (timed(large) / len(large)) / (timed(small) / len(small))
        fine = per_char <= RATIO_BUDGET
        ok = ok and fine
        print(f"pathological {name}: {len(small):,} → {len(large):,} chars, time per char x{per_char:.2f} "
              f"(budget ≤ {RATIO_BUDGET}) → {'OK' if fine else 'OVER BUDGET'}")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if asyncio.run(main()) else 1)
