"""Sessions, the task lane (R3), facts (R4–R6), state_version (R1) and redaction of chat (R14)."""

from __future__ import annotations

import pytest

from core.assistant.types import AssistantTurn, AssistantUnavailable, FactPromotion
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.models import Fact, FactSource, ItemStatus, Role, StepKind, TaskItem
from tests.unit.conftest import World


async def started(world: World, text: str = "Printer on floor 2 is offline"):
    actor = await world.member("Dana")
    posted = await world.engine.sessions.start(actor=actor, problem=text)
    return actor, posted.session.id


async def test_lane_items_keep_their_id_when_reproposed(world: World) -> None:
    world.assistant.turns.append(AssistantTurn(reply="Let's check.", questions=("Is the printer powered on?",),
                                               checks=("Ping the printer",)))
    actor, sid = await started(world)
    await world.engine.turns.drain()
    first = {i.label: i.id for i in (await world.engine.sessions.view(actor=actor, session_id=sid)).items}
    assert set(first) == {"Q1", "C1"}
    world.assistant.turns.append(AssistantTurn(reply="More.", questions=("is the printer powered on", "Any error light?")))
    await world.engine.sessions.post_message(actor=actor, session_id=sid, text="not sure")
    await world.engine.turns.drain()
    items = {i.label: i.id for i in (await world.engine.sessions.view(actor=actor, session_id=sid)).items}
    assert items["Q1"] == first["Q1"] and items["C1"] == first["C1"]
    assert set(items) == {"Q1", "Q2", "C1"}


async def test_promote_with_words_bumps_version_and_marks_item(world: World) -> None:
    world.assistant.turns.append(AssistantTurn(reply="?", questions=("Is the printer powered on?",)))
    actor, sid = await started(world)
    await world.engine.turns.drain()
    before = (await world.engine.sessions.view(actor=actor, session_id=sid)).session.state_version
    fact = await world.engine.facts.promote(actor=actor, session_id=sid, item_ref="Q1", text="It is powered on")
    view = await world.engine.sessions.view(actor=actor, session_id=sid)
    assert fact.label == "F1" and fact.source == FactSource.QUESTION
    assert view.session.state_version == before + 1
    assert view.items[0].status == ItemStatus.PROMOTED
    with pytest.raises(Conflict):
        await world.engine.facts.promote(actor=actor, session_id=sid, item_ref="Q1", text="again")


async def test_synthesis_that_yields_nothing_is_a_clear_error(world: World) -> None:
    world.assistant.turns.append(AssistantTurn(reply="?", checks=("Ping the printer",)))
    actor, sid = await started(world)
    await world.engine.turns.drain()
    world.assistant.facts.append("")
    with pytest.raises(InvalidInput, match="Nothing in the conversation confirms C1"):
        await world.engine.facts.promote(actor=actor, session_id=sid, item_ref="C1")
    world.assistant.facts.append(AssistantUnavailable("the assistant timed out"))
    with pytest.raises(InvalidInput, match="timed out"):
        await world.engine.facts.promote(actor=actor, session_id=sid, item_ref="C1")
    world.assistant.facts.append("The printer answers ping.")
    proposal = await world.engine.facts.promote(actor=actor, session_id=sid, item_ref="C1")
    assert isinstance(proposal, TaskItem) and proposal.label == "P1"  # shown first, a fact only once confirmed
    view = await world.engine.sessions.view(actor=actor, session_id=sid)
    assert view.facts == [] and [i.status for i in view.items if i.label == "C1"] == [ItemStatus.OPEN]
    fact = await world.engine.facts.promote(actor=actor, session_id=sid, item_ref="P1")
    assert isinstance(fact, Fact) and fact.text == "The printer answers ping." and fact.source == FactSource.CHECK
    view = await world.engine.sessions.view(actor=actor, session_id=sid)
    assert view.facts[0].text == fact.text
    assert {i.label: i.status for i in view.items} == {"C1": ItemStatus.PROMOTED, "P1": ItemStatus.PROMOTED}


async def test_promoted_facts_cannot_be_edited_notes_can_and_delete_is_soft(world: World) -> None:
    world.assistant.turns.append(AssistantTurn(reply="?", questions=("Powered on?",)))
    actor, sid = await started(world)
    await world.engine.turns.drain()
    await world.engine.facts.promote(actor=actor, session_id=sid, item_ref="Q1", text="Yes it is on")
    note = await world.engine.facts.add_note(actor=actor, session_id=sid, text="Toner at 80%")
    with pytest.raises(Conflict, match="edit its source item"):
        await world.engine.facts.edit(actor=actor, session_id=sid, fact_ref="F1", text="changed")
    edited = await world.engine.facts.edit(actor=actor, session_id=sid, fact_ref=note.label, text="Toner at 75%")
    assert edited.text == "Toner at 75%"
    await world.engine.facts.delete(actor=actor, session_id=sid, fact_ref="1")
    view = await world.engine.sessions.view(actor=actor, session_id=sid)
    assert [f.label for f in view.facts] == ["F2"]
    assert view.items[0].status == ItemStatus.OPEN  # its question is open again
    async with world.engine.deps.uow_factory() as uow:
        all_facts = await uow.facts.list(account_id=actor.account_id, session_id=sid, include_deleted=True)
    assert len(all_facts) == 2 and all_facts[0].deleted_at is not None
    with pytest.raises(NotFound):
        await world.engine.facts.edit(actor=actor, session_id=sid, fact_ref="F1", text="x")


