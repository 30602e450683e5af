"""The platform tables on every backend: tenant links, the durable inbox (accept once, also under
races; the lease queue; pruning), surface references (replace, literal prefixes, scoping), connect
codes (single use, expiry, one winner of 20) and matching members by email."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import Conflict
from core.models import Member, Role
from core.platform import ConnectCode, InboundDelivery, InboundStatus, SurfaceRef, TenantLink
from core.ports import UnitOfWorkFactory
from tests.storage.scenario import T0, World, add_member, at, seed

CONCURRENCY = 20


def delivery(key: str, created_at: float = 0, platform: str = "slack") -> InboundDelivery:
    return InboundDelivery(platform=platform, key=key, payload={"event": {"text": key}},
                           created_at=at(created_at))


def surface_ref(world: World, key: str, *, account: int | None = None, surface: str = "slack",
                seconds: float = 0, session_id: int | None = None) -> SurfaceRef:  # fmt: skip
    return SurfaceRef(account_id=account or world.account, surface=surface, key=key,
                      ref={"channel": "C1", "ts": f"{seconds}"}, updated_at=at(seconds),
                      session_id=session_id)  # fmt: skip


async def test_tenant_links_are_found_across_accounts_listed_per_account_and_unique(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        for account, platform, external in [(world.account, "slack", "T1"), (world.other_account, "slack", "T2"),
                                            (world.account, "teams", "T1")]:  # fmt: skip
            await uow.tenants.add(TenantLink(account_id=account, platform=platform, external_id=external,
                                             name=f"{platform} {external}", created_at=T0))  # fmt: skip
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.tenants.find(platform="teams", external_id="T1")
        assert found is not None and (found.account_id, found.name, found.created_at) == (world.account, "teams T1", T0)
        assert await uow.tenants.find(platform="teams", external_id="T2") is None
        assert [(t.platform, t.external_id) for t in await uow.tenants.list(account_id=world.account)] == [
            ("slack", "T1"), ("teams", "T1")]  # fmt: skip
        assert [t.external_id for t in await uow.tenants.list(account_id=world.other_account)] == ["T2"]
    with pytest.raises(Conflict):  # a workspace belongs to one account only, whichever it is
        async with uow_factory() as uow:
            await uow.tenants.add(TenantLink(account_id=world.account, platform="slack", external_id="T2",
                                             name="again", created_at=T0))  # fmt: skip
            await uow.commit()
    async with uow_factory() as uow:
        again = await uow.tenants.find(platform="slack", external_id="T2")
        assert again is not None and again.account_id == world.other_account


async def test_accept_stores_a_delivery_once_and_keeps_the_unit_usable(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        first = delivery("Ev1")
        assert await uow.inbound.accept(first) is True
        assert first.id is not None
        retry = delivery("Ev1", created_at=5)
        assert await uow.inbound.accept(retry) is False and retry.id is None
        assert await uow.inbound.accept(delivery("Ev1", platform="teams")) is True
        first.payload["seen"] = True  # the accepted delivery is live, like an added entity
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbound.accept(delivery("Ev1", created_at=9)) is False
        stored = await uow.inbound.get(delivery_id=first.id)
        assert stored is not None
        assert (stored.platform, stored.key, stored.payload, stored.created_at, stored.status, stored.attempts) == (
            "slack", "Ev1", {"event": {"text": "Ev1"}, "seen": True}, at(0), InboundStatus.PENDING, 0)  # fmt: skip
        assert await uow.inbound.count_open() == 2
        with pytest.raises(TypeError):
            await uow.inbound.count_open(account_id=1)  # type: ignore[call-arg]
    again = delivery("Ev2")
    async with uow_factory() as uow:  # an accept that is rolled back leaves nothing behind
        assert await uow.inbound.accept(again) is True
    async with uow_factory() as uow:  # and the same object can be accepted (and used) again
        assert await uow.inbound.accept(again) is True
        again.error = "noted"
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.inbound.get(delivery_id=again.id or 0)
        assert stored is not None and (stored.key, stored.error) == ("Ev2", "noted")


async def test_concurrent_accepts_of_one_key_have_exactly_one_winner(uow_factory: UnitOfWorkFactory) -> None:
    async def accept(n: int) -> bool:
        async with uow_factory() as uow:
            fresh = await uow.inbound.accept(InboundDelivery(platform="slack", key="Ev9", payload={"n": n},
                                                             created_at=at(n)))  # fmt: skip
            await asyncio.sleep(0)
            await uow.commit()
            return fresh

    results = await asyncio.gather(*(accept(n) for n in range(CONCURRENCY)))
    assert results.count(True) == 1
    async with uow_factory() as uow:
        assert await uow.inbound.count_open() == 1
        claimed = await uow.inbound.claim_next(worker_id="w", now=at(30), lease_until=at(60))
        assert claimed is not None and claimed.payload == {"n": results.index(True)}


async def test_inbox_leases_finish_once_and_expire(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for key, seconds in [("late", 2), ("early", 1)]:
            assert await uow.inbound.accept(delivery(key, seconds))
        await uow.commit()
    async with uow_factory() as uow:
        one = await uow.inbound.claim_next(worker_id="w1", now=at(10), lease_until=at(40))
        two = await uow.inbound.claim_next(worker_id="w2", now=at(10), lease_until=at(40))
        assert await uow.inbound.claim_next(worker_id="w3", now=at(20), lease_until=at(50)) is None
        await uow.commit()
    assert one is not None and two is not None
    assert (one.key, one.status, one.attempts, one.lease_owner) == ("early", InboundStatus.RUNNING, 1, "w1")
    assert two.key == "late"
    async with uow_factory() as uow:
        assert await uow.inbound.finish(delivery_id=one.id or 0, worker_id="w2", status="done", now=at(11)) is False
        assert await uow.inbound.finish(delivery_id=one.id or 0, worker_id="w1", status="done", now=at(12)) is True
        assert await uow.inbound.finish(delivery_id=one.id or 0, worker_id="w1", status="done", now=at(13)) is False
        assert await uow.inbound.count_open() == 1
        stolen = await uow.inbound.claim_next(worker_id="w3", now=at(41), lease_until=at(70))  # w2's lease ran out
        assert stolen is not None and (stolen.id, stolen.attempts, stolen.lease_owner) == (two.id, 2, "w3")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbound.finish(delivery_id=two.id or 0, worker_id="w2", status="done", now=at(42)) is False
        assert await uow.inbound.finish(delivery_id=two.id or 0, worker_id="w3", status="pending", now=at(43),
                                        error="RuntimeError: boom") is True  # fmt: skip
        await uow.commit()
    async with uow_factory() as uow:
        done, back = await uow.inbound.get(delivery_id=one.id or 0), await uow.inbound.get(delivery_id=two.id or 0)
        assert done is not None
        assert (done.status, done.finished_at, done.lease_owner) == (InboundStatus.DONE, at(12), "w1")
        assert back is not None and (back.status, back.lease_owner, back.lease_until, back.error) == (
            InboundStatus.PENDING, None, None, "RuntimeError: boom")  # fmt: skip
        assert await uow.inbound.count_open() == 1


async def test_prune_deletes_only_deliveries_finished_before_the_cutoff(uow_factory: UnitOfWorkFactory) -> None:
    accepted = [delivery(f"Ev{n}", n) for n in range(4)]
    async with uow_factory() as uow:
        for each in accepted:
            assert await uow.inbound.accept(each)
        await uow.commit()
    for n, (status, finished) in enumerate([("done", 10), ("failed", 20), ("done", 30)]):
        async with uow_factory() as uow:
            taken = await uow.inbound.claim_next(worker_id="w", now=at(5 + n), lease_until=at(100))
            assert taken is not None and taken.key == f"Ev{n}"
            assert await uow.inbound.finish(delivery_id=taken.id or 0, worker_id="w", status=status, now=at(finished))
            await uow.commit()
    async with uow_factory() as uow:
        kept = await uow.inbound.claim_next(worker_id="w", now=at(9), lease_until=at(100))  # Ev3, running
        assert kept is not None
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbound.prune(finished_before=at(30)) == 2
        accepted.append(delivery("Ev0", 50))
        assert await uow.inbound.accept(accepted[-1]) is True  # forgotten: no longer a retry
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbound.prune(finished_before=at(30)) == 0
        left = [await uow.inbound.get(delivery_id=d.id or 0) for d in accepted]
        assert [d is None for d in left] == [True, True, False, False, False]
        assert sorted((d.key, d.status) for d in left if d is not None) == [
            ("Ev0", InboundStatus.PENDING), ("Ev2", InboundStatus.DONE), ("Ev3", InboundStatus.RUNNING)]  # fmt: skip
        assert await uow.inbound.count_open() == 2
    async with uow_factory() as uow:  # leaving without commit undoes a prune
        assert await uow.inbound.prune(finished_before=at(31)) == 1
    async with uow_factory() as uow:
        assert await uow.inbound.prune(finished_before=at(31)) == 1
        await uow.commit()


async def test_surface_refs_put_replaces_and_get_is_scoped(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        first = await uow.surface_refs.put(surface_ref(world, "lane:1", session_id=world.session))
        theirs = await uow.surface_refs.put(surface_ref(world, "lane:1", account=world.other_account, seconds=1))
        await uow.commit()
    async with uow_factory() as uow:
        replaced = await uow.surface_refs.put(surface_ref(world, "lane:1", seconds=7))
        assert replaced.id == first.id and (replaced.ref, replaced.updated_at) == ({"channel": "C1", "ts": "7"}, at(7))
        replaced.ref["ts"] = "8"  # the returned row is live: an in-place change persists
        await uow.commit()
    async with uow_factory() as uow:
        mine = await uow.surface_refs.get(account_id=world.account, surface="slack", key="lane:1")
        assert mine is not None and (mine.id, mine.ref, mine.session_id, mine.updated_at) == (
            first.id, {"channel": "C1", "ts": "8"}, None, at(7))  # fmt: skip
        other = await uow.surface_refs.get(account_id=world.other_account, surface="slack", key="lane:1")
        assert other is not None and other.id == theirs.id and other.ref["ts"] == "1"
        assert await uow.surface_refs.get(account_id=world.account, surface="teams", key="lane:1") is None
        found = await uow.surface_refs.find_any(surface="slack", key="lane:1")
        assert found is not None and found.id == first.id  # the oldest row of the two accounts
        assert await uow.surface_refs.find_any(surface="teams", key="lane:1") is None
    with pytest.raises(Conflict):  # a session that does not exist
        async with uow_factory() as uow:
            await uow.surface_refs.put(surface_ref(world, "lane:x", session_id=9999))
            await uow.commit()


@pytest.mark.parametrize(("prefix", "expected"), [
    ("lane:1", ["lane:1", "lane:10"]), ("lane:10", ["lane:10"]), ("lane:", ["lane:1", "lane:10", "lane:2"]),
    ("lan_", ["lan_:1"]), ("lane%", ["lane%x"]), ("50%", ["50%"]), ("a\\", ["a\\b"]), ("a/", ["a/b%"]),
    ("Lane", ["Lane:1"]), ("", ["lane:1", "lane:10", "lane:2", "lan_:1", "lane%x", "50%", "a\\b", "a/b%", "Lane:1"]),
])  # fmt: skip
async def test_surface_ref_prefixes_match_literally_and_case_sensitively(
    uow_factory: UnitOfWorkFactory, prefix: str, expected: list[str]
) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        for key in ["lane:1", "lane:10", "lane:2", "lan_:1", "lane%x", "50%", "a\\b", "a/b%", "Lane:1"]:
            await uow.surface_refs.put(surface_ref(world, key))
        await uow.surface_refs.put(surface_ref(world, "lane:1", surface="teams"))
        await uow.surface_refs.put(surface_ref(world, "lane:1", account=world.other_account))
        await uow.commit()
    async with uow_factory() as uow:
        listed = await uow.surface_refs.list(account_id=world.account, key_prefix=prefix, surface="slack")
        assert [r.key for r in listed] == expected
        every = await uow.surface_refs.list(account_id=world.account, key_prefix=prefix)
        assert [(r.surface, r.key) for r in every] == [("slack", k) for k in expected] + (
            [("teams", "lane:1")] if "lane:1".startswith(prefix) else [])  # fmt: skip


async def test_connect_codes_redeem_once_and_not_after_expiry(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        for code_hash in ("h1", "h2"):
            await uow.connect_codes.add(ConnectCode(account_id=world.account, code_hash=code_hash, created_at=T0,
                                                    created_by=world.senior, expires_at=at(900)))  # fmt: skip
        await uow.commit()
    async with uow_factory() as uow:
        held = await uow.connect_codes.find(code_hash="h1")
        assert held is not None and held.used_at is None
        won = await uow.connect_codes.redeem(code_hash="h1", now=at(60), platform="teams", tenant="tid")
        assert won is held and (won.used_at, won.used_by_platform, won.used_by_tenant) == (at(60), "teams", "tid")
        assert await uow.connect_codes.redeem(code_hash="h1", now=at(61), platform="teams", tenant="x") is None
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.connect_codes.redeem(code_hash="h1", now=at(62), platform="slack", tenant="T9") is None
        assert await uow.connect_codes.redeem(code_hash="nope", now=at(62), platform="slack", tenant="T9") is None
        assert await uow.connect_codes.redeem(code_hash="h2", now=at(900), platform="slack", tenant="T9") is None
        used = await uow.connect_codes.find(code_hash="h1")
        assert used is not None
        assert (used.account_id, used.used_by_tenant, used.used_at) == (world.account, "tid", at(60))
        unused = await uow.connect_codes.find(code_hash="h2")
        assert unused is not None and unused.used_at is None
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.connect_codes.add(ConnectCode(account_id=world.other_account, code_hash="h2", created_at=T0,
                                                    created_by=world.other_member, expires_at=at(9)))  # fmt: skip
            await uow.commit()


async def test_concurrent_redeems_of_one_code_have_exactly_one_winner(uow_factory: UnitOfWorkFactory) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        await uow.connect_codes.add(ConnectCode(account_id=world.account, code_hash="h", created_by=world.senior,
                                                created_at=T0, expires_at=at(900)))  # fmt: skip
        await uow.commit()

    async def redeem(n: int) -> tuple[bool, str | None]:
        async with uow_factory() as uow:
            held = await uow.connect_codes.find(code_hash="h")
            assert held is not None
            await asyncio.sleep(0)
            won = await uow.connect_codes.redeem(code_hash="h", now=at(10), platform="teams", tenant=f"t{n}")
            await asyncio.sleep(0)
            await uow.commit()
            return won is not None, held.used_by_tenant

    results = await asyncio.gather(*(redeem(n) for n in range(CONCURRENCY)))
    winners = [n for n, (won, _) in enumerate(results) if won]
    assert len(winners) == 1
    assert {seen for _, seen in results} == {f"t{winners[0]}"}  # losers see who has it


async def test_members_are_matched_by_email_case_insensitively_within_the_account(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await seed(uow_factory)
    async with uow_factory() as uow:
        async def member(account: int, name: str, email: str | None, active: bool = True) -> int:
            added = await uow.members.add(Member(account_id=account, name=name, role=Role.ENGINEER, created_at=T0,
                                                 email=email, active=active))  # fmt: skip
            return added.id or 0

        gone = await member(world.account, "Old Kim", "kim@example.com", active=False)
        only_gone = await member(world.account, "Lee", "LEE@example.com", active=False)
        kim = await member(world.account, "Kim", "Kim.Park@Example.COM")
        kim_again = await member(world.account, "Kim 2", "kim@example.com")
        theirs = await member(world.other_account, "Kim", "kim.park@example.com")
        await add_member(uow, world.account, "No Mail", Role.ENGINEER)
        await uow.commit()
    async with uow_factory() as uow:
        async def match(account: int, email: str) -> int | None:
            found = await uow.members.get_by_email(account_id=account, email=email)
            return None if found is None else found.id

        assert await match(world.account, "kim.park@example.com") == kim
        assert await match(world.other_account, "KIM.PARK@EXAMPLE.COM") == theirs
        assert await match(world.account, "KIM@example.com") == kim_again  # active first
        assert await match(world.account, "lee@example.com") == only_gone  # found, so it can be refused
        assert gone != kim_again
        assert await match(world.other_account, "kim@example.com") is None
        assert await match(world.account, "") is None
        assert await match(world.account, "kim.park@example") is None


async def test_a_members_identities_are_listed_oldest_first_within_the_account(uow_factory: UnitOfWorkFactory) -> None:
    from core.models import MemberIdentity

    world = await seed(uow_factory)
    async with uow_factory() as uow:
        sam = await add_member(uow, world.account, "Sam", Role.ENGINEER)
        other = await add_member(uow, world.other_account, "Sam", Role.ENGINEER)
        for member, account, platform, external in [(sam, world.account, "slack", "U1"), (sam, world.account, "teams", "aad-1"),
                                                    (other, world.other_account, "slack", "U9")]:  # fmt: skip
            await uow.members.add_identity(MemberIdentity(account_id=account, member_id=member,
                                                          platform=platform, external_id=external))  # fmt: skip
        await uow.commit()
    async with uow_factory() as uow:
        mine = await uow.members.identities(account_id=world.account, member_id=sam)
        crossed = await uow.members.identities(account_id=world.account, member_id=other)
    assert [(i.platform, i.external_id) for i in mine] == [("slack", "U1"), ("teams", "aad-1")]
    assert crossed == []
