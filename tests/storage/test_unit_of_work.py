"""Transaction semantics every backend must share: ids on add, live entities, rollback,
isolation between units, JSON/enum/datetime round trips, constraint violations."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from core.errors import Conflict
from core.models import (
    Account,
    Fact,
    FactSource,
    Fix,
    FixAuthor,
    FixStatus,
    Handoff,
    HandoffIntent,
    MemberIdentity,
    SessionStatus,
    Step,
    StepKind,
)
from core.ports import UnitOfWorkFactory
from tests.storage.scenario import T0, World, add_session, add_step, at, seed


def _fact(world: World, seq: int, text: str = "DNS resolves") -> Fact:
    return Fact(account_id=world.account, session_id=world.session, seq=seq, text=text,
                source=FactSource.NOTE, created_at=T0)  # fmt: skip


async def test_ids_are_assigned_on_add_and_rows_persist_on_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        first, second = await uow.facts.add(_fact(world, 1)), await uow.facts.add(_fact(world, 2))
        assert first.id is not None and second.id is not None and first.id != second.id
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.facts.get(account_id=world.account, fact_id=first.id)
        assert again is not None and again is not first
        assert (again.text, again.seq, again.source) == ("DNS resolves", 1, FactSource.NOTE)


async def test_an_exception_in_the_block_rolls_everything_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    with pytest.raises(RuntimeError, match="boom"):
        async with uow_factory() as uow:
            await uow.facts.add(_fact(world, 1))
            session = await uow.sessions.get(account_id=world.account, session_id=world.session)
            assert session is not None
            session.title = "changed"
            await uow.sessions.bump_state_version(account_id=world.account, session_id=world.session)
            raise RuntimeError("boom")
    assert session is not None and session.title == "changed"  # still readable after the block
    async with uow_factory() as uow:
        assert await uow.facts.list(account_id=world.account, session_id=world.session) == []
        session = await uow.sessions.get(account_id=world.account, session_id=world.session)
        assert session is not None and (session.title, session.state_version) == (
            "VPN drops every hour",
            0,
        )


async def test_leaving_without_commit_and_explicit_rollback_discard(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        await uow.facts.add(_fact(world, 1, "kept"))
        await uow.commit()
        await uow.facts.add(_fact(world, 2, "after commit, never committed"))
    async with uow_factory() as uow:
        await uow.facts.add(_fact(world, 2, "rolled back"))
        await uow.rollback()
        assert [f.text for f in await uow.facts.list(account_id=world.account, session_id=world.session)] == ["kept"]
        await uow.facts.add(_fact(world, 2, "second try"))
        await uow.commit()
    async with uow_factory() as uow:
        facts = await uow.facts.list(account_id=world.account, session_id=world.session)
        assert [f.text for f in facts] == ["kept", "second try"]


async def test_changes_are_private_until_commit_but_visible_to_own_queries(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        fact = await uow.facts.add(_fact(world, 1))
        await uow.commit()
    async with uow_factory() as writer:
        mine = await writer.facts.get(account_id=world.account, fact_id=fact.id or 0)
        assert mine is not None
        mine.deleted_at = at(5)
        mine.text = "edited"
        assert await writer.facts.list(account_id=world.account, session_id=world.session) == []
        async with uow_factory() as reader:
            theirs = await reader.facts.get(account_id=world.account, fact_id=fact.id or 0)
            assert theirs is not None and (theirs.text, theirs.deleted_at) == ("DNS resolves", None)
        await writer.commit()
    async with uow_factory() as reader:
        theirs = await reader.facts.get(account_id=world.account, fact_id=fact.id or 0)
        assert theirs is not None and (theirs.text, theirs.deleted_at) == ("edited", at(5))


async def test_json_reassignment_and_in_place_mutation_both_persist(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """R30 merges preferences by reassigning; engines may also mutate in place (even nested)."""
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        account = await uow.accounts.get(account_id=world.account)
        assert account is not None
        account.preferences = {**account.preferences, "resolved_status_id": 42, "channels": []}
        await uow.commit()
    async with uow_factory() as uow:
        account = await uow.accounts.get(account_id=world.account)
        assert account is not None
        account.preferences["channels"].append({"slack": "C1"})
        account.preferences["opt_out"] = True
        session = await uow.sessions.get(account_id=world.account, session_id=world.session)
        assert session is not None
        session.ticket_info["board"] = {"id": 3, "name": "Help Desk"}
        fix = await uow.fixes.add(
            Fix(account_id=world.account, session_id=world.session, title="t", description="d",
                confidence=50, author=FixAuthor.ASSISTANT, created_at=T0,
                script_params=[{"name": "host", "sensitive": False}],
                outcome_proposal={"status": "applied_success"})  # fmt: skip
        )
        await uow.commit()
    async with uow_factory() as uow:
        account = await uow.accounts.get(account_id=world.account)
        session = await uow.sessions.get(account_id=world.account, session_id=world.session)
        stored_fix = await uow.fixes.get(account_id=world.account, fix_id=fix.id or 0)
        assert account is not None and session is not None and stored_fix is not None
        assert account.preferences == {
            "resolved_status_id": 42, "channels": [{"slack": "C1"}], "opt_out": True,
        }  # fmt: skip
        assert session.ticket_info == {"board": {"id": 3, "name": "Help Desk"}}
        assert stored_fix.script_params == [{"name": "host", "sensitive": False}]
        assert stored_fix.outcome_proposal == {"status": "applied_success"}
        stored_fix.outcome_proposal = None
        stored_fix.script_params[0]["sensitive"] = True
        await uow.commit()
    async with uow_factory() as uow:
        stored_fix = await uow.fixes.get(account_id=world.account, fix_id=fix.id or 0)
        assert stored_fix is not None and stored_fix.outcome_proposal is None
        assert stored_fix.script_params == [{"name": "host", "sensitive": True}]


async def test_datetimes_come_back_aware_utc_and_enums_as_members(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    paris = timezone(timedelta(hours=2))
    local = T0.astimezone(paris) + timedelta(microseconds=123456)
    async with uow_factory() as uow:
        step = await uow.steps.add(
            Step(account_id=world.account, session_id=world.session, kind="action",  # type: ignore[arg-type]
                 text="x", created_at=local, data={"n": 1})  # fmt: skip
        )
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.steps.get(account_id=world.account, step_id=step.id or 0)
        assert again is not None
        assert again.created_at == local and again.created_at.utcoffset() == timedelta(0)
        assert again.created_at.tzinfo is not None and again.created_at.tzname() == "UTC"
        assert again.kind is StepKind.ACTION
        session = await uow.sessions.get(account_id=world.account, session_id=world.session)
        assert session is not None and session.status is SessionStatus.ACTIVE


async def test_naive_datetimes_are_refused(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    with pytest.raises(Exception, match="naive datetime"):
        async with uow_factory() as uow:
            await add_step(uow, world, "naive", T0.replace(tzinfo=None))


@pytest.mark.parametrize("violation", ["duplicate fact seq", "duplicate identity",
                                       "duplicate account", "missing session"])  # fmt: skip
async def test_constraint_violations_raise_conflict(
    uow_factory: UnitOfWorkFactory, violation: str
) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        await uow.facts.add(_fact(world, 1))
        identity = MemberIdentity(account_id=world.account, member_id=world.engineer,
                                  platform="slack", external_id="T1:U1")  # fmt: skip
        await uow.members.add_identity(identity)
        await uow.commit()
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            if violation == "duplicate fact seq":
                await uow.facts.add(_fact(world, 1, "same label"))
            elif violation == "duplicate identity":
                await uow.members.add_identity(
                    MemberIdentity(account_id=world.account, member_id=world.senior,
                                   platform="slack", external_id="T1:U1")  # fmt: skip
                )
            elif violation == "duplicate account":
                await uow.accounts.add(Account(name="Acme IT", created_at=T0))
            else:
                await add_step(uow, World(**{**world.__dict__, "session": 999_999}), "x", T0)
            await uow.commit()
    async with uow_factory() as uow:  # the store is unharmed and usable
        assert len(await uow.facts.list(account_id=world.account, session_id=world.session)) == 1
        assert [a.name for a in [await uow.accounts.get_by_name(name="Acme IT")] if a] == ["Acme IT"]


async def test_a_conflicting_change_to_a_loaded_row_fails_at_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        await uow.facts.add(_fact(world, 1))
        second = await uow.facts.add(_fact(world, 2))
        await uow.commit()
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            loaded = await uow.facts.get(account_id=world.account, fact_id=second.id or 0)
            assert loaded is not None
            loaded.seq = 1
            await uow.commit()
    async with uow_factory() as uow:
        facts = await uow.facts.list(account_id=world.account, session_id=world.session)
        assert [f.seq for f in facts] == [1, 2]


async def test_bump_and_compare_and_set_update_loaded_entities(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """R1 / R19: the race-safe statements keep the unit's entity in step with the row."""
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        session = await uow.sessions.get(account_id=world.account, session_id=world.session)
        assert session is not None
        assert await uow.sessions.bump_state_version(account_id=world.account, session_id=world.session) == 1
        assert await uow.sessions.bump_state_version(account_id=world.account, session_id=world.session) == 2
        assert session.state_version == 2
        resolved = await uow.sessions.compare_and_set_status(
            account_id=world.account, session_id=world.session,
            expected=[SessionStatus.ACTIVE, SessionStatus.PARKED], new=SessionStatus.RESOLVED,
            now=at(60), values={"resolved_at": at(60), "resolved_by": world.engineer},
        )  # fmt: skip
        assert resolved
        assert (session.status, session.updated_at, session.resolved_by) == (
            SessionStatus.RESOLVED, at(60), world.engineer,
        )  # fmt: skip
        again = await uow.sessions.compare_and_set_status(
            account_id=world.account, session_id=world.session,
            expected=[SessionStatus.ACTIVE], new=SessionStatus.RESOLVED, now=at(61),
        )  # fmt: skip
        assert not again and session.updated_at == at(60)
        with pytest.raises(ValueError):
            await uow.sessions.compare_and_set_status(
                account_id=world.account, session_id=world.session, expected=[SessionStatus.RESOLVED],
                new=SessionStatus.ACTIVE, now=at(62), values={"state_version": 0},
            )  # fmt: skip
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.sessions.get(account_id=world.account, session_id=world.session)
        assert stored is not None
        assert (stored.status, stored.state_version, stored.resolved_at) == (
            SessionStatus.RESOLVED, 2, at(60),
        )  # fmt: skip


