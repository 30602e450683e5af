"""The Slack benches (issue 3 §6) run end to end at tiny sizes, so they keep working between the runs
that report their numbers; the calls bench also holds the product to its budget of two Web API calls
per chat turn. The sizes keep this under about 15 s; the numbers themselves are not judged here."""

from __future__ import annotations

import pytest

from bench import slack_ack, slack_calls


def test_percentile_is_the_nearest_rank() -> None:
    samples = [float(x) for x in range(100, 0, -1)]
    assert slack_ack.percentile(samples, 50) == 50.0
    assert slack_ack.percentile(samples, 99) == 99.0
    assert slack_ack.percentile([7.0], 99) == 7.0


async def test_ack_bench_answers_every_request_and_our_bot_stores_each_one(capsys: pytest.CaptureFixture[str]) -> None:
    result = await slack_ack.measure(concurrency=10, rounds=1, warmup=0, sessions=2)
    for app in ("ours", "bare"):
        assert result.statuses(app) == {200: 10}
        assert len(result.ms(app, "events")) == 5 and len(result.ms(app, "interactions")) == 5
        assert all(ms > 0 for ms in result.ms(app, "events") + result.ms(app, "interactions"))
    # Every acked request is in the inbox once and was worked off (plus the two set-up mentions).
    assert result.sent_to_ours == 10
    assert result.ours_end["stored"] == {"done": 10 + 2}
    assert result.ratio("events", 50) > 0 and result.ratio("interactions", 99) > 0
    slack_ack.report(result)
    printed = capsys.readouterr().out
    assert "ratio ours/bare" in printed and "budget ≤ 1.5" in printed and "CPUs" in printed


async def test_a_chat_turn_makes_one_status_one_reply_and_one_lane_update(capsys: pytest.CaptureFixture[str]) -> None:
    result = await slack_calls.measure(turns=2)
    expected = {"assistant.threads.setStatus": 1, "chat.postMessage": 1, "chat.update": 1}  # R37: "thinking" first
    assert [turn.calls for turn in result.turns] == [expected] * 2
    assert result.ok
    assert len(result.reply_ms) == 2 and all(ms > 0 for ms in result.reply_ms)
    slack_calls.report(result)
    assert "→ OK (2 of 2 turns)" in capsys.readouterr().out
