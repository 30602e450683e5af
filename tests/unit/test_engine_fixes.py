"""Suggested fixes: supersede (R7), decisions (R8), apply (R9), outcomes (R10), proposals (R11), scripts (R12)."""

from __future__ import annotations

import pytest

from core.assistant.types import AssistantTurn, FixSuggestion, OutcomeProposal
from core.errors import Conflict, IllegalTransition, InvalidInput
from core.models import FixDecision, FixStatus
from tests.unit.conftest import World


async def session_with_fix(world: World, **fix: object):
    actor = await world.member("Dana")
    world.assistant.turns.append(AssistantTurn(reply="Try this.", fix=FixSuggestion(
        title="Clear the print spooler", description="Stop the spooler, clear the queue, start it.",
        confidence=fix.pop("confidence", 70), **fix)))  # type: ignore[arg-type]
    posted = await world.engine.sessions.start(actor=actor, problem="Jobs stuck in the queue")
    await world.engine.turns.drain()
    return actor, posted.session.id


async def version(world: World, actor, sid: int) -> int:  # type: ignore[no-untyped-def]
    return (await world.engine.sessions.view(actor=actor, session_id=sid)).session.state_version


async def test_a_new_suggestion_supersedes_and_confidence_is_clamped(world: World) -> None:
    actor, sid = await session_with_fix(world, confidence=180)
    view = await world.engine.sessions.view(actor=actor, session_id=sid)
    assert view.active_fix is not None and view.active_fix.confidence == 100
    world.assistant.turns.append(AssistantTurn(reply="Or", fix=FixSuggestion(title="Reinstall driver", description="d", confidence=-5)))
    await world.engine.sessions.post_message(actor=actor, session_id=sid, text="spooler restart did nothing")
    await world.engine.turns.drain()
    async with world.engine.deps.uow_factory() as uow:
        fixes = await uow.fixes.list(account_id=actor.account_id, session_id=sid)
    assert [f.superseded_at is not None for f in fixes] == [True, False]
    assert fixes[1].confidence == 0


async def test_apply_is_idempotent_and_keeps_status_proposed(world: World) -> None:
    actor, sid = await session_with_fix(world)
    v0 = await version(world, actor, sid)
    first = await world.engine.fixes.apply(actor=actor, session_id=sid)
    again = await world.engine.fixes.apply(actor=actor, session_id=sid)
    assert first.status == FixStatus.PROPOSED and first.applied_at == again.applied_at
    assert await version(world, actor, sid) == v0 + 1


async def test_outcome_rules(world: World) -> None:
    actor, sid = await session_with_fix(world)
    with pytest.raises(InvalidInput, match="needs notes"):
        await world.engine.fixes.record_outcome(actor=actor, session_id=sid, outcome=FixStatus.APPLIED_PARTIAL)
    partial = await world.engine.fixes.record_outcome(actor=actor, session_id=sid, outcome=FixStatus.APPLIED_PARTIAL,
                                                      notes="two of three jobs printed")
    assert partial.applied_at is not None and partial.verified_at is None
    done = await world.engine.fixes.record_outcome(actor=actor, session_id=sid, outcome=FixStatus.APPLIED_SUCCESS)
    assert done.verified_at is not None
    with pytest.raises(IllegalTransition, match="final outcome: it worked; it can't be marked 'didn't work' now") as refused:
        await world.engine.fixes.record_outcome(actor=actor, session_id=sid, outcome=FixStatus.APPLIED_FAILED, notes="x")
    assert refused.value.reason == "fix.final_outcome" and refused.value.params["status"] == "applied_success"
    with pytest.raises(Conflict, match=r"final outcome: it worked\.$"):  # worded, never `applied_success`
        await world.engine.fixes.apply(actor=actor, session_id=sid)
    with pytest.raises(Conflict):
        await world.engine.fixes.apply(actor=actor, session_id=sid)


