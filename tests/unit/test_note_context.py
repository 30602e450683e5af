"""The account's time zone as a setting (R30, R35), and the deterministic note and package the
engine composes with it when the assistant is unavailable (R13, R16, R21)."""

from __future__ import annotations

import pytest

from core.access import Actor
from core.errors import Forbidden, InvalidInput
from core.models import FixStatus
from tests.unit.conftest import World
from tests.unit.test_compose import section


async def started(world: World, who: str = "Dana") -> tuple[Actor, int]:
    actor = await world.member(who)
    posted = await world.engine.sessions.start(actor=actor, problem="VPN drops every hour")
    await world.engine.turns.drain()
    return actor, posted.session.id or 0


async def test_the_time_zone_is_a_checked_setting_beside_the_others(world: World) -> None:
    owner = await world.member("Olive")
    assert (await world.engine.accounts.preferences(actor=owner))["time_zone"] == "UTC"
    await world.engine.accounts.set_preferences(actor=owner, values={"cw_time_entries": True})
    prefs = await world.engine.accounts.set_preferences(actor=owner, values={"time_zone": "europe/amsterdam"})
    assert prefs == {"cw_time_entries": True, "time_zone": "Europe/Amsterdam"}
    with pytest.raises(InvalidInput) as refused:
        await world.engine.accounts.set_preferences(actor=owner, values={"time_zone": "Mars/Olympus", "x": 1})
    assert refused.value.field == "time_zone"
    assert await world.engine.accounts.preferences(actor=owner) == prefs  # nothing of a refused change is kept
    engineer = await world.member("Dana")
    with pytest.raises(Forbidden):
        await world.engine.accounts.set_preferences(actor=engineer, values={"time_zone": "UTC"})
    surface = await world.engine.accounts.preferences_for_surface(account_id=owner.account_id)
    assert surface["time_zone"] == "Europe/Amsterdam"


async def test_the_fallback_note_writes_dates_in_the_accounts_zone(world: World) -> None:
    await world.engine.accounts.set_preferences(actor=await world.member("Olive"), values={"time_zone": "Europe/Amsterdam"})
    actor, sid = await started(world)
    await world.engine.facts.add_note(actor=actor, session_id=sid, text="The VPN idle timeout is 60 minutes")
    await world.engine.fixes.add_engineer_fix(actor=actor, session_id=sid, title="Raise the VPN idle timeout")
    await world.engine.fixes.apply(actor=actor, session_id=sid)
    world.clock.advance(25 * 60)
    await world.engine.fixes.record_outcome(actor=actor, session_id=sid, outcome=FixStatus.APPLIED_SUCCESS)
    preview = await world.engine.previews.preview(actor=actor, session_id=sid, kind="resolve")
    assert preview.deterministic
    assert ("Applied “Raise the VPN idle timeout” on 2 November 2026, 10:00 (Europe/Amsterdam); confirmed working on "
            "2 November 2026, 10:25 (Europe/Amsterdam).") in section(preview.markdown, "Resolution")
    assert "- The VPN idle timeout is 60 minutes" in section(preview.markdown, "Root cause")


async def test_the_escalation_package_names_reason_and_target_and_no_confidence(world: World) -> None:
    await world.member("Sam")
    actor, sid = await started(world)
    await world.engine.fixes.add_engineer_fix(actor=actor, session_id=sid, title="Recreate the VPN profile")
    escalation = await world.engine.handoffs.escalate(actor=actor, session_id=sid, reason="Needs firewall access",
                                                      target="Sam")
    package = escalation.handoff.package_markdown or ""
    problem = section(package, "Problem")
    assert "Reason for escalation: Needs firewall access" in problem and "Escalated to: Sam" in problem
    assert "(the engineer's own fix)" in section(package, "Current hypothesis") and "confidence" not in package
    created = [e for e in world.notifier.events if getattr(e, "kind", "") == "escalation_created"]
    assert [e.package for e in created] == [package]  # type: ignore[attr-defined]


async def test_an_edited_package_gains_the_reason_without_losing_a_word(world: World) -> None:
    actor, sid = await started(world)
    edited = "## Problem\nVPN drops hourly for home users.\n\n## What we've tried\n- new profile"
    escalation = await world.engine.handoffs.escalate(actor=actor, session_id=sid, reason="Needs firewall access",
                                                      markdown=edited)
    assert escalation.handoff.package_markdown == (
        "## Problem\nVPN drops hourly for home users.\nReason for escalation: Needs firewall access\n\n"
        "## What we've tried\n- new profile")
