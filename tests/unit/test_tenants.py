"""TenantService (R35): workspace/tenant → account, platform user → member, roles (connect codes:
test_connect_codes.py).

Runs the real service over the in-memory unit of work (the `world` fixture) with the FakeClock.
"""

from __future__ import annotations

import pytest

from core.errors import Forbidden, InvalidInput, NotFound
from core.models import Role
from core.platform import TenantLink
from tests.unit.conftest import World
from tests.unit.tenant_people import globex, identities, member_count, slack, stored_member, teams, tenants

# ---- sign_in: accounts ------------------------------------------------------------------------


async def test_first_contact_makes_an_account_whose_first_member_is_the_owner(world: World) -> None:
    signed = await tenants(world).sign_in(slack("U1", "Alice", admin=False))
    assert signed.new_account
    assert signed.account.name == "Globex"
    assert signed.member.role == Role.OWNER
    assert signed.actor.account_id == signed.account.id != (await world.member("Olive")).account_id
    assert await tenants(world).account_id_for(platform="slack", tenant_id="T1") == signed.account.id
    links = await tenants(world).links(account_id=signed.account.id or 0)
    assert [(link.platform, link.external_id) for link in links] == [("slack", "T1")]


async def test_second_contact_reuses_the_account_and_adds_a_member(world: World) -> None:
    first = await globex(world)
    second = await tenants(world).sign_in(slack("U2", "Bob"))
    assert not second.new_account
    assert second.actor.account_id == first.actor.account_id
    assert second.member.id != first.member.id
    assert second.member.role == Role.ENGINEER
    again = await tenants(world).sign_in(slack("U2", "Bob"))
    assert again.member.id == second.member.id
    assert await member_count(world, first.actor.account_id) == 2


async def test_a_workspace_named_like_an_existing_account_gets_its_own_account(world: World) -> None:
    """World's account is "Acme": a Slack workspace called Acme must not join it by name."""
    olive = await world.member("Olive")
    signed = await tenants(world).sign_in(slack("U1", "Mallory", team="T9", team_name="Acme"))
    assert signed.new_account
    assert signed.actor.account_id != olive.account_id
    assert signed.account.name == "Acme (Slack T9)"
    assert signed.member.role == Role.OWNER


async def test_a_nameless_workspace_is_named_after_its_id(world: World) -> None:
    signed = await tenants(world).sign_in(slack("U1", "Alice", team="T7", team_name="  "))
    assert signed.account.name == "Slack T7"


async def test_unknown_tenant_without_create_account_is_not_found(world: World) -> None:
    with pytest.raises(NotFound, match="not connected"):
        await tenants(world).sign_in(teams("aad-1", "Alice"), create_account=False)
    assert await tenants(world).account_id_for(platform="teams", tenant_id="tt-1") is None
    assert world.store.rows[TenantLink] == {}


# ---- sign_in: roles ---------------------------------------------------------------------------


async def test_the_first_member_owns_the_account_even_as_a_platform_admin(world: World) -> None:
    signed = await tenants(world).sign_in(slack("U1", "Alice", admin=True))
    assert signed.member.role == Role.OWNER


async def test_platform_admins_join_as_admins_others_as_engineers(world: World) -> None:
    await globex(world)
    admin = await tenants(world).sign_in(slack("U2", "Ada", admin=True))
    engineer = await tenants(world).sign_in(slack("U3", "Eve", admin=False))
    assert admin.member.role == Role.ADMIN
    assert engineer.member.role == Role.ENGINEER


async def test_an_engineer_becomes_admin_when_the_platform_says_admin_and_it_is_stored(world: World) -> None:
    await globex(world)
    first = await tenants(world).sign_in(slack("U2", "Bob"))
    assert first.member.role == Role.ENGINEER
    promoted = await tenants(world).sign_in(slack("U2", "Bob", admin=True))
    assert promoted.member.role == Role.ADMIN
    assert (await stored_member(world, promoted.actor)).role == Role.ADMIN
    # No longer a workspace admin: the account role is not taken away by a later sign-in.
    later = await tenants(world).sign_in(slack("U2", "Bob", admin=False))
    assert later.member.role == Role.ADMIN


