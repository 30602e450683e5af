"""R13 and R16 through the real `rflow console` process and the fake Messages API: an invented
token makes the console show the deterministic note and say why, the next preview at the same
state version asks the assistant again, and an unavailable assistant is said as such."""

from __future__ import annotations

import re
from typing import Any

from core.compose import DETERMINISTIC_MARKER
from tests.e2e.conftest import Rflow
from tests.fakes.anthropic_api import FakeAnthropic, note_markdown
from tests.fakes.anthropic_replies import ErrorReply, RepliesByTool

CLEAN = note_markdown("resolve", "Fourteen jobs were stuck in the queue; clearing it restored printing.")
SCRIPT = """
/new Printer offline for 3 users
/fact The queue holds 14 jobs
/preview resolve
/preview resolve
/preview resolve
"""


def note_bodies(anthropic: FakeAnthropic) -> list[dict[str, Any]]:
    return [r.body for r in anthropic.requests if (r.body.get("tool_choice") or {}).get("name") == "write_note"]


def heads(out: str) -> list[str]:
    return [line for line in out.splitlines() if "preview (state v" in line]


async def test_inventing_drafts_fall_back_honestly_and_the_assistant_is_asked_again(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    notes = anthropic.default_responder = RepliesByTool()
    notes.push_note(note_markdown("resolve", "The print server 10.9.8.7 was restarted."),
                    note_markdown("resolve", "Installing KB5034441 fixed it."), CLEAN)
    run = await rflow.console(SCRIPT, "--strict")
    assert run.code == 0, run.out + run.err
    first, second, third = heads(run.out)
    assert "composed deterministically: the assistant's drafts stated details not in this session" in first
    assert "cached" not in second and "composed" not in second and "cached" in third
    assert len({re.search(r"state v(\d+)", head).group(1) for head in (first, second, third)}) == 1  # type: ignore[union-attr]
    assert DETERMINISTIC_MARKER in run.out and "Fourteen jobs were stuck" in run.out
    assert "10.9.8.7" not in run.out and "KB5034441" not in run.out
    bodies = note_bodies(anthropic)
    assert len(bodies) == 3  # two drafts, then asked again at the same version; the third preview is cached
    assert "- 10.9.8.7" in bodies[1]["messages"][0]["content"][1]["text"]


async def test_an_unavailable_assistant_is_said_and_not_cached(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    notes = anthropic.default_responder = RepliesByTool()
    notes.push("write_note", ErrorReply(500, "api_error"))  # then the default answer: a clean note
    run = await rflow.console(SCRIPT, "--strict")
    assert run.code == 0, run.out + run.err
    first, second, third = heads(run.out)
    assert "composed deterministically: the assistant was unavailable" in first
    assert "composed" not in second and "cached" not in second and "cached" in third
    assert len(note_bodies(anthropic)) == 2
