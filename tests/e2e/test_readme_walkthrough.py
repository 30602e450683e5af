"""The README's two walkthroughs, replayed as a newcomer would type them (issue 14): the console one
with the assistant off, and the `rflow demo` one against the scripted stand-in, in-process and
through `python -m bot.demo` (what `rflow demo` runs)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.demo import BANNER, STAND_IN_MODEL
from bot.stand_in import demo_script
from tests.e2e.conftest import Rflow
from tests.fakes.anthropic_api import FakeAnthropic

README = Path(__file__).resolve().parents[2] / "README.md"
CONSOLE_HEADING = "### Trying it in the console"
DEMO_HEADING = "### The demo: the assistant without a key"
PROMPT = "rflow> "


def walkthrough(heading: str) -> list[str]:
    """The lines of the first fenced block after `heading`, without the `rflow> ` prompt."""
    lines = README.read_text(encoding="utf-8").splitlines()
    assert heading in lines, f"README.md has no heading {heading!r}"
    rest = lines[lines.index(heading) + 1 :]
    start = next(i for i, line in enumerate(rest) if line.startswith("```"))
    end = next(i for i, line in enumerate(rest[start + 1 :], start + 1) if line.startswith("```"))
    block = rest[start + 1 : end]
    assert block and all(line.startswith(PROMPT) for line in block), block
    return [line.removeprefix(PROMPT) for line in block]


def assert_the_demo_story(out: str) -> None:
    """Questions and checks, a proposed fact, a suggested fix, an outcome proposal, a composed note."""
    for seen in ("assistant> Let's narrow it down.", f"+ Q1 {demo_script.QUESTION}", f"+ C1 {demo_script.CHECK}",
                 "? P1 Jobs are stuck in the print queue on the print server (a proposed fact",
                 f"Suggested fix: {demo_script.FIX_TITLE} (confidence 80%)",
                 "Proposed P2: The printer answers ping", "Confirmed as F2: The printer answers ping",
                 "The assistant read that the fix worked. Confirm outcome? /confirm or /notyet",
                 "Recorded: the fix worked.", "── Resolution note preview (state v",
                 "## What we confirmed\n- Jobs are stuck in the print queue on the print server\n- The printer answers ping",
                 f"## Resolution\n{demo_script.FIX_TITLE}: {demo_script.FIX_DESCRIPTION}",
                 "Resolved session #1. No ticket is linked"):  # fmt: skip
        assert seen in out, f"{seen!r} not in:\n{out}"
    assert "composed deterministically" not in out  # the stand-in's note passed the grounding check (R13)
    assert "✗" not in out and "(Scripted demo)" not in out, out


async def test_the_console_walkthrough_works_with_the_assistant_off(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    lines = walkthrough(CONSOLE_HEADING)
    run = await rflow.console("\n".join(lines) + "\n", "--strict", ANTHROPIC_API_KEY="")
    assert run.code == 0, run.out + run.err
    assert "The assistant is off (no ANTHROPIC_API_KEY)" in run.out
    for seen in ("Session #1 started: Printer on floor 2 shows offline for everyone", "Added F1: The printer answers ping",
                 "Fix proposed: Clear the spooler.", "Recorded: the fix worked.", "── Resolution note preview (state v",
                 "Resolved session #1."):  # fmt: skip
        assert seen in run.out, seen
    assert "✗" not in run.out and "Traceback" not in run.err, run.out + run.err
    assert anthropic.requests == []  # the assistant really was off


def test_the_demo_walkthrough_is_the_stand_ins_script() -> None:
    assert tuple(walkthrough(DEMO_HEADING)) == demo_script.WALKTHROUGH


async def test_the_demo_walkthrough_against_the_stand_in_in_process(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    demo_script.install(anthropic)  # the fixture's server is the stand-in; ANTHROPIC_BASE_URL points at it
    run = await rflow.console("\n".join(walkthrough(DEMO_HEADING)) + "\n", "--strict")
    assert run.code == 0, run.out + run.err
    assert_the_demo_story(run.out)
    tools = [(r.body.get("tool_choice") or {}).get("name") for r in anthropic.requests]
    assert tools.count("update_session") == 3 and "record_fact" in tools and "write_note" in tools, tools
    assert all(r.status == 200 for r in anthropic.requests)


async def test_rflow_demo_runs_the_walkthrough_without_a_key_and_leaves_nothing(rflow: Rflow) -> None:
    """`python -m bot.demo` (run_demo, what `rflow demo` calls) with the lines piped in, as typed:
    no key and no base URL in the environment, nothing written to the working directory."""
    env = rflow.process_env()
    env = {k: v for k, v in env.items() if not k.startswith(("ANTHROPIC_", "RF_SQLITE_PATH"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.demo", cwd=rflow.tmp, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    lines = "\n".join(demo_script.WALKTHROUGH) + "\n"
    out_b, err_b = await asyncio.wait_for(proc.communicate(lines.encode()), timeout=90)
    out, err = out_b.decode(), err_b.decode()
    assert proc.returncode == 0, out + err
    assert out.splitlines()[0] == BANNER and "scripted local stand-in" in BANNER and "not the real assistant" in BANNER
    assert f"The assistant is on ({STAND_IN_MODEL})." in out
    assert_the_demo_story(out)
    assert "Traceback" not in err, err
    assert sorted(p.name for p in rflow.tmp.iterdir()) == []  # the demo's database was temporary


async def test_rflow_demo_replays_a_file_strictly(rflow: Rflow) -> None:
    script = rflow.tmp / "demo.txt"
    script.write_text("\n".join([*demo_script.WALKTHROUGH[:2], "/frobnicate"]) + "\n", encoding="utf-8")
    env = {k: v for k, v in rflow.process_env().items() if not k.startswith("ANTHROPIC_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.demo", "--replay", str(script), "--strict", cwd=rflow.tmp, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out_b, err_b = await asyncio.wait_for(proc.communicate(), timeout=90)
    out = out_b.decode()
    assert proc.returncode == 1, out + err_b.decode()  # --strict: the unknown command failed the run
    assert f"> {demo_script.WALKTHROUGH[1]}" in out and f"Suggested fix: {demo_script.FIX_TITLE}" in out
