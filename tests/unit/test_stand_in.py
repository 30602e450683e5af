"""The stand-in Messages API (bot/stand_in, issue 14): it runs on its own and says what it is, it is
the very fake the tests import, and the demo's script answers each kind of request as the README
tells. The full demo through the console: tests/e2e/test_readme_walkthrough.py."""

from __future__ import annotations

import ast
import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import anthropic

import bot.stand_in.messages_api as messages_api
import tests.fakes.anthropic_api as fake_api
import tests.fakes.anthropic_replies as fake_replies
import tests.fakes.anthropic_rules as fake_rules
import tests.fakes.anthropic_sse as fake_sse
from bot.stand_in import DUMMY_API_KEY, LABEL, demo_script, replies, rules, sse
from core.assistant.prompts import NEW_CLOSE, NEW_OPEN, STATE_CLOSE, STATE_OPEN
from core.grounding import violations

ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def stand_in_process(*args: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, list[str]]]:
    """`python -m bot.stand_in --port 0 ...`; yields the process and its first four lines."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.stand_in", "--port", "0", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        lines = [(await asyncio.wait_for(process.stdout.readline(), 20)).decode().rstrip("\n") for _ in range(4)]
        yield process, lines
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            await asyncio.wait_for(process.wait(), 10)


async def test_python_m_bot_stand_in_serves_the_messages_api_and_says_it_is_a_stand_in() -> None:
    async with stand_in_process() as (process, lines):
        found = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))", lines[0])
        assert found and int(found.group(2)) > 0, lines
        base_url = found.group(1)
        assert LABEL in lines[1] and "stand-in" in lines[1] and "not the real assistant" in lines[1], lines
        assert "script: demo" in lines[1]
        assert f"ANTHROPIC_BASE_URL={base_url}" in lines[2] and f"ANTHROPIC_API_KEY={DUMMY_API_KEY}" in lines[2]

        client = anthropic.AsyncAnthropic(api_key=DUMMY_API_KEY, base_url=base_url, max_retries=0)
        try:
            message = await client.messages.create(
                model="any-model", max_tokens=1024, tools=[UPDATE_SESSION_TOOL],
                tool_choice={"type": "tool", "name": "update_session"},
                messages=[{"role": "user", "content": turn_text(said=f"[Dana] {demo_script.PROBLEM}")}])
        finally:
            await client.close()
        (block,) = message.content
        assert block.type == "tool_use" and block.name == "update_session"
        assert isinstance(block.input, dict)
        assert block.input["questions"] == [demo_script.QUESTION] and block.input["checks"] == [demo_script.CHECK]
        assert message.stop_reason == "tool_use" and message.id.startswith("msg_fake_")

        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 10) == 0


async def test_without_a_script_it_gives_the_fakes_default_answers() -> None:
    async with stand_in_process("--script", "none") as (_, lines):
        assert "script: none" in lines[1]
        base_url = lines[0].removeprefix("listening on ")
        client = anthropic.AsyncAnthropic(api_key=DUMMY_API_KEY, base_url=base_url, max_retries=0)
        try:
            message = await client.messages.create(
                model="m", max_tokens=256, tools=[UPDATE_SESSION_TOOL],
                tool_choice={"type": "tool", "name": "update_session"},
                messages=[{"role": "user", "content": turn_text(said="[Dana] Printer offline")}])
        finally:
            await client.close()
        async with aiohttp.ClientSession() as http:  # like the API: a key is required
            body = {"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
            async with http.post(f"{base_url}/v1/messages", json=body, headers={"anthropic-version": "2023-06-01"}) as r:
                assert r.status == 401 and (await r.json())["error"]["type"] == "authentication_error"
        block = message.content[0]
        assert block.type == "tool_use" and isinstance(block.input, dict)
        assert block.input["reply"] == "Noted. What changed most recently?"


def test_the_tests_fake_is_the_stand_in() -> None:
    """tests/fakes/anthropic_*.py re-export bot/stand_in, so the demo runs what the tests test."""
    assert fake_api.FakeAnthropic is messages_api.FakeAnthropic
    assert fake_api.StreamTiming is sse.StreamTiming and fake_sse.StreamTiming is sse.StreamTiming
    assert fake_replies.RepliesByTool is replies.RepliesByTool and fake_api.ToolUseReply is replies.ToolUseReply
    assert fake_rules.context_refusal is rules.context_refusal and fake_api.sse is sse
    for module, source in ((fake_api, messages_api), (fake_replies, replies), (fake_rules, rules), (fake_sse, sse)):
        assert all(getattr(module, name) is getattr(source, name, getattr(module, name)) for name in module.__all__)


def test_the_stand_in_imports_nothing_from_tests() -> None:
    """It ships in the wheel, which has no tests/ package."""
    for path in (ROOT / "bot" / "stand_in").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [name for name in imported if name == "tests" or name.startswith("tests.")], path
    assert not (ROOT / "bot" / "demo.py").read_text(encoding="utf-8").count("tests.")


# ---- the demo's script, request by request ----------------------------------------------------------
UPDATE_SESSION_TOOL: dict[str, Any] = {"name": "update_session", "description": "d",
                                       "input_schema": {"type": "object", "properties": {}}}  # fmt: skip


def turn_text(*, said: str, fix: str = "none yet") -> str:
    """A turn's volatile message as core/assistant/prompts.py renders it (its markers, the fix line)."""
    state = f"{STATE_OPEN}\nSession: {demo_script.PROBLEM}\nTicket: no ticket linked\nActive fix: {fix}\n{STATE_CLOSE}"
    return f"{state}\n\n{NEW_OPEN}\n{said}\n{NEW_CLOSE}"


