"""People and workspaces for the TenantService tests (test_tenants.py, test_connect_codes.py)."""

from __future__ import annotations

from core.access import Actor
from core.models import Member
from core.platform import ConnectCode
from core.tenants import PlatformUser, SignedIn, TenantService
from tests.unit.conftest import World


def slack(user_id: str, name: str, *, team: str = "T1", team_name: str = "Globex", email: str | None = None,
          admin: bool = False) -> PlatformUser:
    return PlatformUser(platform="slack", tenant_id=team, tenant_name=team_name, user_id=user_id, name=name,
                        email=email, platform_admin=admin)


def teams(user_id: str, name: str, *, tenant: str = "tt-1", tenant_name: str = "Globex AAD",
          email: str | None = None, admin: bool = False) -> PlatformUser:
    return PlatformUser(platform="teams", tenant_id=tenant, tenant_name=tenant_name, user_id=user_id, name=name,
                        email=email, platform_admin=admin)


def tenants(world: World) -> TenantService:
    return world.engine.tenants


async def stored_member(world: World, actor: Actor) -> Member:
    async with world.engine.deps.uow_factory() as uow:
        member = await uow.members.get(account_id=actor.account_id, member_id=actor.member_id)
        assert member is not None
        return member


async def identities(world: World, actor: Actor) -> list[tuple[str, str]]:
    async with world.engine.deps.uow_factory() as uow:
        found = await uow.members.identities(account_id=actor.account_id, member_id=actor.member_id)
        return [(i.platform, i.external_id) for i in found]


async def member_count(world: World, account_id: int) -> int:
    async with world.engine.deps.uow_factory() as uow:
        return len(await uow.members.list(account_id=account_id, active_only=False))


def code_rows(world: World) -> list[dict[str, object]]:
    return list(world.store.rows[ConnectCode].values())


async def globex(world: World) -> SignedIn:
    """Slack workspace T1 ("Globex") makes first contact through Alice: a new account she owns."""
    return await tenants(world).sign_in(slack("U1", "Alice", email="alice@globex.test"))
