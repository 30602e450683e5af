"""The scripted assistant streams its reply to `on_text` the way the real port does: growing
prefixes ending in the whole reply, before the turn returns, so engine tests can watch progress."""

from __future__ import annotations

from core.assistant.types import AssistantContext, AssistantTurn, AssistantUnavailable
from tests.fakes.scripted_assistant import ScriptedAssistant, growing_prefixes

CONTEXT = AssistantContext(session_title="t", ticket=None, facts=(), lane=(), active_fix=None, history=())


async def test_on_text_sees_growing_prefixes_before_the_turn_returns() -> None:
    assistant = ScriptedAssistant(progress_steps=3)
    assistant.turns.append(AssistantTurn(reply="Check the cable, then restart the dock."))
    seen: list[str] = []
    turn = await assistant.respond(CONTEXT, on_text=seen.append)
    assert seen == assistant.progress and len(seen) == 3 and seen[-1] == turn.reply
    assert all(b.startswith(a) and len(b) > len(a) for a, b in zip(seen, seen[1:]))


async def test_without_a_listener_or_when_unavailable_nothing_streams() -> None:
    assistant = ScriptedAssistant()
    assistant.turns.extend([AssistantTurn(reply="Noted."), AssistantUnavailable("down")])
    assert (await assistant.respond(CONTEXT)).reply == "Noted."
    seen: list[str] = []
    try:
        await assistant.respond(CONTEXT, on_text=seen.append)
    except AssistantUnavailable:
        pass
    assert seen == [] and assistant.progress == []


def test_short_replies_are_cut_by_characters() -> None:
    assert growing_prefixes("Noted.", 3) == ["No", "Note", "Noted."]
    assert growing_prefixes("", 3) == [] and growing_prefixes("x", 3) == ["x"]
