"""`perform(actor, action)` (issue 11): every action through the one entry point, its form validated
the same way for every surface, its outcome a neutral code, and a viewer refused."""

from __future__ import annotations

import pytest

from core.access import Actor
from core.actions import SPECS, Action, ActionId, OutcomeCode
from core.assistant.types import AssistantTurn, FixSuggestion
from core.errors import Forbidden, InvalidInput
from core.forms import FORMS, FieldKind, FormName, validate
from core.models import FixStatus, Role, SessionStatus
from core.perform import HANDLERS
from tests.unit.conftest import World


async def lane_session(world: World) -> tuple[Actor, int]:
    actor = await world.member("Dana")
    world.assistant.turns.append(AssistantTurn(
        reply="Two things to look at.", questions=("Is it every printer?",), checks=("Spooler running?",),
        fix=FixSuggestion(title="Clear the print spooler", description="Stop it, clear the queue, start it.",
                          confidence=70)))
    posted = await world.engine.sessions.start(actor=actor, problem="Jobs stuck in the queue")
    await world.engine.turns.drain()
    return actor, posted.session.id or 0


def test_every_action_has_a_spec_and_a_handler_and_every_form_is_declared() -> None:
    assert set(SPECS) == set(ActionId) == set(HANDLERS)
    assert {s.form for s in SPECS.values() if s.form} <= set(FORMS)
    assert set(FORMS) == set(FormName)


def test_validation_names_the_field_and_cleans_values() -> None:
    form = FORMS[FormName.ESCALATE]
    with pytest.raises(InvalidInput) as refused:
        validate(form, {"reason": "   "})
    assert refused.value.reason == "form.required" and refused.value.field == "reason"
    with pytest.raises(InvalidInput) as too_long:
        validate(form, {"reason": "x" * 501})
    assert too_long.value.reason == "form.too_long" and too_long.value.params["max"] == 500
    assert validate(form, {"reason": " VPN down \n", "target": "42"}) == {"reason": "VPN down", "target": 42, "note": None}
    assert validate(form, {"reason": "r", "target": "@dana"})["target"] == "dana"
    with pytest.raises(InvalidInput) as bad_member:
        validate(form, {"reason": "r", "target": "9" * 30})
    assert bad_member.value.reason == "form.not_a_member"
    resolve = FORMS[FormName.RESOLVE]
    assert validate(resolve, {"note": "n", "log_time": "true"})["log_time"] is True
    assert validate(resolve, {"note": "n"})["log_time"] is False
    with pytest.raises(InvalidInput):
        validate(resolve, {"note": "n", "log_time": "maybe"})
    with pytest.raises(InvalidInput) as nul:
        validate(FORMS[FormName.ADD_FACT], {"text": "a\x00b"})
    assert nul.value.field == "text"
    assert all(f.kind in FieldKind for form in FORMS.values() for f in form.fields)


