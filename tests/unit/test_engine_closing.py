"""Previews (R2, R16), resolve (R18, R19), escalate and pickup (R21–R24), metric (R26), prefs (R30)."""

from __future__ import annotations

import asyncio

import pytest

from core.compose import DETERMINISTIC_MARKER
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.events import EscalationClaimed, EscalationCreated
from core.models import Role, SessionStatus
from tests.unit.conftest import World

NOTE = "## Problem\np\n## What we confirmed\nc\n## Root cause\nr\n## Resolution\nfixed"


async def open_session(world: World, who: str = "Dana"):
    actor = await world.member(who)
    posted = await world.engine.sessions.start(actor=actor, problem="VPN drops every hour")
    await world.engine.turns.drain()
    return actor, posted.session.id


async def test_previews_are_cached_per_version_and_kinds_coexist(world: World) -> None:
    actor, sid = await open_session(world)
    world.assistant.notes.extend([NOTE, "## Problem\nx"])
    first = await world.engine.previews.preview(actor=actor, session_id=sid, kind="resolve")
    again = await world.engine.previews.preview(actor=actor, session_id=sid, kind="resolve")
    assert (first.cached, again.cached, again.markdown) == (False, True, first.markdown)
    assert world.assistant.compose_calls == 1
    package = await world.engine.previews.preview(actor=actor, session_id=sid, kind="escalate")
    assert package.kind == "escalate" and world.assistant.compose_calls == 2
    assert (await world.engine.previews.preview(actor=actor, session_id=sid, kind="resolve")).cached
    await world.engine.facts.add_note(actor=actor, session_id=sid, text="Drops at exactly 60 minutes")
    fresh = await world.engine.previews.preview(actor=actor, session_id=sid, kind="resolve")
    assert not fresh.cached and fresh.state_version == first.state_version + 1


async def test_deterministic_note_when_the_assistant_fails(world: World) -> None:
    actor, sid = await open_session(world)
    await world.engine.facts.add_note(actor=actor, session_id=sid, text="Drops at exactly 60 minutes")
    preview = await world.engine.previews.preview(actor=actor, session_id=sid, kind="resolve")
    assert preview.composed_by == "deterministic" and DETERMINISTIC_MARKER in preview.markdown
    assert "Drops at exactly 60 minutes" in preview.markdown


async def test_resolve_locally_then_conflict(world: World) -> None:
    actor, sid = await open_session(world)
    result = await world.engine.resolution.resolve(actor=actor, session_id=sid, summary="Raised the VPN idle timeout")
    assert result.outcome == "resolved_local" and result.session.status == SessionStatus.RESOLVED
    assert result.writeup.summary == "Raised the VPN idle timeout"
    with pytest.raises(Conflict, match=r"already resolved at 2026-11-02 09:00 UTC by Dana"):
        await world.engine.resolution.resolve(actor=actor, session_id=sid)
    assert [e.kind for e in world.notifier.events] == ["session_resolved"]


async def test_resolve_limits(world: World) -> None:
    actor, sid = await open_session(world)
    with pytest.raises(InvalidInput, match="at most 500"):
        await world.engine.resolution.resolve(actor=actor, session_id=sid, summary="x" * 501)
    with pytest.raises(InvalidInput, match="at most 20000"):
        await world.engine.resolution.resolve(actor=actor, session_id=sid, markdown="y" * 20001)
    view = await world.engine.sessions.view(actor=actor, session_id=sid)
    assert view.session.status == SessionStatus.ACTIVE


async def test_double_resolve_at_once_has_one_winner(world: World) -> None:
    actor, sid = await open_session(world)
    results = await asyncio.gather(*(world.engine.resolution.resolve(actor=actor, session_id=sid) for _ in range(5)),
                                   return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception))