async def test_what_the_assistant_proposes_is_a_fact_only_once_a_member_confirms_it(world: World) -> None:
    """R6 as amended: a pasted log that reads like confirmations confirms nothing; each proposal
    waits on the lane until a member confirms it (as written or reworded) or dismisses it."""
    actor, sid = await started(world, "Outlook keeps asking for the password")
    await world.engine.turns.drain()  # the first turn sees only the problem
    proposals = (FactPromotion(text="The user restarted Outlook", evidence="I restarted outlook already"),
                 FactPromotion(text="MFA is enabled", evidence="user confirmed: MFA enabled"),
                 FactPromotion(text="The mailbox is on Exchange Online", evidence="confirmed: EXO"))
    world.assistant.turns.append(AssistantTurn(reply="ok", facts=proposals))
    world.assistant.turns.append(AssistantTurn(reply="again", facts=proposals[:1]))  # proposed again: not twice
    await world.engine.sessions.post_message(
        actor=actor, session_id=sid, text="log:\nuser confirmed: MFA enabled\nconfirmed: EXO\nI restarted Outlook already")
    await world.engine.turns.drain()
    await world.engine.sessions.post_message(actor=actor, session_id=sid, text="anything else?")
    await world.engine.turns.drain()
    view = await world.engine.sessions.view(actor=actor, session_id=sid)
    assert view.facts == []
    assert [(i.label, i.text, i.status) for i in view.items] == [
        ("P1", "The user restarted Outlook", ItemStatus.OPEN), ("P2", "MFA is enabled", ItemStatus.OPEN),
        ("P3", "The mailbox is on Exchange Online", ItemStatus.OPEN)]
    await world.engine.facts.promote(actor=actor, session_id=sid, item_ref="P1")
    await world.engine.facts.promote(actor=actor, session_id=sid, item_ref="P3", text="Mailbox is in Exchange Online")
    await world.engine.facts.dismiss(actor=actor, session_id=sid, item_ref="P2")
    view = await world.engine.sessions.view(actor=actor, session_id=sid)
    assert [(f.text, f.source) for f in view.facts] == [("The user restarted Outlook", FactSource.ASSISTANT),
                                                        ("Mailbox is in Exchange Online", FactSource.ASSISTANT)]
    assert [i.status for i in view.items] == [ItemStatus.PROMOTED, ItemStatus.DISMISSED, ItemStatus.PROMOTED]
    with pytest.raises(Conflict):
        await world.engine.facts.promote(actor=actor, session_id=sid, item_ref="P1")


async def test_secrets_in_chat_are_redacted_before_storage_and_llm(world: World) -> None:
    actor, sid = await started(world)
    posted = await world.engine.sessions.post_message(actor=actor, session_id=sid,
                                                      text="admin password: Hunter2Secret! still fails")
    assert posted.redacted >= 1
    await world.engine.turns.drain()
    steps = await world.engine.sessions.history(actor=actor, session_id=sid)
    assert all("Hunter2Secret" not in s.text for s in steps)
    assert all("Hunter2Secret" not in h.text for c in world.assistant.contexts for h in c.history)


async def test_another_accounts_session_is_not_found(world: World) -> None:
    _, sid = await started(world)
    stranger = await world.member("Eve", account="Other MSP")
    with pytest.raises(NotFound):
        await world.engine.sessions.view(actor=stranger, session_id=sid)
    with pytest.raises(NotFound):
        await world.engine.facts.add_note(actor=stranger, session_id=sid, text="x")


async def test_viewers_read_but_cannot_change(world: World) -> None:
    _, sid = await started(world)
    viewer = await world.member("Val", role=Role.VIEWER)
    assert (await world.engine.sessions.view(actor=viewer, session_id=sid)).session.id == sid
    with pytest.raises(Forbidden, match="Engineer or admin access required"):
        await world.engine.facts.add_note(actor=viewer, session_id=sid, text="x")


async def test_failed_assistant_keeps_the_message_and_says_so(world: World) -> None:
    world.assistant.turns.append(AssistantUnavailable("the assistant is overloaded"))
    actor, sid = await started(world)
    results = await world.engine.turns.drain()
    assert results[0].failure == "the assistant is overloaded"
    steps = await world.engine.sessions.history(actor=actor, session_id=sid)
    assert [s.kind for s in steps] == [StepKind.ENGINEER_MESSAGE, StepKind.ACTION]
    assert "could not answer" in steps[1].text
    assert await world.engine.turns.drain() == []  # failed turns are not retried into a second answer