async def test_a_viewer_stays_a_viewer_when_the_platform_says_admin(world: World) -> None:
    owner = await globex(world)
    bob = await tenants(world).sign_in(slack("U2", "Bob"))
    await tenants(world).set_role(actor=owner.actor, member_id=bob.member.id or 0, role="viewer")
    again = await tenants(world).sign_in(slack("U2", "Bob", admin=True))
    assert again.member.role == Role.VIEWER
    assert (await stored_member(world, bob.actor)).role == Role.VIEWER


async def test_the_owner_stays_owner_when_signing_in_as_platform_admin(world: World) -> None:
    owner = await globex(world)
    again = await tenants(world).sign_in(slack("U1", "Alice", admin=True))
    assert again.member.role == Role.OWNER
    assert (await stored_member(world, owner.actor)).role == Role.OWNER


# ---- sign_in: matching people -----------------------------------------------------------------


async def test_a_verified_email_matches_an_existing_member_and_remembers_the_identity(world: World) -> None:
    alice = await globex(world)
    code, _ = await tenants(world).create_connect_code(actor=alice.actor)
    joined = await tenants(world).redeem_connect_code(code, teams("aad-1", "Alice A.", email="ALICE@globex.test"))
    assert joined.member.id == alice.member.id
    assert joined.member.role == Role.OWNER
    assert sorted(await identities(world, alice.actor)) == [("slack", "U1"), ("teams", "aad-1")]
    # Next time the Teams identity alone finds her, email or not.
    again = await tenants(world).sign_in(teams("aad-1", "Alice A."))
    assert again.member.id == alice.member.id
    assert await member_count(world, alice.actor.account_id) == 1


async def test_a_same_named_person_without_an_email_is_a_new_member(world: World) -> None:
    """Never matched by display name."""
    alice = await globex(world)
    code, _ = await tenants(world).create_connect_code(actor=alice.actor)
    other = await tenants(world).redeem_connect_code(code, teams("aad-7", "Alice"))
    assert other.member.id != alice.member.id
    assert other.member.role == Role.ENGINEER
    assert await member_count(world, alice.actor.account_id) == 2


async def test_emails_match_only_inside_the_same_account(world: World) -> None:
    alice = await globex(world)
    elsewhere = await tenants(world).sign_in(slack("U1", "Alice", team="T2", team_name="Initech",
                                                   email="alice@globex.test"))
    assert elsewhere.new_account
    assert elsewhere.actor.account_id != alice.actor.account_id
    assert elsewhere.member.id != alice.member.id
    assert elsewhere.member.role == Role.OWNER


async def test_a_member_without_an_email_gets_the_verified_one(world: World) -> None:
    await globex(world)
    bob = await tenants(world).sign_in(slack("U2", "Bob"))
    assert bob.member.email is None
    await tenants(world).sign_in(slack("U2", "Bob", email="bob@globex.test"))
    assert (await stored_member(world, bob.actor)).email == "bob@globex.test"


async def test_a_deactivated_member_is_refused_and_nothing_is_remembered(world: World) -> None:
    alice = await globex(world)
    bob = await tenants(world).sign_in(slack("U2", "Bob", email="bob@globex.test"))
    async with world.engine.deps.uow_factory() as uow:
        row = await uow.members.get(account_id=bob.actor.account_id, member_id=bob.actor.member_id)
        assert row is not None
        row.active = False
        await uow.commit()
    with pytest.raises(Forbidden, match="not a member"):
        await tenants(world).sign_in(slack("U2", "Bob"))
    code, _ = await tenants(world).create_connect_code(actor=alice.actor)
    with pytest.raises(Forbidden):
        await tenants(world).redeem_connect_code(code, teams("aad-2", "Bob", email="bob@globex.test"))
    assert await identities(world, bob.actor) == [("slack", "U2")]


# ---- install ----------------------------------------------------------------------------------


