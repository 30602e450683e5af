"""The writeback bench (issue 13) runs end to end at a tiny size, so it keeps working between the runs
that report its numbers: every delivery writes one note and one time entry (it asserts that itself),
within the call budget, including when every POST is answered after the client's timeout. The time
ratio is not judged here: this machine is shared while the suite runs."""

from __future__ import annotations

import re

import pytest

from bench import writeback


async def test_each_resolve_is_one_note_one_time_entry_and_a_verified_status(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["bench.writeback", "--n", "5"])
    await writeback.main()
    printed = capsys.readouterr().out
    calls = re.search(r"(\d+) calls per resolve \(max (\d+), budget (\d+)\)", printed)
    assert calls is not None and int(calls.group(2)) <= int(calls.group(3)), printed
    assert "POST service/tickets/{id}/notes ×1" in printed and "POST time/entries ×1" in printed
    late = re.search(r"timeout: (\d+) calls \(budget (\d+)\)", printed)
    assert late is not None and int(late.group(1)) <= int(late.group(2)), printed
