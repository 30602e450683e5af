"""The live console (R37): on a terminal the assistant's turns run in the background, a thinking line
shows at once, the reply prints when it comes, and Ctrl-C stops the turn; piped input keeps its
line-by-line transcript. The real `rflow console` process, the assistant faked at the HTTP edge."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Callable
from typing import Any

from adapters.console import messages as m
from tests.e2e.conftest import Rflow
from tests.e2e.console_terminal import CTRL_C, Terminal
from tests.fakes.anthropic_api import FakeAnthropic, Reply, StreamTiming, ToolUseReply, update_session_input


def turn_statuses(rflow: Rflow) -> list[str]:
    with sqlite3.connect(rflow.tmp / "rflow.db") as db:
        return [row[0] for row in db.execute("select status from pending_turns order by id")]


async def settled_statuses(rflow: Rflow) -> list[str]:
    """The turns once none is running: a turn closes just after its reply is shown (R37)."""
    for _ in range(200):
        statuses = turn_statuses(rflow)
        if "running" not in statuses:
            return statuses
        await asyncio.sleep(0.05)
    return turn_statuses(rflow)


async def until_called(anthropic: FakeAnthropic, n: int = 1) -> None:
    for _ in range(400):
        if len(anthropic.requests) >= n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the assistant got {len(anthropic.requests)} call(s), not {n}")


def always(reply: str) -> Callable[[dict[str, Any]], Reply]:
    """Every call without a scripted reply gets this one, whichever call comes first."""
    def responder(body: dict[str, Any]) -> Reply:
        return ToolUseReply("update_session", update_session_input(reply))
    return responder


async def test_thinking_shows_at_once_and_the_reply_comes_while_the_engineer_types_on(
        rflow: Rflow, anthropic: FakeAnthropic) -> None:
    anthropic.push_update("Let's narrow it down.", questions=["Does the printer answer ping?"],
                          timing=StreamTiming(first_token=1.0, total=5.0, chunks=10))
    term = await Terminal.start(rflow)
    await term.prompt()
    term.type("/new Printer on floor 2 is offline")
    shown = await term.expect(m.THINKING)
    assert "Session #1 started: Printer on floor 2 is offline" in shown
    await term.prompt()
    term.type("/sessions")  # the turn is still running: the console answers this at once
    assert "assistant>" not in await term.expect("* #1 [active] Printer on floor 2 is offline")
    await term.expect("assistant> Let's narrow it down.")
    await term.expect("+ Q1 Does the printer answer ping?")  # what the turn put on the lane, as a drained turn shows it
    code, err = await term.close()
    assert code == 0 and "Traceback" not in err, err
    assert await settled_statuses(rflow) == ["done"]


async def test_ctrl_c_cancels_a_hung_turn_and_the_console_carries_on(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    anthropic.push_hang(6)
    anthropic.default_responder = always("Check the firewall's session timeout.")  # so also after the hang
    term = await Terminal.start(rflow)
    await term.prompt()
    term.type("/new VPN drops every hour")
    await term.expect(m.THINKING)
    await until_called(anthropic)
    term.press(CTRL_C)
    await term.expect(m.TURN_CANCELLED)
    assert turn_statuses(rflow) == ["cancelled"]

    await term.prompt()
    term.type("it drops at exactly 60 minutes")
    await term.expect(m.THINKING)
    await term.expect("assistant> Check the firewall's session timeout.")
    await asyncio.sleep(max(0.0, anthropic.requests[0].received_at + 6.5 - time.monotonic()))  # the hang is over
    term.type("/sessions")
    await term.expect("* #1 [active] VPN drops every hour")
    code, err = await term.close()
    assert code == 0 and "Traceback" not in err, err
    assert term.screen.count("assistant>") == 1  # the cancelled turn never answered, not even late
    assert term.screen.count(m.TURN_CANCELLED) == 1
    assert await settled_statuses(rflow) == ["cancelled", "done"]
    with sqlite3.connect(rflow.tmp / "rflow.db") as db:
        kinds = [row[0] for row in db.execute("select kind from steps order by id")]
    assert kinds == ["engineer_message", "action", "engineer_message", "assistant_reply"]  # the messages are kept


async def test_ctrl_c_with_nothing_running_keeps_the_console(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    term = await Terminal.start(rflow)
    await term.prompt()
    term.press(CTRL_C)
    await term.expect(m.NOTHING_TO_STOP)
    await term.prompt()
    term.type("/sessions")
    await term.expect(m.SESSIONS_EMPTY)
    code, err = await term.close()
    assert code == 0 and "Traceback" not in err, err


async def test_quitting_while_a_turn_runs_leaves_it_for_the_next_start(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    anthropic.push_hang(30)
    anthropic.push_update("Picked up again.")
    term = await Terminal.start(rflow)
    await term.prompt()
    term.type("/new Outlook keeps asking for the password")
    await term.expect(m.THINKING)
    await until_called(anthropic)
    term.type("/quit")
    await term.expect(m.LEFT_PENDING)
    code, err = await term.close()
    assert code == 0 and "Traceback" not in err, err
    assert turn_statuses(rflow) == ["pending"]  # handed back, not lost

    run = await rflow.console("/open 1\n", "--strict")
    assert "Resumed 1 assistant turn(s) left pending by an earlier run." in run.out
    assert "assistant> Picked up again." in run.out


async def piped(rflow: Rflow) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "console", cwd=rflow.tmp, env=rflow.process_env(),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_piped_input_answers_each_line_before_the_next(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    anthropic.push_update("Let's narrow it down.", questions=["Does the printer answer ping?"],
                          timing=StreamTiming(first_token=0.3, total=1.0, chunks=5))
    proc = await piped(rflow)
    out, err = await asyncio.wait_for(proc.communicate(b"/new Printer offline\n/sessions\n"), 60)
    assert proc.returncode == 0 and "Traceback" not in err.decode(), err.decode()
    assert out.decode().endswith(
        "rflow> Session #1 started: Printer offline\n"
        "assistant> Let's narrow it down.\n"
        "  + Q1 Does the printer answer ping?\n"
        "rflow> * #1 [active] Printer offline — Dana\n"
        "rflow> ")
    assert "thinking" not in out.decode()


async def test_sigint_during_a_piped_turn_cancels_it(rflow: Rflow, anthropic: FakeAnthropic) -> None:
    anthropic.push_hang(30)
    proc = await piped(rflow)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"/new Printer offline\n")
    await proc.stdin.drain()
    await until_called(anthropic)
    os.kill(proc.pid, signal.SIGINT)
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    while m.TURN_CANCELLED.encode() not in line:
        assert line, "the console ended without saying the turn was cancelled"
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
    out, err = await asyncio.wait_for(proc.communicate(b"/sessions\n"), 60)
    assert proc.returncode == 0 and "Traceback" not in err.decode(), err.decode()
    assert "* #1 [active] Printer offline — Dana" in out.decode()
    assert turn_statuses(rflow) == ["cancelled"]
