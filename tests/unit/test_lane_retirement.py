"""Issue 12: lane items retire when the assistant stops proposing them (its reply re-proposes the
open lane), come back with their id when proposed again (R3), and are never retired by a reply that
proposes nothing or is cut short. The lane card shows open items only."""

from __future__ import annotations

from core.assistant.types import AssistantTurn
from core.assistant.validation import salvage_turn
from core.cards import lane_card
from core.models import ItemStatus
from tests.unit.conftest import World

PAUSED, DRIVER = "Is the queue paused?", "Which driver version is installed?"
RESTART = "Restart the spooler and watch the queue."


async def lane(world: World, actor, sid: int) -> dict[str, tuple[int, ItemStatus]]:  # type: ignore[no-untyped-def]
    view = await world.engine.sessions.view(actor=actor, session_id=sid)
    return {i.text: (i.id or 0, i.status) for i in view.items}


async def shown(world: World, actor, sid: int) -> list[str]:  # type: ignore[no-untyped-def]
    card = lane_card(await world.engine.sessions.view(actor=actor, session_id=sid))
    return [line.text for section in card.sections if section.heading in ("Questions", "Checks")
            for line in section.lines]  # fmt: skip


async def turn(world: World, actor, sid: int, answer: AssistantTurn) -> None:  # type: ignore[no-untyped-def]
    world.assistant.turns.append(answer)
    await world.engine.sessions.post_message(actor=actor, session_id=sid, text="update")
    await world.engine.turns.drain()


async def test_items_left_out_retire_and_come_back_with_their_id(world: World) -> None:
    actor = await world.member("Dana")
    world.assistant.turns.append(AssistantTurn(reply="Two questions.", questions=(PAUSED, DRIVER), checks=(RESTART,)))
    sid = (await world.engine.sessions.start(actor=actor, problem="Printer offline")).session.id or 0
    await world.engine.turns.drain()
    first = await lane(world, actor, sid)
    assert {s for _, s in first.values()} == {ItemStatus.OPEN}

    await turn(world, actor, sid, AssistantTurn(reply="Only the driver matters now.", questions=(DRIVER,)))
    now = await lane(world, actor, sid)
    assert now[PAUSED] == (first[PAUSED][0], ItemStatus.RETIRED)
    assert now[RESTART] == (first[RESTART][0], ItemStatus.RETIRED)  # left out of both lists
    assert now[DRIVER] == (first[DRIVER][0], ItemStatus.OPEN)
    assert not any(PAUSED in text or RESTART in text for text in await shown(world, actor, sid))

    await turn(world, actor, sid, AssistantTurn(reply="Back to the queue.", questions=(DRIVER, " is the queue PAUSED ")))
    again = await lane(world, actor, sid)
    assert again[PAUSED] == (first[PAUSED][0], ItemStatus.OPEN)  # same id (R3)
    assert len(again) == 3
    snapshot = [e.text for e in world.assistant.contexts[-1].lane]  # read after the second reply
    assert snapshot == [DRIVER]  # retired items are no longer in the assistant's snapshot


async def test_an_empty_proposal_or_a_cut_reply_retires_nothing(world: World) -> None:
    actor = await world.member("Dana")
    world.assistant.turns.append(AssistantTurn(reply="Two questions.", questions=(PAUSED, DRIVER)))
    sid = (await world.engine.sessions.start(actor=actor, problem="Printer offline")).session.id or 0
    await world.engine.turns.drain()
    await turn(world, actor, sid, AssistantTurn(reply="Nothing changes."))
    await turn(world, actor, sid, salvage_turn("The answer was cut after this"))
    assert {s for _, s in (await lane(world, actor, sid)).values()} == {ItemStatus.OPEN}


async def test_a_promoted_item_stays_promoted_when_left_out(world: World) -> None:
    actor = await world.member("Dana")
    world.assistant.turns.append(AssistantTurn(reply="Two questions.", questions=(PAUSED, DRIVER)))
    sid = (await world.engine.sessions.start(actor=actor, problem="Printer offline")).session.id or 0
    await world.engine.turns.drain()
    await world.engine.facts.promote(actor=actor, session_id=sid, item_ref="Q1", text="The queue is not paused.")
    await turn(world, actor, sid, AssistantTurn(reply="Driver next.", questions=(DRIVER,)))
    now = await lane(world, actor, sid)
    assert now[PAUSED][1] == ItemStatus.PROMOTED and now[DRIVER][1] == ItemStatus.OPEN
