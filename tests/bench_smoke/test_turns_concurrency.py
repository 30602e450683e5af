"""bench/turns_concurrency.py end to end at a tiny size (3 sessions, a 0.3 s model, 5 timed turns on
SQLite), so it keeps working between the runs that report its numbers; the numbers are not judged."""

from __future__ import annotations

import pytest

from bench import turns_concurrency as bench


def test_percentile_is_the_nearest_rank() -> None:
    samples = [float(x) for x in range(100, 0, -1)]
    assert bench.percentile(samples, 95) == 95.0
    assert bench.percentile(samples, 50) == 50.0
    assert bench.percentile([7.0], 95) == 7.0


async def test_sessions_at_once_each_get_feedback_streamed_text_and_a_reply(capsys: pytest.CaptureFixture[str]) -> None:
    result = await bench.measure_concurrency("sqlite", sessions=3, first_token=0.05, total=0.3, timeout=30)
    assert result.failures == 0
    assert len(result.feedback_s) == len(result.reply_s) == 3 and len(result.first_text_s) == 3
    # Each reply took the model's time at least, and the feedback came before the first text.
    assert all(reply >= 0.3 for reply in result.reply_s), result.reply_s
    assert all(f < t for f, t in zip(sorted(result.feedback_s), sorted(result.first_text_s), strict=True))
    bench.report_concurrency(result)
    printed = capsys.readouterr().out
    assert "3 sessions at once (sqlite, one process, RF_TURN_CONCURRENCY=64" in printed
    assert "theoretical floor 0.3 s" in printed and "reply complete p95 / floor" in printed


async def test_overhead_times_every_turn_through_the_scheduler(capsys: pytest.CaptureFixture[str]) -> None:
    samples = await bench.measure_overhead("sqlite", turns=5)
    assert len(samples) == 5 and all(ms > 0 for ms in samples)
    bench.report_overhead("sqlite", samples)
    assert "engine overhead per whole turn" in capsys.readouterr().out
