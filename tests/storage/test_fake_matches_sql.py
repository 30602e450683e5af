"""Property: random sequences of repository operations observe the same results on the in-memory
fake and on SQLite. This is what lets core's unit tests trust tests/fakes/memory_uow.py."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.errors import Conflict
from core.models import (
    Fact,
    FactSource,
    Fix,
    FixAuthor,
    ItemKind,
    PendingTurn,
    PsaConnection,
    SessionStatus,
    TaskItem,
)
from core.platform import ConnectCode, InboundDelivery, SurfaceRef
from core.ports import UnitOfWork, UnitOfWorkFactory
from storage.db import make_engine, upgrade
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.memory_uow import memory_uow_factory
from tests.storage.scenario import World, add_escalation, add_step, add_writeback, at, seed

statuses = st.sampled_from(list(SessionStatus))
operations = st.one_of(
    st.tuples(st.just("fact"), st.booleans()),  # commit or leave without commit
    st.tuples(st.just("delete_fact"), st.integers(0, 5)),
    st.tuples(st.just("step"), st.integers(0, 4)),
    st.tuples(st.just("item"), st.sampled_from(list(ItemKind))),
    st.tuples(st.just("bump"), st.booleans()),
    st.tuples(st.just("cas"), st.frozensets(statuses, max_size=3), statuses),
    st.tuples(st.just("handoff"), st.integers(0, 4)),
    st.tuples(st.just("claim"), st.integers(0, 3), st.integers(0, 1), st.integers(0, 4)),
    st.tuples(st.just("fix"), st.booleans()),
    st.tuples(st.just("turn"), st.integers(0, 4)),
    st.tuples(st.just("claim_turn"), st.integers(0, 90), st.sampled_from(["w1", "w2"])),
    st.tuples(st.just("finish"), st.sampled_from(["w1", "w2"]), st.sampled_from(["done", "pending"])),
    st.tuples(st.just("writeback"), st.integers(0, 3), st.integers(0, 4)),  # key, created second
    st.tuples(st.just("claim_wb"), st.integers(0, 90), st.sampled_from(["w1", "w2"])),
    st.tuples(st.just("finish_wb"), st.sampled_from(["w1", "w2"]),
              st.sampled_from(["done", "failed", "pending"])),  # fmt: skip
    st.tuples(st.just("put_psa"), st.integers(0, 2)),
    st.tuples(st.just("accept"), st.integers(0, 3), st.integers(0, 4)),  # key, created second
    st.tuples(st.just("claim_in"), st.integers(0, 90), st.sampled_from(["w1", "w2"])),
    st.tuples(st.just("finish_in"), st.sampled_from(["w1", "w2"]), st.sampled_from(["done", "pending"])),
    st.tuples(st.just("prune"), st.integers(60, 90)),
    st.tuples(st.just("put_ref"), st.integers(0, 3), st.integers(0, 9)),
    st.tuples(st.just("code"), st.integers(0, 1), st.integers(0, 60)),  # which code, expires second
    st.tuples(st.just("redeem"), st.integers(0, 1), st.integers(0, 60)),
)
REF_KEYS = ("lane:1", "lane:10", "lan_:1", "Lane:1")
PLATFORM_OPS = frozenset({"accept", "claim_in", "finish_in", "prune", "put_ref", "code", "redeem"})

# Reaches every interesting path at least once, whatever hypothesis draws.
ALWAYS_CHECKED: list[tuple[Any, ...]] = [
    ("fact", True), ("fact", False), ("fact", True), ("delete_fact", 0), ("step", 3), ("step", 1),
    ("step", 3), ("item", ItemKind.CHECK), ("item", ItemKind.QUESTION), ("bump", True),
    ("bump", False), ("cas", frozenset({SessionStatus.ACTIVE}), SessionStatus.ESCALATED),
    ("cas", frozenset({SessionStatus.ACTIVE}), SessionStatus.RESOLVED), ("handoff", 2),
    ("handoff", 1), ("claim", 0, 1, 3), ("claim", 1, 0, 4), ("claim", 1, 0, 2), ("fix", True),
    ("fix", True), ("fix", False), ("turn", 2), ("turn", 1), ("claim_turn", 5, "w1"),
    ("claim_turn", 6, "w2"), ("claim_turn", 7, "w2"), ("claim_turn", 35, "w2"),
    ("claim_turn", 40, "w2"),
    ("finish", "w1", "done"), ("finish", "w2", "pending"), ("claim_turn", 41, "w1"),
    ("writeback", 0, 3), ("writeback", 1, 2), ("writeback", 0, 1), ("claim_wb", 5, "w1"),
    ("claim_wb", 6, "w2"), ("claim_wb", 7, "w2"), ("claim_wb", 40, "w2"), ("finish_wb", "w1", "done"),
    ("finish_wb", "w2", "pending"), ("claim_wb", 41, "w1"), ("finish_wb", "w1", "failed"),
    ("put_psa", 0), ("put_psa", 1),
    ("accept", 0, 3), ("accept", 1, 1), ("accept", 0, 4), ("claim_in", 5, "w1"), ("claim_in", 6, "w2"),
    ("claim_in", 40, "w2"), ("finish_in", "w1", "done"), ("finish_in", "w2", "done"), ("prune", 80),
    ("accept", 1, 2), ("accept", 2, 0), ("claim_in", 81, "w1"), ("finish_in", "w1", "pending"),
    ("put_ref", 0, 1), ("put_ref", 1, 2), ("put_ref", 0, 3), ("put_ref", 3, 4), ("put_ref", 2, 5),
    ("code", 0, 50), ("code", 0, 60), ("code", 1, 10), ("redeem", 0, 20), ("redeem", 0, 21), ("redeem", 1, 20),
]  # fmt: skip


async def _apply_platform(op: tuple[Any, ...], uow: UnitOfWork, world: World, log: dict[str, list[int]]) -> Any:
    """The platform tables' operations; deliveries are reported by key (SQLite reuses the id of a
    pruned newest row, the fake never does)."""
    kind = op[0]
    if kind == "accept":
        accepted = InboundDelivery(platform="slack", key=f"k{op[1]}", payload={"n": op[1]}, created_at=at(op[2]))
        fresh = await uow.inbound.accept(accepted)
        log["inbound"].extend([accepted.id or 0] if fresh else [])
        return fresh
    if kind == "claim_in":
        taken = await uow.inbound.claim_next(worker_id=op[2], now=at(op[1]), lease_until=at(op[1] + 30))
        return None if taken is None else (taken.key, taken.attempts)
    if kind == "finish_in":
        results = []
        for d in sorted(set(log["inbound"])):
            if (row := await uow.inbound.get(delivery_id=d)) is not None:
                results.append((row.key, await uow.inbound.finish(delivery_id=d, worker_id=op[1], status=op[2],
                                                                  now=at(70), error=op[2])))  # fmt: skip
        return sorted(results)
    if kind == "prune":
        return await uow.inbound.prune(finished_before=at(op[1]))
    if kind == "put_ref":
        stored = await uow.surface_refs.put(SurfaceRef(account_id=world.account, surface="slack", key=REF_KEYS[op[1]],
                                                       ref={"t": op[2]}, updated_at=at(op[2])))  # fmt: skip
        return stored.ref
    if kind == "code":
        await uow.connect_codes.add(ConnectCode(account_id=world.account, code_hash=f"h{op[1]}", created_at=at(0),
                                                created_by=world.senior, expires_at=at(op[2])))  # fmt: skip
        return None
    redeemed = await uow.connect_codes.redeem(code_hash=f"h{op[1]}", now=at(op[2]), platform="teams",
                                              tenant=f"t{op[2]}")
    return None if redeemed is None else redeemed.used_by_tenant


async def _apply(op: tuple[Any, ...], uow_factory: UnitOfWorkFactory, world: World,
                 log: dict[str, list[int]]) -> Any:  # fmt: skip
    """Run one operation in its own unit of work; return what the caller observed.
    Ids are reported as creation positions, since the two stores number rows independently."""
    kind, a, s = op[0], world.account, world.session
    async with uow_factory() as uow:
        if kind in PLATFORM_OPS:
            try:
                result = await _apply_platform(op, uow, world, log)
                await uow.commit()
            except Conflict:
                return "conflict"
            return result
        if kind == "fact":
            seq = await uow.facts.allocate_seq(account_id=a, session_id=s)
            added = await uow.facts.add(Fact(account_id=a, session_id=s, seq=seq, text=f"f{seq}",
                                            source=FactSource.NOTE, created_at=at(seq)))  # fmt: skip
            if op[1]:
                await uow.commit()
                log["facts"].append(added.id or 0)
            return seq
        if kind == "delete_fact":
            if op[1] >= len(log["facts"]):
                return None
            fact = await uow.facts.get(account_id=a, fact_id=log["facts"][op[1]])
            assert fact is not None
            fact.deleted_at = at(99)
        elif kind == "step":
            log["steps"].append(await add_step(uow, world, f"s{len(log['steps'])}", at(op[1])))
        elif kind == "item":
            listed = await uow.items.list(account_id=a, session_id=s)
            seq = 1 + max((i.seq for i in listed if i.kind == op[1]), default=0)
            await uow.items.add(TaskItem(account_id=a, session_id=s, kind=op[1], seq=seq,
                                         text=f"{op[1]}{seq}", created_at=at(0)))  # fmt: skip
        elif kind == "bump":
            version = await uow.sessions.bump_state_version(account_id=a, session_id=s)
            if op[1]:
                await uow.commit()
            return version
        elif kind == "cas":
            won = await uow.sessions.compare_and_set_status(
                account_id=a, session_id=s, expected=sorted(op[1]), new=op[2], now=at(len(log["steps"]))
            )  # fmt: skip
            await uow.commit()
            return won
        elif kind == "handoff":
            log["handoffs"].append(await add_escalation(uow, world, at(op[1])))
        elif kind == "claim":
            if op[1] >= len(log["handoffs"]):
                return None
            account = a if op[2] == 0 else world.other_account
            won = await uow.handoffs.claim(account_id=account, handoff_id=log["handoffs"][op[1]],
                                           member_id=world.senior, now=at(op[3]))  # fmt: skip
            await uow.commit()
            return won
        elif kind == "fix":
            active = await uow.fixes.active(account_id=a, session_id=s)
            if active is not None and op[1]:
                active.superseded_at = at(50)
            await uow.fixes.add(Fix(account_id=a, session_id=s, title=f"x{len(log['fixes'])}",
                                    description="", confidence=1, author=FixAuthor.ASSISTANT,
                                    created_at=at(len(log["fixes"]) % 3)))  # fmt: skip
            log["fixes"].append(0)
        elif kind == "turn":
            if not log["steps"]:
                return None
            queued = await uow.turns.add(PendingTurn(account_id=a, session_id=s, step_id=log["steps"][0],
                                                   created_at=at(op[1])))  # fmt: skip
            log["turns"].append(queued.id or 0)
        elif kind == "claim_turn":
            turn = await uow.turns.claim_next(worker_id=op[2], now=at(op[1]), lease_until=at(op[1] + 30))
            await uow.commit()
            return None if turn is None else (log["turns"].index(turn.id or 0), turn.attempts)
        elif kind == "finish":
            results = [await uow.turns.finish(turn_id=t, worker_id=op[1], status=op[2], now=at(70))
                       for t in log["turns"]]  # fmt: skip
            await uow.commit()
            return results
        elif kind == "writeback":
            try:
                added = await add_writeback(uow, account_id=a, session_id=s, member_id=world.engineer,
                                            key=f"k{op[1]}", created_at=at(op[2]))  # fmt: skip
                await uow.commit()
            except Conflict:
                return "conflict"
            log["writebacks"].append(added)
            return None
        elif kind == "claim_wb":
            wb = await uow.writebacks.claim_next(worker_id=op[2], now=at(op[1]), lease_until=at(op[1] + 30))
            await uow.commit()
            return None if wb is None else (log["writebacks"].index(wb.id or 0), wb.attempts)
        elif kind == "finish_wb":
            results = [await uow.writebacks.finish(writeback_id=w, worker_id=op[1], status=op[2], now=at(70))
                       for w in log["writebacks"]]  # fmt: skip
            await uow.commit()
            return results
        elif kind == "put_psa":
            stored = await uow.psa_connections.put(PsaConnection(
                account_id=a, kind="connectwise", settings={"site": f"s{op[1]}", "company": "c"},
                secrets_encrypted={"private_key": "e"}, updated_at=at(op[1]), updated_by=world.senior))  # fmt: skip
            log["psa"].append(stored.id or 0)
        await uow.commit()
    return None


async def _observe(uow_factory: UnitOfWorkFactory, world: World, log: dict[str, list[int]]) -> Any:
    a, s = world.account, world.session
    positions = {name: {v: i for i, v in enumerate(ids)} for name, ids in log.items()}

    def pos(name: str, entity: Any) -> int:
        return positions[name][entity.id]

    async with uow_factory() as uow:
        session = await uow.sessions.get(account_id=a, session_id=s)
        assert session is not None
        turns = [await uow.turns.get(account_id=a, turn_id=t) for t in log["turns"]]
        active = await uow.fixes.active(account_id=a, session_id=s)
        return {
            "session": (session.status, session.state_version, session.updated_at),
            "facts": [(f.label, f.text) for f in await uow.facts.list(account_id=a, session_id=s)],
            "all_facts": [(f.label, f.deleted_at) for f in await uow.facts.list(
                account_id=a, session_id=s, include_deleted=True)],  # fmt: skip
            "steps": [pos("steps", x) for x in await uow.steps.list(account_id=a, session_id=s)],
            "last_two": [pos("steps", x) for x in await uow.steps.list(account_id=a, session_id=s, limit=2)],
            "first_after": [
                None if (x := await uow.steps.first_after(account_id=a, session_id=s, after=at(t))) is None
                else pos("steps", x)
                for t in range(-1, 5)
            ],
            "items": [i.label for i in await uow.items.list(account_id=a, session_id=s)],
            "fixes": [f.title for f in await uow.fixes.list(account_id=a, session_id=s)],
            "active": None if active is None else active.title,
            "awaiting": [pos("handoffs", h) for h in await uow.handoffs.list_awaiting_pickup(account_id=a)],
            "claimed": [(pos("handoffs", h), h.claimed_at) for h in
                        await uow.handoffs.list_claimed_since(account_id=a, since=at(2))],  # fmt: skip
            "queue": [(pos("handoffs", h), x.id, m.id if m else None)
                      for h, x, m in await uow.handoffs.list_queue(account_id=a)],  # fmt: skip
            "responses": await uow.handoffs.pickup_responses(account_id=a, since=at(2)),
            "turns": [(t.status, t.attempts, t.lease_owner) for t in turns if t is not None],
            "open": await uow.turns.count_open(account_id=a),
            "latest": (await uow.handoffs.latest_for_session(account_id=a, session_id=s)) is not None,
            "writebacks": [(pos("writebacks", w), w.status, w.attempts, w.lease_owner, w.finished_at)
                           for w in await uow.writebacks.list(account_id=a, session_id=s)],  # fmt: skip
            "open_writebacks": await uow.writebacks.count_open(),
            "psa": None if (c := await uow.psa_connections.get(account_id=a)) is None
            else (c.settings["site"], c.updated_at, len(set(log["psa"]))),
            "inbound": sorted([(d.key, d.payload, d.status, d.attempts, d.lease_owner, d.finished_at, d.error)
                               for i in set(log["inbound"])
                               if (d := await uow.inbound.get(delivery_id=i))]),  # fmt: skip
            "open_inbound": await uow.inbound.count_open(),
            "refs": [(r.key, r.ref, r.updated_at) for r in await uow.surface_refs.list(account_id=a, key_prefix="")],
            "lane_1": [r.key for r in await uow.surface_refs.list(account_id=a, key_prefix="lane:1")],
            "codes": [None if (k := await uow.connect_codes.find(code_hash=h)) is None
                      else (k.expires_at, k.used_at, k.used_by_tenant) for h in ("h0", "h1")],  # fmt: skip
        }


async def _run(ops: list[tuple[Any, ...]], uow_factory: UnitOfWorkFactory) -> tuple[Any, Any]:
    world = await seed(uow_factory)
    log: dict[str, list[int]] = {"facts": [], "steps": [], "handoffs": [], "fixes": [], "turns": [],
                                 "writebacks": [], "psa": [], "inbound": []}  # fmt: skip
    observed = [await _apply(op, uow_factory, world, log) for op in ops]
    return observed, await _observe(uow_factory, world, log)


def test_memory_fake_and_sqlite_observe_the_same(tmp_path: Path) -> None:
    template = tmp_path / "template.db"
    with asyncio.Runner() as runner:
        runner.run(upgrade(f"sqlite:///{template}"))
        counter = iter(range(10_000))

        @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(ops=st.lists(operations, min_size=1, max_size=25))
        @example(ops=ALWAYS_CHECKED)
        def check(ops: list[tuple[Any, ...]]) -> None:
            path = tmp_path / f"example-{next(counter)}.db"
            shutil.copy(template, path)
            engine = make_engine(f"sqlite:///{path}")
            try:
                sql = runner.run(_run(ops, SqlUnitOfWorkFactory(engine)))
            finally:
                runner.run(engine.dispose())
                path.unlink()
            memory = runner.run(_run(ops, memory_uow_factory()))
            assert memory == sql

        check()

