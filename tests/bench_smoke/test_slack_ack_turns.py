"""bench/slack_ack.py's issue-10 mode (`--turns-running`) end to end at a tiny size: rounds of 20
requests, each fired once 3 sessions' turns are at the fake Messages API (replies streaming over
1.5 s). It must yield numbers for both apps, and the fake's records must show the turns in flight
through every round, the bare app's included; the numbers themselves are not judged here. With
`workers=1` (PostgreSQL and Redis only) ours is `rflow serve --no-workers` plus one `rflow worker`."""

from __future__ import annotations

import os

import pytest

from bench import slack_ack
from tests.services import redis_url_or_skip


def test_at_the_model_counts_the_calls_in_flight_over_the_window() -> None:
    calls: list[list[float | None]] = [[0.0, 10.0], [2.0, None], [0.0, 5.0]]
    assert slack_ack.at_the_model(calls, 1.0, 9.0) == (2, pytest.approx(19 / 8))  # 2 on [1,2), 3 on [2,5), 2 on [5,9)


async def test_acks_are_timed_while_the_turns_are_at_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    result = await slack_ack.measure(concurrency=20, rounds=1, warmup=0, sessions=2, turns_running=3,
                                     first_token=0.2, turn_seconds=1.5)
    for app in ("ours", "bare"):
        assert result.statuses(app) == {200: 20}
        assert len(result.ms(app, "events")) == 10 and len(result.ms(app, "interactions")) == 10
        assert all(ms > 0 for ms in result.ms(app, "all"))
    # The fake Messages API had all 3 turns in flight from each round's first send to its last answer,
    # in our round and in the bare floor's alike.
    for app in ("ours", "bare"):
        [(fewest, mean)] = result.turns_in_flight[app]
        assert fewest == 3 and mean == pytest.approx(3.0), result.turns_in_flight
    # Set-up (2 load + 3 turn sessions) and each round's 3 turn messages were model calls.
    assert result.turn_messages == 6
    assert result.model_calls["update_session"] >= 5 + 6
    # Every acked request is in the inbox once and was worked off: set-up, the turn messages, the load.
    assert result.sent_to_ours == 20
    assert result.ours_end["stored"] == {"done": 5 + result.turn_messages + 20}
    assert result.ratio("all", 99) > 0
    slack_ack.report(result)
    printed = capsys.readouterr().out
    assert "while 3 turns were running" in printed and "budget ≤ 1.5 (p99)" in printed


@pytest.mark.postgres
@pytest.mark.redis
async def test_acks_are_timed_against_a_serve_while_a_worker_runs_the_turns(capsys: pytest.CaptureFixture[str]) -> None:
    if not os.environ.get("RF_TEST_POSTGRES_URL"):
        pytest.skip("--workers runs `rflow serve --no-workers` + `rflow worker` on PostgreSQL: set RF_TEST_POSTGRES_URL")
    redis_url_or_skip()
    result = await slack_ack.measure(backend="postgres", concurrency=10, rounds=1, warmup=0, sessions=2, turns_running=2,
                                     first_token=0.2, turn_seconds=1.5, workers=1)
    for app in ("ours", "bare"):
        assert result.statuses(app) == {200: 10}
        [(fewest, _)] = result.turns_in_flight[app]
        assert fewest == 2, result.turns_in_flight  # the worker's turns were at the model through both rounds
    assert result.turn_messages == 4
    # The serve stored every acked request and the worker worked it off: set-up, the turn messages, the load.
    assert result.ours_end["stored"] == {"done": 4 + result.turn_messages + 10}
    assert set(result.ours_end["cpu_s"]) == {"serve", "worker1"} and "exited" not in result.ours_end
    slack_ack.report(result)
    printed = capsys.readouterr().out
    assert "ours (serve+1w)" in printed and "+ 1 `rflow worker` process" in printed
