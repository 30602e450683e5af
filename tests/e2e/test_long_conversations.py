"""Issue 12 end to end: the real engine, its SQLite database and the real Anthropic client against
the fake Messages API. A session with 1,000 facts and a 100 KB pasted log sends requests within the
stated budget, completes its turns and loses nothing from storage; answers cut at max_tokens are
asked again (streamed turn, plain note); a prompt the model cannot take is retried shortened and,
failing that, R16 applies: the message is kept, the user is told why, the lane stays usable."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from adapters.anthropic import failures
from bot.bootstrap import App, build_app
from bot.settings import Settings
from core.access import Actor
from core.assistant.budget import STANDARD, TIGHT, estimate_tokens
from core.assistant.prompts import EARLIER_OPEN, PER_BLOCK_TOKENS
from core.cards import lane_card
from core.models import ItemStatus, StepKind
from tests.fakes.anthropic_api import FakeAnthropic, ToolUseReply, fix_input, note_markdown, update_session_input

LOG_LINE = "10:42:07 spooler job 17 failed: the device did not respond within the timeout\n"
LOG_PARTS = 6  # 100 KiB pasted in six messages (one message holds at most 20,000 characters)
LOG_PART = (LOG_LINE * (102_400 // LOG_PARTS // len(LOG_LINE) + 1))[: 102_400 // LOG_PARTS + 1]


@dataclass
class Bot:
    app: App
    fake: FakeAnthropic
    actor: Actor

    async def start(self, problem: str = "Printer offline on the third floor") -> int:
        posted = await self.app.engine.sessions.start(actor=self.actor, problem=problem)
        await self.app.engine.turns.drain()
        return posted.session.id or 0

    async def say(self, sid: int, *texts: str) -> list[Any]:
        for text in texts:  # posted before the worker looks: answered together in one turn (R37)
            await self.app.engine.sessions.post_message(actor=self.actor, session_id=sid, text=text)
        return await self.app.engine.turns.drain()

    async def stored(self, sid: int) -> tuple[list[Any], list[Any], list[Any]]:
        async with self.app.engine.deps.uow_factory() as uow:
            steps = await uow.steps.list(account_id=self.actor.account_id, session_id=sid)
            facts = await uow.facts.list(account_id=self.actor.account_id, session_id=sid)
            items = await uow.items.list(account_id=self.actor.account_id, session_id=sid)
        return steps, facts, items


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with FakeAnthropic() as fake:
        settings = Settings(RF_SQLITE_PATH=tmp_path / "rflow.db", ANTHROPIC_API_KEY=SecretStr("sk-ant-test"),
                            ANTHROPIC_BASE_URL=fake.base_url, RF_LLM_MAX_RETRIES=0, RF_LLM_TIMEOUT=10)  # fmt: skip
        app = await build_app(settings)
        try:
            actor, _, _ = await app.engine.accounts.sign_in(account_name="Acme", platform="test", external_id="dana",
                                                            name="Dana")  # fmt: skip
            yield Bot(app=app, fake=fake, actor=actor)
        finally:
            await app.close()


def request_tokens(body: dict[str, Any]) -> int:
    """The stated estimate (core.assistant.budget) of everything a request sends the model."""
    blocks = [b["text"] for b in body["system"]] + [b["text"] for m in body["messages"] for b in m["content"]]
    return estimate_tokens(json.dumps(body["tools"])) + sum(estimate_tokens(t) + PER_BLOCK_TOKENS for t in blocks)


def main_turns(fake: FakeAnthropic) -> list[Any]:
    return [r for r in fake.requests if (r.body.get("tool_choice") or {}).get("name") == "update_session"]


async def test_a_thousand_facts_and_a_100_kb_log_stay_within_the_budget_and_nothing_is_lost(bot: Bot) -> None:
    sid = await bot.start()
    for i in range(1, 1_001):
        await bot.app.engine.facts.add_note(actor=bot.actor, session_id=sid,
                                            text=f"Fact {i}: the third-floor queue showed state {i % 7} at check {i}.")
    bot.fake.push_update("The log shows the device timing out on every job.", questions=["Is the printer on the LAN?"])
    [result] = await bot.say(sid, *[f"Log part {n + 1} of {LOG_PARTS}:\n{LOG_PART}" for n in range(LOG_PARTS)])
    assert result.reply is not None and result.failure is None and len(result.turn_ids) == LOG_PARTS

    bot.fake.push_update("Check the network cable next.", questions=["Is the printer on the LAN?"])
    [result] = await bot.say(sid, "Nothing else in the log.")
    assert result.reply is not None and result.failure is None

    turns = main_turns(bot.fake)
    assert [r.status for r in turns] == [200] * len(turns)
    for request in turns:
        assert request_tokens(request.body) <= STANDARD.total
        assert request.usage is not None and sum(request.usage.values()) <= STANDARD.total  # the fake's own count
    batch, after = turns[-2].body, turns[-1].body
    volatile = batch["messages"][-1]["content"][-1]["text"]
    assert "F1000 (note)" in volatile and "earlier facts not listed here" in volatile
    assert volatile.count("characters of this text left out here") == LOG_PARTS  # every part, trimmed
    assert after["messages"][0]["content"][0]["text"].startswith(EARLIER_OPEN)  # 1,000 older steps digested

    steps, facts, items = await bot.stored(sid)
    assert len(facts) == 1_000 and [f.seq for f in facts] == list(range(1, 1_001))
    pasted = [s.text for s in steps if s.kind == StepKind.ENGINEER_MESSAGE and s.text.startswith("Log part")]
    assert len(pasted) == LOG_PARTS and all(text.endswith(LOG_PART) for text in pasted)  # stored in full
    assert sum(len(text) for text in pasted) >= 102_400
    assert [i.text for i in items] == ["Is the printer on the LAN?"]


async def test_a_streamed_turn_cut_at_max_tokens_is_asked_again_and_stored(bot: Bot) -> None:
    script = "Write-Output 'checking the queue'\n" * 300  # more than the 2,048 tokens the first call allows
    answer = ToolUseReply("update_session", update_session_input(
        "Clear the stuck job with this script.", fixes=[fix_input("Clear the stuck job", script=script,
                                                                  script_language="powershell")]))
    bot.fake.push(answer)  # cut at 2,048 tokens, the model gives the same answer when asked again
    sid = await bot.start()
    first, second = main_turns(bot.fake)
    assert (first.body["max_tokens"], second.body["max_tokens"]) == (2048, 4096) and first.streamed
    view = await bot.app.engine.sessions.view(actor=bot.actor, session_id=sid)
    assert view.active_fix is not None and view.active_fix.title == "Clear the stuck job"
    steps, _, _ = await bot.stored(sid)
    assert steps[-1].kind == StepKind.ASSISTANT_REPLY and steps[-1].text == "Clear the stuck job with this script."


async def test_a_plain_note_cut_at_max_tokens_is_asked_again(bot: Bot) -> None:
    sid = await bot.start()
    await bot.app.engine.facts.add_note(actor=bot.actor, session_id=sid, text="The queue was stuck.")
    note = note_markdown("resolve", "Stated from the provided facts. " * 80)  # ~10k characters
    bot.fake.push(ToolUseReply("write_note", {"markdown": note}))
    preview = await bot.app.engine.previews.preview(actor=bot.actor, session_id=sid, kind="resolve")
    notes = [r for r in bot.fake.requests if r.body["tool_choice"]["name"] == "write_note"]
    assert [(r.body["max_tokens"], r.streamed) for r in notes] == [(2048, False), (4096, False)]
    assert preview.composed_by == "assistant" and "Stated from the provided facts." in preview.markdown


async def test_a_prompt_too_long_is_retried_shortened_then_the_turn_fails_as_r16_says(bot: Bot) -> None:
    bot.fake.push_update("Is the queue paused?", questions=["Is the queue paused?"])
    sid = await bot.start()
    bot.fake.push_update("The log shows timeouts.")
    bot.fake.context_window = 9_000  # fake tokens: the standard prompt with the log is over it, the tight one not
    [result] = await bot.say(sid, f"Here is the log:\n{LOG_PART}")
    retried = main_turns(bot.fake)[-2:]
    assert [r.status for r in retried] == [400, 200] and result.reply is not None
    assert request_tokens(retried[1].body) <= TIGHT.total

    bot.fake.context_window = 2_000  # nothing fits now: unavailable for this turn
    [result] = await bot.say(sid, "Still failing after a reboot.")
    assert result.failure == failures.CONTEXT_TOO_LONG and result.reply is None
    assert [r.status for r in main_turns(bot.fake)[-2:]] == [400, 400]
    steps, _, items = await bot.stored(sid)
    assert steps[-2].kind == StepKind.ENGINEER_MESSAGE and steps[-2].text == "Still failing after a reboot."
    assert steps[-1].kind == StepKind.ACTION and failures.CONTEXT_TOO_LONG in steps[-1].text
    assert steps[-1].data["assistant_failure"] == failures.CONTEXT_TOO_LONG

    # the lane stays usable by hand, and the assistant is back once the conversation fits again
    fact = await bot.app.engine.facts.promote(actor=bot.actor, session_id=sid, item_ref="Q1",
                                              text="The queue is not paused.")  # fmt: skip
    assert fact.label == "F1"
    bot.fake.context_window = 200_000
    bot.fake.push_update("Then check the cable.", questions=["Is the cable seated?"])
    [result] = await bot.say(sid, "Rebooted again.")
    assert result.reply is not None
    _, _, items = await bot.stored(sid)
    assert {(i.text, i.status) for i in items} == {("Is the queue paused?", ItemStatus.PROMOTED),
                                                 ("Is the cable seated?", ItemStatus.OPEN)}  # fmt: skip


async def test_lane_items_no_longer_proposed_leave_the_lane(bot: Bot) -> None:
    bot.fake.push_update("Two things first.", questions=["Is the queue paused?", "Which driver is installed?"])
    sid = await bot.start()
    bot.fake.push_update("Driver only now.", questions=["Which driver is installed?"])
    await bot.say(sid, "The queue is running.")
    card = lane_card(await bot.app.engine.sessions.view(actor=bot.actor, session_id=sid))
    questions = next(s for s in card.sections if s.heading == "Questions")
    assert [line.text for line in questions.lines] == ["Q2 Which driver is installed?"]
    _, _, items = await bot.stored(sid)
    assert {(i.label, i.status) for i in items} == {("Q1", ItemStatus.RETIRED), ("Q2", ItemStatus.OPEN)}