async def test_install_of_a_new_workspace_makes_the_installer_owner(world: World) -> None:
    signed = await tenants(world).install(slack("U1", "Alice", admin=True))
    assert signed.new_account
    assert signed.member.role == Role.OWNER


async def test_reinstall_keeps_the_account_and_makes_the_installer_admin(world: World) -> None:
    owner = await globex(world)
    vic = await tenants(world).sign_in(slack("U5", "Vic"))
    await tenants(world).set_role(actor=owner.actor, member_id=vic.member.id or 0, role="viewer")
    signed = await tenants(world).install(slack("U5", "Vic", admin=False))
    assert not signed.new_account
    assert signed.actor.account_id == owner.actor.account_id
    assert (await stored_member(world, vic.actor)).role == Role.ADMIN
    assert signed.member.role == Role.ADMIN  # what install() hands back agrees with what it stored


async def test_reinstall_by_a_newcomer_adds_them_as_admin(world: World) -> None:
    owner = await globex(world)
    signed = await tenants(world).install(slack("U8", "Nina", admin=False))
    assert signed.actor.account_id == owner.actor.account_id
    assert (await stored_member(world, signed.actor)).role == Role.ADMIN
    assert len(world.store.rows[TenantLink]) == 1


# ---- set_role ---------------------------------------------------------------------------------


async def test_an_admin_changes_a_role_and_it_is_stored(world: World) -> None:
    owner = await globex(world)
    ada = await tenants(world).sign_in(slack("U3", "Ada", admin=True))
    bob = await tenants(world).sign_in(slack("U2", "Bob"))
    changed = await tenants(world).set_role(actor=ada.actor, member_id=bob.member.id or 0, role=" Viewer ")
    assert changed.role == Role.VIEWER
    assert (await stored_member(world, bob.actor)).role == Role.VIEWER
    await tenants(world).set_role(actor=owner.actor, member_id=bob.member.id or 0, role="admin")
    assert (await stored_member(world, bob.actor)).role == Role.ADMIN


async def test_an_engineer_cannot_change_roles(world: World) -> None:
    await globex(world)
    bob = await tenants(world).sign_in(slack("U2", "Bob"))
    eve = await tenants(world).sign_in(slack("U3", "Eve"))
    with pytest.raises(Forbidden, match="Admin"):
        await tenants(world).set_role(actor=bob.actor, member_id=eve.member.id or 0, role="viewer")
    with pytest.raises(Forbidden):
        await tenants(world).set_role(actor=bob.actor, member_id=bob.member.id or 0, role="admin")
    assert (await stored_member(world, eve.actor)).role == Role.ENGINEER
    assert (await stored_member(world, bob.actor)).role == Role.ENGINEER


async def test_the_owner_role_neither_changes_nor_is_handed_out(world: World) -> None:
    owner = await globex(world)
    ada = await tenants(world).sign_in(slack("U3", "Ada", admin=True))
    with pytest.raises(Forbidden, match="owner"):
        await tenants(world).set_role(actor=ada.actor, member_id=owner.member.id or 0, role="viewer")
    with pytest.raises(Forbidden, match="owner"):
        await tenants(world).set_role(actor=owner.actor, member_id=ada.member.id or 0, role="owner")
    assert (await stored_member(world, owner.actor)).role == Role.OWNER
    assert (await stored_member(world, ada.actor)).role == Role.ADMIN


async def test_set_role_refuses_unknown_roles_and_other_accounts_members(world: World) -> None:
    owner = await globex(world)
    bob = await tenants(world).sign_in(slack("U2", "Bob"))
    with pytest.raises(InvalidInput, match="A role is"):
        await tenants(world).set_role(actor=owner.actor, member_id=bob.member.id or 0, role="boss")
    olive = await world.member("Olive")
    with pytest.raises(NotFound, match="no such member"):
        await tenants(world).set_role(actor=owner.actor, member_id=olive.member_id, role="viewer")
    assert (await stored_member(world, olive)).role == Role.OWNER
    assert (await stored_member(world, bob.actor)).role == Role.ENGINEER


