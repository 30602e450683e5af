"""How big a prompt may get, and the arithmetic that keeps it there (issue 12, "Long conversations").

Tokens are estimated locally and conservatively at 3.5 characters each: English prose runs nearer
4, so the estimate overshoots, and it costs no request (the count_tokens endpoint would add a round
trip to every turn). Text that tokenizes worse than that (base64, hex dumps, CJK) can still overrun
the estimate; the API then answers "prompt is too long" and the adapter retries once with `TIGHT`,
a quarter of the size, before the turn gives up (R16).

Every budget is stated here, in tokens of this estimate, for the whole input of a main turn: the
system prompt, the tool definitions and every message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CHARS_PER_TOKEN = 3.5


def estimate_tokens(text: str) -> int:
    """A conservative token count for `text` (never below the true count for ordinary prose)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def chars_for(tokens: int) -> int:
    """How many characters fit in `tokens` by the same estimate."""
    return max(0, math.floor(tokens * CHARS_PER_TOKEN))


@dataclass(frozen=True, kw_only=True)
class PromptBudget:
    """Token budgets of one main-turn request. `total` bounds the whole input; the others bound
    its parts, and the history gets whatever `total` leaves after the fixed and volatile parts."""

    total: int
    facts: int  # the "What we know" list of the snapshot; facts beyond it are counted, not listed
    lane: int  # open and answered task-lane items of the snapshot
    digest: int  # the digest of history too old or too long to send in full
    entry: int  # one message of the history (a pasted log) at most; longer text is trimmed
    newest: int  # all the messages since the last reply together (the batch being answered)
    fix: int = 1_000  # the active fix's lines of the snapshot


STANDARD = PromptBudget(total=48_000, facts=8_000, lane=2_000, digest=1_500, entry=6_000, newest=14_000)
TIGHT = PromptBudget(total=12_000, facts=1_500, lane=600, digest=400, entry=1_200, newest=3_000, fix=400)
"""After the API said the prompt was too long: about a quarter of STANDARD, which absorbs text that
tokenizes up to four times worse than the estimate."""

FOLD_CHUNK = 10
"""History that does not fit is folded into the digest this many entries at a time, so the first
message sent in full moves rarely and the cached prefix (R32) keeps matching between turns."""

DIGEST_LINE_CHARS = 160  # one older message in the digest: how it began
FACT_LINE_CHARS = 600  # one fact in the snapshot
LANE_LINE_CHARS = 500  # one task-lane item in the snapshot (core.lane keeps items this short anyway)
TITLE_CHARS = 300  # the session title, the ticket and the fix title in the snapshot
DIGEST_LOOKBACK = 60  # steps before the history window read for the digest (three history chunks)


def trim_text(text: str, max_chars: int, marker: str) -> str:
    """`text` itself when it fits, else its head and tail around `marker` (formatted with the number
    of characters left out). Logs fail at the end as often as at the start, so both are kept."""
    if len(text) <= max_chars:
        return text
    room = max(0, max_chars - len(marker) - 12)  # 12: the digits of the count and the line breaks
    head = room * 2 // 3
    tail = room - head
    left_out = len(text) - head - tail
    end = text[len(text) - tail :] if tail else ""
    return f"{text[:head].rstrip()}\n{marker.format(count=f'{left_out:,}')}\n{end.lstrip()}".strip()


def clip(text: str, max_chars: int) -> str:
    """A one-line fragment of at most `max_chars` characters, marked with an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= max_chars else flat[: max(1, max_chars - 1)].rstrip() + "…"


def newest_fitting(lines: list[str], budget: int) -> int:
    """How many of the last `lines` fit in `budget` tokens together (one line break each)."""
    used = kept = 0
    for line in reversed(lines):
        used += estimate_tokens(line) + 1
        if used > budget:
            break
        kept += 1
    return kept


def fit_newest(costs: list[int], budget: int) -> int:
    """Per-message token cap for the newest messages: each message keeps up to an equal share of
    `budget`, and a share a short message does not use goes to the longer ones."""
    if not costs or sum(costs) <= budget:
        return max(costs, default=0)
    low, high = 0, max(costs)
    while low < high:  # the largest cap whose capped sum still fits
        middle = (low + high + 1) // 2
        if sum(min(c, middle) for c in costs) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def fold_count(costs: list[int], available: int) -> int:
    """How many of the oldest entries (whole FOLD_CHUNKs) to fold so the rest fit in `available`."""
    total = sum(costs)
    folded = 0
    while total > available and folded < len(costs):
        step = min(len(costs), folded + FOLD_CHUNK)
        total -= sum(costs[folded:step])
        folded = step
    return folded