async def test_the_lane_actions_through_perform(world: World) -> None:
    actor, sid = await lane_session(world)
    view = await world.engine.sessions.view(actor=actor, session_id=sid)
    question = next(i for i in view.items if i.label.startswith("Q"))
    assert view.active_fix is not None
    fix_id = view.active_fix.id
    perform = world.engine.actions.perform

    confirmed = await perform(actor, Action(id=ActionId.CONFIRM_ITEM, session_id=sid, ref=question.id,
                                            values={"text": "Every printer on the floor"}))
    assert confirmed.code == OutcomeCode.FACT_CONFIRMED and confirmed.params["own_words"] is True
    assert confirmed.params["text"] == "Every printer on the floor"

    added = await perform(actor, Action(id=ActionId.ADD_FACT, session_id=sid, values={"text": "Queue has 40 jobs"}))
    assert added.code == OutcomeCode.FACT_ADDED
    edited = await perform(actor, Action(id=ActionId.EDIT_FACT, session_id=sid, ref=added.params["fact_id"],
                                         values={"text": "Queue has 41 jobs"}))
    assert edited.code == OutcomeCode.FACT_EDITED and edited.params["text"] == "Queue has 41 jobs"
    deleted = await perform(actor, Action(id=ActionId.DELETE_FACT, session_id=sid, ref=added.params["fact_id"]))
    assert deleted.code == OutcomeCode.FACT_DELETED

    applied = await perform(actor, Action(id=ActionId.APPLY_FIX, session_id=sid, ref=fix_id))
    assert applied.code == OutcomeCode.FIX_APPLIED
    partly = await perform(actor, Action(id=ActionId.FIX_PARTIAL, session_id=sid, ref=fix_id,
                                         values={"notes": "two of three printers print"}))
    assert partly.code == OutcomeCode.FIX_OUTCOME
    assert partly.params["outcome"] == FixStatus.APPLIED_PARTIAL and partly.params["outcome_label"] == "partly worked"
    worked = await perform(actor, Action(id=ActionId.FIX_WORKED, session_id=sid))
    assert worked.params["outcome"] == FixStatus.APPLIED_SUCCESS

    preview = await perform(actor, Action(id=ActionId.PREVIEW_RESOLVE, session_id=sid))
    assert preview.code == OutcomeCode.PREVIEW_READY and preview.preview is not None and not preview.changed
    resolved = await perform(actor, Action(id=ActionId.RESOLVE, session_id=sid,
                                           values={"note": preview.preview.markdown, "summary": "Spooler cleared"}))
    assert resolved.code == OutcomeCode.RESOLVED and resolved.params["outcome"] == "resolved_local"
    after = await world.engine.sessions.view(actor=actor, session_id=sid)
    assert after.session.status == SessionStatus.RESOLVED


async def test_a_form_refusal_changes_nothing(world: World) -> None:
    actor, sid = await lane_session(world)
    before = await world.engine.sessions.view(actor=actor, session_id=sid)
    with pytest.raises(InvalidInput) as refused:
        await world.engine.actions.perform(actor, Action(id=ActionId.FIX_PARTIAL, session_id=sid, values={}))
    assert refused.value.field == "notes"
    with pytest.raises(InvalidInput) as no_ref:
        await world.engine.actions.perform(actor, Action(id=ActionId.CONFIRM_ITEM, session_id=sid))
    assert no_ref.value.reason == "action.no_ref"
    after = await world.engine.sessions.view(actor=actor, session_id=sid)
    assert after.session.state_version == before.session.state_version


async def test_escalate_park_and_pickup_through_perform(world: World) -> None:
    actor, sid = await lane_session(world)
    senior = await world.member("Sam")
    escalated = await world.engine.actions.perform(actor, Action(id=ActionId.ESCALATE, session_id=sid, values={
        "reason": "Needs the print server's admin", "target": "@sam", "note": "## Problem\nJobs stuck"}))
    assert escalated.code == OutcomeCode.ESCALATED and escalated.params["target"] == "Sam"
    picked = await world.engine.actions.perform(senior, Action(id=ActionId.PICKUP, session_id=sid))
    assert picked.code == OutcomeCode.PICKED_UP and picked.pickup is not None
    assert picked.params["escalated_by"] == "Dana"
    parked = await world.engine.actions.perform(senior, Action(id=ActionId.PARK, session_id=sid, values={}))
    assert parked.code == OutcomeCode.PARKED


async def test_a_viewer_is_refused_every_change(world: World) -> None:
    _, sid = await lane_session(world)
    viewer = await world.member("Vic", role=Role.VIEWER)
    for action in (Action(id=ActionId.ADD_FACT, session_id=sid, values={"text": "x"}),
                   Action(id=ActionId.APPLY_FIX, session_id=sid),
                   Action(id=ActionId.PARK, session_id=sid),
                   Action(id=ActionId.PICKUP, session_id=sid)):
        with pytest.raises(Forbidden):
            await world.engine.actions.perform(viewer, action)