async def test_fix_status_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        fix = await uow.fixes.add(
            Fix(account_id=world.account, session_id=world.session, title="t", description="d",
                confidence=90, author=FixAuthor.ENGINEER, created_at=T0)  # fmt: skip
        )
        fix.status = FixStatus.APPLIED_PARTIAL
        fix.partial_notes = "half the users"
        fix.applied_at = at(3)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.fixes.get(account_id=world.account, fix_id=fix.id or 0)
        assert stored is not None
        assert (stored.status, stored.partial_notes, stored.applied_at, stored.decision) == (
            FixStatus.APPLIED_PARTIAL, "half the users", at(3), None,
        )  # fmt: skip


async def test_race_safe_statements_see_rows_inserted_in_the_same_unit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """R1: a session created and changed in one transaction is bumped in that transaction."""
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        session_id = await add_session(uow, world.account, world.engineer, "fresh")
        handoff = await uow.handoffs.add(
            Handoff(account_id=world.account, session_id=session_id, intent=HandoffIntent.ESCALATE,
                    reason="r", created_by=world.engineer, created_at=T0)  # fmt: skip
        )
        assert await uow.sessions.bump_state_version(account_id=world.account, session_id=session_id) == 1
        assert await uow.handoffs.claim(
            account_id=world.account, handoff_id=handoff.id or 0, member_id=world.senior, now=at(1)
        )
        assert handoff.claimed_by == world.senior
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.sessions.get(account_id=world.account, session_id=session_id)
        claimed = await uow.handoffs.get(account_id=world.account, handoff_id=handoff.id or 0)
        assert stored is not None and stored.state_version == 1
        assert claimed is not None and (claimed.claimed_by, claimed.claimed_at) == (world.senior, at(1))


async def test_adding_twice_is_a_no_op_and_a_kept_entity_can_be_reattached(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        fact = await uow.facts.add(_fact(world, 1))
        assert await uow.facts.add(fact) is fact
        await uow.commit()
    fact.text = "edited between units"
    async with uow_factory() as uow:
        await uow.facts.add(fact)
        await uow.commit()
    async with uow_factory() as uow:
        facts = await uow.facts.list(account_id=world.account, session_id=world.session)
        assert [(f.id, f.text) for f in facts] == [(fact.id, "edited between units")]