def turn(said: str, *, fix: str = "none yet", first: bool = False) -> dict[str, Any]:
    history = [] if first else [{"role": "user", "content": "[Dana] earlier"}, {"role": "assistant", "content": "ok"}]
    body = {"tool_choice": {"type": "tool", "name": "update_session"},
            "messages": [*history, {"role": "user", "content": [{"type": "text", "text": turn_text(said=said, fix=fix)}]}]}
    reply = demo_script.DemoScript()(body)
    assert isinstance(reply, replies.ToolUseReply) and reply.name == "update_session"
    assert isinstance(reply.input, dict)
    return reply.input


APPLIED = f"{demo_script.FIX_TITLE} (confidence 80, status verifying, applied)"
SUGGESTED = f"{demo_script.FIX_TITLE} (confidence 80, status suggested, not applied yet)"


def test_the_script_tells_the_story_in_order() -> None:
    opening = turn(f"[Dana] {demo_script.PROBLEM}", first=True)
    assert opening["questions"] == [demo_script.QUESTION] and opening["checks"] == [demo_script.CHECK]

    diagnosis = turn("[Dana] it pings fine and the queue has 14 stuck jobs")
    (fact,) = diagnosis["facts"]
    assert fact["item_label"] == "C1" and fact["evidence"] == "it pings fine and the queue has 14 stuck jobs"
    assert [f["title"] for f in diagnosis["fixes"]] == [demo_script.FIX_TITLE] and diagnosis["outcome"] is None

    not_yet = turn("[Dana] it works, the test page printed", fix=SUGGESTED)  # no outcome before the fix is applied
    assert not_yet["outcome"] is None and "/apply" in not_yet["reply"]

    said = "[action by Dana] Dana applied the fix\n\n[Dana] it works, the test page printed"
    worked = turn(said, fix=APPLIED)
    assert worked["outcome"] == {"outcome": "worked", "notes": None, "evidence": "it works, the test page printed"}
    assert turn("[Dana] it didn't work, still offline", fix=APPLIED)["outcome"]["outcome"] == "failed"


def test_off_script_lines_get_a_hint_at_the_next_step() -> None:
    assert "it pings fine" in turn("[Dana] what is the weather")["reply"]
    assert "/apply" in turn("[Dana] hmm", fix=SUGGESTED)["reply"]
    assert "it works" in turn("[Dana] hmm", fix=APPLIED)["reply"]
    other = turn("[Dana] Outlook keeps asking for a password", first=True)
    assert other["questions"] == [] and demo_script.PROBLEM in other["reply"]


def fact_body(item: str, conversation: str) -> dict[str, Any]:
    text = f"Task-lane question: {item}\n\nRecent conversation (oldest first):\n{conversation}"
    return {"tool_choice": {"type": "tool", "name": "record_fact"},
            "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]}


def test_record_fact_answers_from_what_the_engineer_said_only() -> None:
    script = demo_script.DemoScript()
    said = f"[Dana] {demo_script.PROBLEM}\n\n{demo_script.QUESTION}\n\n[Dana] it pings fine and the queue has 14 stuck jobs"
    assert script(fact_body(demo_script.QUESTION, said)) == replies.ToolUseReply(
        "record_fact", {"fact": "The printer answers ping"})
    # the assistant's own question mentions ping; the engineer said nothing about it
    asked = f"[Dana] {demo_script.PROBLEM}\n\n{demo_script.QUESTION}"
    assert script(fact_body(demo_script.QUESTION, asked)) == replies.ToolUseReply("record_fact", {"fact": None})


def test_the_note_is_made_of_its_input_and_passes_the_grounding_check() -> None:
    bundle = (f"Session: {demo_script.PROBLEM}\nTicket: no ticket linked\nConfirmed facts:\n"
              "- Jobs are stuck in the print queue on the print server\n- The printer answers ping\n"
              f"Fix: {demo_script.FIX_TITLE} (status applied_success, confidence 80)\n"
              f"  Description: {demo_script.FIX_DESCRIPTION}\n  Applied at: 2026-12-04 02:40 UTC\n"
              "  Verified at: 2026-12-04 02:41 UTC\nScript runs:\n- none yet\nWhat was tried:\n- none yet")  # fmt: skip
    for system, sections in (("resolution note", replies.RESOLUTION_SECTIONS),
                             ("Current hypothesis", replies.ESCALATION_SECTIONS)):  # fmt: skip
        body = {"tool_choice": {"type": "tool", "name": "write_note"}, "system": system,
                "messages": [{"role": "user", "content": [{"type": "text", "text": bundle}]}]}
        reply = demo_script.DemoScript()(body)
        assert isinstance(reply, replies.ToolUseReply) and isinstance(reply.input, dict)
        markdown = reply.input["markdown"]
        assert [line[3:] for line in markdown.splitlines() if line.startswith("## ")] == list(sections)
        assert "- The printer answers ping" in markdown and demo_script.PROBLEM in markdown
        assert violations(markdown, bundle) == (), markdown
