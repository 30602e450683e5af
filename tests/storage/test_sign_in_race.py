"""A new workspace's first contacts arrive together (several inbox workers, several replicas): they
end in one account and one member each, on every backend (R35)."""

from __future__ import annotations

import asyncio

from core.bus import InMemoryBus
from core.deps import Deps
from core.engine import Engine
from core.platform import SLACK
from core.ports import UnitOfWorkFactory
from core.tenants import PlatformUser


async def test_simultaneous_first_contacts_make_one_account(uow_factory: UnitOfWorkFactory) -> None:
    engine = Engine(Deps(uow_factory=uow_factory, bus=InMemoryBus()))
    users = [PlatformUser(platform=SLACK, tenant_id="TNEW", tenant_name="New MSP", user_id=f"U{n}", name=f"Person {n}")
             for n in range(6)]
    signed = await asyncio.gather(*(engine.tenants.sign_in(u) for u in users))
    assert len({s.actor.account_id for s in signed}) == 1
    assert len({s.actor.member_id for s in signed}) == 6
    again = await engine.tenants.sign_in(users[0])
    assert again.actor == signed[0].actor
