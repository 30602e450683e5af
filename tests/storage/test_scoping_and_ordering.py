"""Account scoping (R35) and the orderings documented in core/ports/, on every backend."""

from __future__ import annotations

import pytest

from core.errors import NotFound
from core.models import (
    DraftTemplate,
    Fact,
    FactSource,
    Fix,
    FixAuthor,
    HandoffIntent,
    ItemKind,
    MemberIdentity,
    Notification,
    Role,
    SessionStatus,
    TaskItem,
    Writeup,
    WriteupKind,
)
from core.ports import UnitOfWorkFactory
from tests.storage.scenario import (
    T0,
    add_escalation,
    add_member,
    add_session,
    add_step,
    add_turns,
    at,
    seed,
)


async def test_another_accounts_ids_are_not_found(uow_factory: UnitOfWorkFactory) -> None:
    """R35: an id from another account reads as missing, and race-safe writes refuse it."""
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        step_id = await add_step(uow, world, "hello", T0)
        handoff_id = await add_escalation(uow, world)
        await uow.commit()
    [turn_id] = await add_turns(uow_factory, world, 1)
    theirs, ours = world.other_account, world.account
    async with uow_factory() as uow:
        assert await uow.members.get(account_id=theirs, member_id=world.engineer) is None
        assert await uow.sessions.get(account_id=theirs, session_id=world.session) is None
        assert await uow.steps.get(account_id=theirs, step_id=step_id) is None
        assert await uow.handoffs.get(account_id=theirs, handoff_id=handoff_id) is None
        assert await uow.turns.get(account_id=theirs, turn_id=turn_id) is None
        assert await uow.steps.list(account_id=theirs, session_id=world.session) == []
        assert await uow.handoffs.list_awaiting_pickup(account_id=theirs) == []
        assert [s.id for s in await uow.sessions.list(account_id=theirs)] == [world.other_session]
        assert await uow.turns.count_open(account_id=theirs) == 0
        assert await uow.turns.count_open(account_id=ours) == 1
        assert not await uow.handoffs.claim(
            account_id=theirs, handoff_id=handoff_id, member_id=world.other_member, now=T0
        )
        assert not await uow.sessions.compare_and_set_status(
            account_id=theirs,
            session_id=world.session,
            expected=[SessionStatus.ACTIVE],
            new=SessionStatus.RESOLVED,
            now=at(1),
        )
        with pytest.raises(NotFound):
            await uow.sessions.bump_state_version(account_id=theirs, session_id=world.session)
        await uow.commit()
    async with uow_factory() as uow:
        session = await uow.sessions.get(account_id=ours, session_id=world.session)
        handoff = await uow.handoffs.get(account_id=ours, handoff_id=handoff_id)
        assert session is not None and handoff is not None
        assert (session.status, session.state_version) == (SessionStatus.ACTIVE, 0)
        assert handoff.claimed_by is None


