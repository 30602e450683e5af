"""Connect codes (issue 5): an admin's one-time code joins another platform's tenant to the account;
single use, 15 minutes, only a hash stored, refusals that say why and leave the code usable."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from core.errors import Conflict, Forbidden, InvalidInput
from core.models import Role
from core.tenants import CODE_ALPHABET, SignedIn, hash_code, normalize_code
from tests.unit.conftest import World
from tests.unit.tenant_people import code_rows, globex, slack, teams, tenants


async def test_a_connect_code_looks_right_and_only_its_hash_is_stored(world: World) -> None:
    alice = await globex(world)
    code, row = await tenants(world).create_connect_code(actor=alice.actor)
    assert len(code) == 9 and code[4] == "-"
    assert set(code.replace("-", "")) <= set(CODE_ALPHABET)
    assert row.created_at == world.clock.now()
    assert (row.expires_at - row.created_at).total_seconds() == 15 * 60
    assert row.account_id == alice.actor.account_id and row.created_by == alice.member.id
    [stored] = code_rows(world)
    expected = hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    assert stored["code_hash"] == expected == hash_code(code.lower())
    plain = code.replace("-", "")
    assert not any(plain in str(value) or code in str(value) for value in stored.values())
    second, _ = await tenants(world).create_connect_code(actor=alice.actor)
    assert second != code


@pytest.mark.parametrize("role", ["engineer", "viewer"])
async def test_only_admins_make_connect_codes(world: World, role: str) -> None:
    owner = await globex(world)
    bob = await tenants(world).sign_in(slack("U2", "Bob"))
    if role != "engineer":
        await tenants(world).set_role(actor=owner.actor, member_id=bob.member.id or 0, role=role)
    with pytest.raises(Forbidden, match="Admin"):
        await tenants(world).create_connect_code(actor=bob.actor)
    assert code_rows(world) == []
    ada = await tenants(world).sign_in(slack("U3", "Ada", admin=True))
    await tenants(world).create_connect_code(actor=ada.actor)
    assert len(code_rows(world)) == 1


async def test_a_code_joins_a_teams_tenant_once_and_is_typed_loosely(world: World) -> None:
    alice = await globex(world)
    code, _ = await tenants(world).create_connect_code(actor=alice.actor)
    typed = f"  {code.lower().replace('-', ' ')} "
    joined = await tenants(world).redeem_connect_code(typed, teams("aad-9", "Tom", admin=True))
    assert joined.actor.account_id == alice.actor.account_id
    assert not joined.new_account
    assert joined.member.role == Role.ADMIN
    assert await tenants(world).account_id_for(platform="teams", tenant_id="tt-1") == alice.actor.account_id
    [stored] = code_rows(world)
    assert stored["used_at"] == world.clock.now()
    assert (stored["used_by_platform"], stored["used_by_tenant"]) == ("teams", "tt-1")
    with pytest.raises(Conflict, match="already been used"):
        await tenants(world).redeem_connect_code(code, teams("aad-9", "Tom", tenant="tt-2"))
    assert await tenants(world).account_id_for(platform="teams", tenant_id="tt-2") is None


@pytest.mark.parametrize("text", ["", "ABC", "ABCD-EFGH-J", "----"])
async def test_text_that_is_not_a_code_is_refused(world: World, text: str) -> None:
    with pytest.raises(InvalidInput, match="looks like ABCD-EFGH"):
        await tenants(world).redeem_connect_code(text, teams("aad-1", "Tom"))


async def test_an_unknown_code_is_refused(world: World) -> None:
    alice = await globex(world)
    code, _ = await tenants(world).create_connect_code(actor=alice.actor)
    wrong = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"
    with pytest.raises(InvalidInput, match="not valid"):
        await tenants(world).redeem_connect_code(wrong, teams("aad-1", "Tom"))
    assert await tenants(world).account_id_for(platform="teams", tenant_id="tt-1") is None


async def test_a_code_expires_after_15_minutes(world: World) -> None:
    alice = await globex(world)
    late, _ = await tenants(world).create_connect_code(actor=alice.actor)
    world.clock.advance(14 * 60 + 59)
    in_time, _ = await tenants(world).create_connect_code(actor=alice.actor)
    world.clock.advance(2)  # `late` is now 15:01 old; `in_time` 0:02
    with pytest.raises(InvalidInput, match="expired"):
        await tenants(world).redeem_connect_code(late, teams("aad-1", "Tom"))
    assert await tenants(world).account_id_for(platform="teams", tenant_id="tt-1") is None
    joined = await tenants(world).redeem_connect_code(in_time, teams("aad-1", "Tom"))
    assert joined.actor.account_id == alice.actor.account_id


async def test_a_code_is_still_good_just_before_expiry(world: World) -> None:
    alice = await globex(world)
    code, _ = await tenants(world).create_connect_code(actor=alice.actor)
    world.clock.advance(15 * 60 - 1)
    joined = await tenants(world).redeem_connect_code(code, teams("aad-1", "Tom"))
    assert joined.actor.account_id == alice.actor.account_id


async def test_a_tenant_of_another_account_is_refused_and_the_code_stays_usable(world: World) -> None:
    alice = await globex(world)
    other = await tenants(world).sign_in(teams("aad-5", "Zed", tenant="tt-5", tenant_name="Hooli"))
    code, _ = await tenants(world).create_connect_code(actor=alice.actor)
    with pytest.raises(Conflict, match="another account"):
        await tenants(world).redeem_connect_code(code, teams("aad-5", "Zed", tenant="tt-5"))
    assert await tenants(world).account_id_for(platform="teams", tenant_id="tt-5") == other.actor.account_id
    [stored] = code_rows(world)
    assert stored["used_at"] is None and stored["used_by_tenant"] is None
    joined = await tenants(world).redeem_connect_code(code, teams("aad-6", "Tom", tenant="tt-6"))
    assert joined.actor.account_id == alice.actor.account_id


async def test_of_two_tenants_redeeming_one_code_exactly_one_joins(world: World) -> None:
    alice = await globex(world)
    code, _ = await tenants(world).create_connect_code(actor=alice.actor)
    results = await asyncio.gather(tenants(world).redeem_connect_code(code, teams("a", "Tom", tenant="tt-a")),
                                   tenants(world).redeem_connect_code(code, teams("b", "Tim", tenant="tt-b")),
                                   return_exceptions=True)
    joined = [r for r in results if isinstance(r, SignedIn)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(joined) == 1 and len(refused) == 1, results
    linked = [t for t in ("tt-a", "tt-b")
              if await tenants(world).account_id_for(platform="teams", tenant_id=t) == alice.actor.account_id]
    assert len(linked) == 1


async def test_a_tenant_already_in_the_account_redeems_harmlessly(world: World) -> None:
    alice = await globex(world)
    code, _ = await tenants(world).create_connect_code(actor=alice.actor)
    again = await tenants(world).redeem_connect_code(code, slack("U1", "Alice"))
    assert again.member.id == alice.member.id
    assert len(await tenants(world).links(account_id=alice.actor.account_id)) == 1


def test_codes_normalize_case_and_punctuation() -> None:
    assert normalize_code(" ab-cd efgh ") == "ABCDEFGH"
    assert hash_code("abcd-efgh") == hash_code("ABCDEFGH") != hash_code("ABCDEFGJ")