async def test_escalation_notifies_after_commit_and_pickup_is_race_safe(world: World) -> None:
    actor, sid = await open_session(world)
    seniors = [await world.member(f"Senior{i}") for i in range(20)]
    viewer = await world.member("Viewer", role=Role.VIEWER)
    with pytest.raises(InvalidInput, match="yourself"):
        await world.engine.handoffs.escalate(actor=actor, session_id=sid, reason="beyond me", target="@Dana")
    escalation = await world.engine.handoffs.escalate(actor=actor, session_id=sid, reason="Needs firewall access",
                                                      target="@Senior3")
    assert escalation.outcome == "escalated_local"
    created = [e for e in world.notifier.events if isinstance(e, EscalationCreated)]
    assert len(created) == 1 and created[0].target == "Senior3"
    async with world.engine.deps.uow_factory() as uow:
        notes = await uow.notifications.list_for_member(account_id=actor.account_id, member_id=seniors[3].member_id)
        mine = await uow.notifications.list_for_member(account_id=actor.account_id, member_id=actor.member_id)
    assert "to you" in notes[0].text and mine == []
    with pytest.raises(Forbidden, match="Engineer or admin access required"):
        await world.engine.handoffs.pickup(actor=viewer, session_id=sid)
    queue = await world.engine.handoffs.queue(actor=viewer)  # R24: anyone reads the queue
    assert [q.session.id for q in queue] == [sid]
    results = await asyncio.gather(*(world.engine.handoffs.pickup(actor=s, session_id=sid) for s in seniors),
                                   return_exceptions=True)
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    winner_name = f"Senior{results.index(winners[0])}"
    assert all(isinstance(r, Conflict) and str(r) == f"Already picked up by {winner_name}." for r in results if r not in winners)
    claimed = [e for e in world.notifier.events if isinstance(e, EscalationClaimed)]
    assert len(claimed) == 1 and claimed[0].claimed_by == winner_name
    view = await world.engine.sessions.view(actor=actor, session_id=sid)
    assert view.session.status == SessionStatus.ACTIVE and view.handler is not None and view.handler.name == winner_name
    with pytest.raises(Forbidden, match="handler or an admin"):  # R24: the original engineer hands over
        await world.engine.facts.add_note(actor=actor, session_id=sid, text="one more thing")
    owner = await world.member("Olive")  # an admin who is not the handler still may (R24)
    fact = await world.engine.facts.add_note(actor=owner, session_id=sid, text="Firewall vendor ticket opened")
    assert fact.created_by == owner.member_id


async def test_a_failing_channel_never_undoes_the_escalation_and_park_is_silent(world: World) -> None:
    actor, sid = await open_session(world)
    world.notifier.fail = True
    await world.engine.handoffs.escalate(actor=actor, session_id=sid, reason="stuck")
    assert (await world.engine.sessions.view(actor=actor, session_id=sid)).session.status == SessionStatus.ESCALATED
    world.notifier.fail = False
    _, other = await open_session(world, "Lee")
    lee = await world.member("Lee")
    await world.engine.sessions.park(actor=lee, session_id=other)
    assert world.notifier.events == []


async def test_metric_counts_claimed_handoffs_and_first_actions(world: World) -> None:
    actor, sid = await open_session(world)
    senior = await world.member("Sam")
    viewer = await world.member("Vee", role=Role.VIEWER)
    await world.engine.handoffs.escalate(actor=actor, session_id=sid, reason="stuck")
    world.clock.advance(60)
    await world.engine.handoffs.pickup(actor=senior, session_id=sid)
    empty = await world.engine.metric.pickup(actor=senior, days=7)
    assert (empty.n_claimed, empty.n_with_action, empty.median_s) == (1, 0, None)
    world.clock.advance(45)
    await world.engine.sessions.post_message(actor=senior, session_id=sid, text="Looking at the firewall now")
    result = await world.engine.metric.pickup(actor=senior, days=7)
    assert (result.n_claimed, result.n_with_action, result.median_s, result.p95_s) == (1, 1, 45.0, 45.0)
    assert "not time saved" in result.definition
    with pytest.raises(Forbidden):
        await world.engine.metric.pickup(actor=viewer, days=30)
    with pytest.raises(InvalidInput):
        await world.engine.metric.pickup(actor=senior, days=14)


async def test_preferences_merge_and_need_an_admin(world: World) -> None:
    owner = await world.member("Olive")  # the account's first member, its owner
    engineer = await world.member("Ed")
    await world.engine.accounts.set_preferences(actor=owner, values={"cw_resolved_status_id": 42})
    merged = await world.engine.accounts.set_preferences(actor=owner, values={"escalation_channel": "C123"})
    assert merged == {"cw_resolved_status_id": 42, "escalation_channel": "C123", "time_zone": "UTC"}
    with pytest.raises(Forbidden, match="Admin access required"):
        await world.engine.accounts.set_preferences(actor=engineer, values={"x": 1})
    with pytest.raises(NotFound):
        await world.engine.sessions.view(actor=engineer, session_id=999)