async def test_outcome_proposal_confirm_and_not_yet(world: World) -> None:
    actor, sid = await session_with_fix(world)
    await world.engine.fixes.apply(actor=actor, session_id=sid)
    world.assistant.turns.append(AssistantTurn(reply="Great!", outcome=OutcomeProposal(outcome="worked", evidence="it prints")))
    await world.engine.sessions.post_message(actor=actor, session_id=sid, text="it prints now")
    results = await world.engine.turns.drain()
    assert results[0].outcome_proposed == "worked"
    v = await version(world, actor, sid)
    fix = await world.engine.fixes.reject_proposal(actor=actor, session_id=sid)
    assert fix.outcome_proposal is None and fix.status == FixStatus.PROPOSED
    assert await version(world, actor, sid) == v  # R11: Not yet changes nothing else
    world.assistant.turns.append(AssistantTurn(reply="Great!", outcome=OutcomeProposal(outcome="worked", evidence="works")))
    await world.engine.sessions.post_message(actor=actor, session_id=sid, text="really works")
    await world.engine.turns.drain()
    fix = await world.engine.fixes.confirm_proposal(actor=actor, session_id=sid)
    assert fix.status == FixStatus.APPLIED_SUCCESS and fix.outcome_proposal is None
    assert await version(world, actor, sid) == v + 1


async def test_decisions_and_scripts(world: World) -> None:
    actor, sid = await session_with_fix(world, script="Restart-Service -Name {{service}}", script_language="powershell")
    with pytest.raises(InvalidInput):
        await world.engine.fixes.save_script(actor=actor, session_id=sid, script="   ")
    saved = await world.engine.fixes.save_script(actor=actor, session_id=sid, script="Restart-Service Spooler")
    assert saved.applied_at is None  # R12
    one_off = await world.engine.fixes.decide(actor=actor, session_id=sid, decision=FixDecision.ONE_OFF)
    assert one_off.script == "Restart-Service Spooler"
    drafted = await world.engine.fixes.decide(actor=actor, session_id=sid, decision=FixDecision.DRAFT_TEMPLATE,
                                              edited_script="Restart-Service -Name Spooler -Force")
    assert drafted.draft is not None and drafted.draft.body == "Restart-Service -Name Spooler -Force"
    dismissed = await world.engine.fixes.decide(actor=actor, session_id=sid, decision=FixDecision.DISMISSED)
    assert dismissed.fix.status == FixStatus.DISMISSED and dismissed.fix.superseded_at is not None
    with pytest.raises(Conflict):
        await world.engine.fixes.decide(actor=actor, session_id=sid, decision=FixDecision.DISMISSED,
                                        fix_id=dismissed.fix.id)


async def test_script_decision_without_script_is_an_error(world: World) -> None:
    actor, sid = await session_with_fix(world)
    with pytest.raises(InvalidInput, match="neither a script nor a template"):
        await world.engine.fixes.decide(actor=actor, session_id=sid, decision=FixDecision.ONE_OFF)


async def test_an_outcome_proposal_belongs_to_the_applied_fix_never_to_one_suggested_with_it(world: World) -> None:
    """R11 with R7: the proposal needs an applied fix; a reply that proposes an outcome and a new
    fix leaves the proposal on the fix the engineer applied, which the suggestion does not displace."""
    actor, sid = await session_with_fix(world)
    world.assistant.turns.append(AssistantTurn(reply="Sounds fixed.", outcome=OutcomeProposal(
        outcome="worked", evidence="it prints")))
    await world.engine.sessions.post_message(actor=actor, session_id=sid, text="it prints")
    await world.engine.turns.drain()
    view = await world.engine.sessions.view(actor=actor, session_id=sid)
    assert view.active_fix is not None and view.active_fix.outcome_proposal is None  # not applied: no proposal
    await world.engine.fixes.apply(actor=actor, session_id=sid)
    world.assistant.turns.append(AssistantTurn(
        reply="It failed; try this next.", outcome=OutcomeProposal(outcome="failed", evidence="still stuck"),
        fix=FixSuggestion(title="Reinstall the driver", description="Remove it, add it again.", confidence=60)))
    await world.engine.sessions.post_message(actor=actor, session_id=sid, text="still stuck")
    await world.engine.turns.drain()
    view = await world.engine.sessions.view(actor=actor, session_id=sid)
    assert view.active_fix is not None and view.active_fix.title == "Clear the print spooler"
    assert view.active_fix.outcome_proposal == {"outcome": "failed", "notes": None}
    async with world.engine.deps.uow_factory() as uow:
        assert [f.title for f in await uow.fixes.list(account_id=actor.account_id, session_id=sid)] == [
            "Clear the print spooler"]  # the suggestion was dropped while the applied fix awaits its outcome