async def test_members_by_name_identity_and_activity(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        elodie = await add_member(uow, world.account, "Élodie Martin", Role.ENGINEER)
        gone = await add_member(uow, world.account, "Gone Person", Role.VIEWER)
        member = await uow.members.get(account_id=world.account, member_id=gone)
        assert member is not None
        member.active = False
        await uow.members.add_identity(
            MemberIdentity(
                account_id=world.account, member_id=elodie, platform="slack", external_id="T1:U9"
            )
        )
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.members.get_by_name(account_id=world.account, name="ÉLODIE martin")
        assert found is not None and found.id == elodie
        assert await uow.members.get_by_name(account_id=world.other_account, name="dana") is None
        active = [m.name for m in await uow.members.list(account_id=world.account)]
        everyone = [m.name for m in await uow.members.list(account_id=world.account, active_only=False)]
        assert active == ["Dana", "Senior 0", "Élodie Martin"]
        assert everyone == ["Dana", "Senior 0", "Élodie Martin", "Gone Person"]
        by_identity = await uow.members.find_by_identity(
            account_id=world.account, platform="slack", external_id="T1:U9"
        )
        assert by_identity is not None and by_identity.id == elodie
        assert (
            await uow.members.find_by_identity(
                account_id=world.other_account, platform="slack", external_id="T1:U9"
            )
            is None
        )
        assert await uow.accounts.get_by_name(name="Globex MSP") is not None
        assert await uow.accounts.get_by_name(name="globex msp") is None


async def test_sessions_newest_first_with_filters(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        older = await add_session(uow, world.account, world.senior, "older", updated_at=at(-60))
        newer = await add_session(uow, world.account, world.engineer, "newer", updated_at=at(60))
        tie = await add_session(uow, world.account, world.engineer, "tie", updated_at=T0)
        parked = await add_session(
            uow, world.account, world.engineer, "parked", status=SessionStatus.PARKED,
            thread_ref="C1:111.222",
        )  # fmt: skip
        await uow.commit()
    async with uow_factory() as uow:
        everything = [s.id for s in await uow.sessions.list(account_id=world.account)]
        assert everything == [newer, parked, tie, world.session, older]
        assert [s.id for s in await uow.sessions.list(account_id=world.account, limit=2)] == [
            newer,
            parked,
        ]
        only_parked = await uow.sessions.list(
            account_id=world.account, statuses=[SessionStatus.PARKED]
        )
        assert [s.id for s in only_parked] == [parked]
        seniors = await uow.sessions.list(account_id=world.account, handler_id=world.senior)
        assert [s.id for s in seniors] == [older]
        by_thread = await uow.sessions.find_by_thread(account_id=world.account, thread_ref="C1:111.222")
        assert by_thread is not None and by_thread.id == parked
        assert (
            await uow.sessions.find_by_thread(account_id=world.other_account, thread_ref="C1:111.222")
            is None
        )


async def test_steps_oldest_first_limit_and_first_after(uow_factory: UnitOfWorkFactory) -> None:
    """R26 needs `first_after` strictly after the pickup time."""
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        third = await add_step(uow, world, "third", at(30))
        first = await add_step(uow, world, "first", at(10))
        second_a = await add_step(uow, world, "second a", at(20))
        second_b = await add_step(uow, world, "second b", at(20))
        await uow.commit()
    async with uow_factory() as uow:
        steps = await uow.steps.list(account_id=world.account, session_id=world.session)
        assert [s.id for s in steps] == [first, second_a, second_b, third]
        newest_two = await uow.steps.list(account_id=world.account, session_id=world.session, limit=2)
        assert [s.id for s in newest_two] == [second_b, third]
        after = uow.steps.first_after
        hit = await after(account_id=world.account, session_id=world.session, after=at(10))
        assert hit is not None and hit.id == second_a
        hit = await after(account_id=world.account, session_id=world.session, after=at(9.999999))
        assert hit is not None and hit.id == first
        assert await after(account_id=world.account, session_id=world.session, after=at(30)) is None
        assert await after(account_id=world.other_account, session_id=world.session, after=T0) is None
        count = uow.steps.count
        assert await count(account_id=world.account, session_id=world.session) == 4
        assert await count(account_id=world.account, session_id=world.session, up_to_id=second_a) == 3
        assert await count(account_id=world.other_account, session_id=world.session) == 0


async def test_task_items_facts_and_their_sequences(uow_factory: UnitOfWorkFactory) -> None:
    """R3 labels stay stable; R5 soft-deleted facts are hidden by default but keep their seq."""
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        items, next_seq = uow.items, {ItemKind.QUESTION: 1, ItemKind.CHECK: 1}
        for kind, text in [(ItemKind.CHECK, "ping gw"), (ItemKind.QUESTION, "which VPN?"),
                           (ItemKind.QUESTION, "since when?"), (ItemKind.CHECK, "check MTU")]:  # fmt: skip
            seq, next_seq[kind] = next_seq[kind], next_seq[kind] + 1
            await items.add(
                TaskItem(account_id=world.account, session_id=world.session, kind=kind, seq=seq,
                         text=text, created_at=T0)  # fmt: skip
            )
        for n in range(3):
            seq = await uow.facts.allocate_seq(account_id=world.account, session_id=world.session)
            await uow.facts.add(
                Fact(account_id=world.account, session_id=world.session, seq=seq, text=f"fact {n}",
                     source=FactSource.NOTE, created_at=at(n), created_by=world.engineer)  # fmt: skip
            )
        await uow.commit()
    async with uow_factory() as uow:
        listed = await uow.items.list(account_id=world.account, session_id=world.session)
        assert [i.label for i in listed] == ["Q1", "Q2", "C1", "C2"]
        assert [i.text for i in listed] == ["which VPN?", "since when?", "ping gw", "check MTU"]
        assert all(isinstance(i.kind, ItemKind) for i in listed)
        facts = await uow.facts.list(account_id=world.account, session_id=world.session)
        assert [f.label for f in facts] == ["F1", "F2", "F3"]
        facts[2].deleted_at = at(100)
        await uow.commit()
    async with uow_factory() as uow:
        visible = await uow.facts.list(account_id=world.account, session_id=world.session)
        assert [f.label for f in visible] == ["F1", "F2"]
        every = await uow.facts.list(
            account_id=world.account, session_id=world.session, include_deleted=True
        )
        assert [f.label for f in every] == ["F1", "F2", "F3"]
        assert await uow.facts.allocate_seq(account_id=world.account, session_id=world.session) == 4
        deleted = await uow.facts.get(account_id=world.account, fact_id=every[2].id or 0)
        assert deleted is not None and deleted.deleted_at == at(100)
        with pytest.raises(NotFound):  # another account's session (R35)
            await uow.facts.allocate_seq(account_id=world.other_account, session_id=world.session)


def _fix(world: object, title: str, created: int) -> Fix:
    return Fix(
        account_id=world.account,  # type: ignore[attr-defined]
        session_id=world.session,  # type: ignore[attr-defined]
        title=title,
        description="",
        confidence=70,
        author=FixAuthor.ASSISTANT,
        created_at=at(created),
    )


async def test_fixes_oldest_first_and_the_active_one(uow_factory: UnitOfWorkFactory) -> None:
    """R7: `active` is the fix whose superseded_at is NULL."""
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        assert await uow.fixes.active(account_id=world.account, session_id=world.session) is None
        first = await uow.fixes.add(_fix(world, "restart", 1))
        await uow.commit()
    async with uow_factory() as uow:
        old = await uow.fixes.active(account_id=world.account, session_id=world.session)
        assert old is not None and old.id == first.id
        old.superseded_at = at(2)
        second = await uow.fixes.add(_fix(world, "reinstall", 2))
        active = await uow.fixes.active(account_id=world.account, session_id=world.session)
        assert active is second  # one object per row inside a unit of work
        await uow.commit()
    async with uow_factory() as uow:
        listed = await uow.fixes.list(account_id=world.account, session_id=world.session)
        assert [f.title for f in listed] == ["restart", "reinstall"]
        active = await uow.fixes.active(account_id=world.account, session_id=world.session)
        assert active is not None and active.title == "reinstall"


async def test_handoffs_writeups_notifications_drafts(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory, seniors=2)
    async with uow_factory() as uow:
        late = await add_escalation(uow, world, at(20))
        early = await add_escalation(uow, world, at(10))
        park = await add_escalation(uow, world, at(30))
        parked = await uow.handoffs.get(account_id=world.account, handoff_id=park)
        assert parked is not None
        parked.intent = HandoffIntent.PARK
        fix = await uow.fixes.add(_fix(world, "restart", 1))
        for n, read in [(1, None), (2, at(5)), (3, None)]:
            await uow.notifications.add(
                Notification(account_id=world.account, member_id=world.senior, kind="escalation",
                             text=f"n{n}", created_at=at(n), read_at=read)  # fmt: skip
            )
        for n in (2, 1):
            await uow.writeups.add(
                Writeup(account_id=world.account, session_id=world.session, kind=WriteupKind.RESOLVE,
                        markdown=f"# w{n}", summary="s", outcome="resolved_local",
                        created_by=world.engineer, created_at=at(n))  # fmt: skip
            )
            await uow.drafts.add(
                DraftTemplate(account_id=world.account, session_id=world.session, fix_id=fix.id or 0,
                              name=f"d{n}", body="Restart-Service x", created_by=world.engineer,
                              created_at=at(n))  # fmt: skip
            )
        await uow.commit()
    async with uow_factory() as uow:
        awaiting = await uow.handoffs.list_awaiting_pickup(account_id=world.account)
        assert [h.id for h in awaiting] == [early, late]
        latest = await uow.handoffs.latest_for_session(account_id=world.account, session_id=world.session)
        assert latest is not None and latest.id == park
        latest_escalation = await uow.handoffs.latest_for_session(
            account_id=world.account, session_id=world.session, intent="escalate"
        )
        assert latest_escalation is not None and latest_escalation.id == late
        assert await uow.handoffs.claim(
            account_id=world.account, handoff_id=late, member_id=world.seniors[1], now=at(100)
        )
        assert await uow.handoffs.claim(
            account_id=world.account, handoff_id=early, member_id=world.senior, now=at(50)
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.handoffs.list_awaiting_pickup(account_id=world.account) == []
        since = await uow.handoffs.list_claimed_since(account_id=world.account, since=at(50))
        assert [h.id for h in since] == [early, late]
        assert [h.id for h in await uow.handoffs.list_claimed_since(account_id=world.account, since=at(51))] == [late]
        inbox = await uow.notifications.list_for_member(account_id=world.account, member_id=world.senior)
        assert [n.text for n in inbox] == ["n3", "n2", "n1"]
        unread = await uow.notifications.list_for_member(
            account_id=world.account, member_id=world.senior, unread_only=True
        )
        assert [n.text for n in unread] == ["n3", "n1"]
        assert [w.markdown for w in await uow.writeups.list(account_id=world.account, session_id=world.session)] == ["# w1", "# w2"]
        assert [d.name for d in await uow.drafts.list(account_id=world.account, session_id=world.session)] == ["d1", "d2"]
        assert await uow.drafts.list(account_id=world.other_account, session_id=world.session) == []


async def test_version_for_member_is_scoped_to_active_members_of_the_account(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        await uow.sessions.bump_state_version(account_id=world.account, session_id=world.session)
        await uow.commit()
    async with uow_factory() as uow:
        version = uow.sessions.version_for_member
        assert await version(account_id=world.account, session_id=world.session, member_id=world.engineer) == 1
        assert await version(account_id=world.account, session_id=world.session, member_id=world.other_member) is None
        assert await version(account_id=world.account, session_id=world.other_session, member_id=world.engineer) is None
        member = await uow.members.get(account_id=world.account, member_id=world.engineer)
        assert member is not None
        member.active = False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.sessions.version_for_member(account_id=world.account, session_id=world.session,
                                                     member_id=world.engineer) is None
