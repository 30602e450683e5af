"""R13 and R16 through the real Anthropic adapter against the fake Messages API: a draft that
invents a token is asked for again with the token listed; two such drafts, or an unavailable
assistant, give an honest deterministic note that is never cached, so the assistant is asked again
at the same state version once it is back."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.anthropic import AnthropicAssistant
from core.access import Actor
from core.bus import InMemoryBus
from core.compose import DETERMINISTIC_MARKER
from core.deps import Deps
from core.engine import Engine
from core.models import WriteupKind
from core.previews import Fallback
from tests.fakes.anthropic_api import FakeAnthropic, note_markdown
from tests.fakes.anthropic_replies import RepliesByTool
from tests.fakes.clock import FakeClock
from tests.fakes.memory_uow import MemoryStore, memory_uow_factory

CLEAN = note_markdown("resolve", "Fourteen jobs were stuck in the spooler; clearing the queue restored printing.")
INVENTS_IP = note_markdown("resolve", "The print server 10.9.8.7 was restarted after the queue was cleared.")
INVENTS_KB = note_markdown("resolve", "Installing KB5034441 fixed the spooler after the queue was cleared.")


@dataclass
class Desk:
    engine: Engine
    fake: FakeAnthropic
    notes: RepliesByTool
    store: MemoryStore
    actor: Actor
    session_id: int

    def note_requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.fake.requests if (r.body.get("tool_choice") or {}).get("name") == "write_note"]


@pytest.fixture
async def desk() -> AsyncIterator[Desk]:
    async with FakeAnthropic() as fake:
        notes = RepliesByTool()
        fake.default_responder = notes
        assistant = AnthropicAssistant(api_key="test-key", base_url=fake.base_url, timeout=5, max_retries=0)
        store = MemoryStore()
        engine = Engine(Deps(uow_factory=memory_uow_factory(store), bus=InMemoryBus(), assistant=assistant,
                             clock=FakeClock()))  # fmt: skip
        actor, _, _ = await engine.accounts.sign_in(account_name="Acme", platform="test", external_id="dana", name="Dana")
        posted = await engine.sessions.start(actor=actor, problem="Printer offline for 3 users")
        await engine.turns.drain()
        sid = posted.session.id or 0
        await engine.facts.add_note(actor=actor, session_id=sid, text="14 jobs stuck in the spooler")
        yield Desk(engine=engine, fake=fake, notes=notes, store=store, actor=actor, session_id=sid)
        await assistant.aclose()


async def preview(desk: Desk, kind: str = "resolve"):  # noqa: ANN201 - a Preview
    return await desk.engine.previews.preview(actor=desk.actor, session_id=desk.session_id, kind=kind)  # type: ignore[arg-type]


def texts_of(body: dict[str, Any]) -> list[str]:
    return [block["text"] for block in body["messages"][0]["content"]]


async def test_an_invented_ip_is_asked_for_again_and_the_clean_second_draft_is_used(desk: Desk, caplog) -> None:
    desk.notes.push_note(INVENTS_IP, CLEAN)
    with caplog.at_level(logging.WARNING, logger="rflow.previews"):
        first = await preview(desk)
    assert (first.markdown, first.composed_by, first.regenerated, first.fallback) == (CLEAN, "assistant", True, None)
    initial, retry = desk.note_requests()
    assert len(texts_of(initial)) == 1  # a first draft carries no correction
    assert texts_of(retry)[0] == texts_of(initial)[0]  # the same input, then the correction
    assert "- 10.9.8.7" in texts_of(retry)[1] and "do not occur in the input" in texts_of(retry)[1]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "10.9.8.7" in logged and "restarted" not in logged  # the violation is logged, the note text is not
    again = await preview(desk)
    assert again.cached and again.markdown == CLEAN and len(desk.note_requests()) == 2  # R2: a grounded note is cached


async def test_two_inventing_drafts_give_the_deterministic_note_which_is_not_cached(desk: Desk) -> None:
    desk.notes.push_note(INVENTS_IP, INVENTS_KB)
    fallback = await preview(desk)
    assert fallback.composed_by == "deterministic" and fallback.fallback is Fallback.GROUNDING
    assert fallback.ungrounded == ("KB5034441",) and not fallback.cached
    assert DETERMINISTIC_MARKER in fallback.markdown and "14 jobs stuck in the spooler" in fallback.markdown
    assert "10.9.8.7" not in fallback.markdown and "KB5034441" not in fallback.markdown
    assert len(desk.note_requests()) == 2 and "- 10.9.8.7" in texts_of(desk.note_requests()[1])[1]

    healthy = await preview(desk)  # same state version, the assistant behaves: it is asked again
    assert len(desk.note_requests()) == 3 and healthy.state_version == fallback.state_version
    assert (healthy.composed_by, healthy.fallback, healthy.cached) == ("assistant", None, False)
    assert (await preview(desk)).cached and len(desk.note_requests()) == 3


async def test_a_500_gives_a_fallback_that_is_not_cached_and_recovery_regenerates(desk: Desk) -> None:
    desk.fake.push_error(500)  # then nothing scripted: the fake's default answer is a clean package
    down = await preview(desk, "escalate")
    assert (down.composed_by, down.fallback, down.cached) == ("deterministic", Fallback.UNAVAILABLE, False)
    assert down.fallback_reason and DETERMINISTIC_MARKER in down.markdown
    back = await preview(desk, "escalate")
    assert (back.composed_by, back.fallback, back.cached) == ("assistant", None, False)
    assert back.state_version == down.state_version and len(desk.note_requests()) == 2
    assert (await preview(desk, "escalate")).cached and len(desk.note_requests()) == 2


async def test_posting_a_fallback_records_it_as_deterministic_never_as_the_assistants(desk: Desk) -> None:
    desk.notes.push_note(INVENTS_IP, INVENTS_KB)
    await desk.engine.resolution.resolve(actor=desk.actor, session_id=desk.session_id, summary="Queue cleared")
    async with desk.engine.deps.uow_factory() as uow:
        [note] = await uow.writeups.list(account_id=desk.actor.account_id, session_id=desk.session_id)
    assert note.kind == WriteupKind.RESOLVE and note.composed_by == "deterministic"
    assert DETERMINISTIC_MARKER in note.markdown and "10.9.8.7" not in note.markdown


async def test_an_escalation_package_records_who_composed_it(desk: Desk) -> None:
    desk.fake.push_error(529)
    await desk.engine.handoffs.escalate(actor=desk.actor, session_id=desk.session_id, reason="needs the vendor")
    async with desk.engine.deps.uow_factory() as uow:
        [package] = await uow.writeups.list(account_id=desk.actor.account_id, session_id=desk.session_id)
    assert package.kind == WriteupKind.ESCALATE and package.composed_by == "deterministic"
