"""Accounts, members and preferences (R30, R35): how surfaces find or create who is calling."""

from __future__ import annotations

import json
from typing import Any

from core.access import Actor, load_member, require_manager
from core.deps import Deps
from core.errors import InvalidInput, NotFound
from core.models import Account, Member, MemberIdentity, Role
from core.ports import UnitOfWork
from core.time_zones import TIME_ZONE_PREF, check_time_zone

ACCOUNT_GONE = "account.gone"  # a refusal code (core.errors) shared with core.tenants


def parse_role(text: str | None) -> Role:
    try:
        return Role((text or "engineer").strip().lower())
    except ValueError:
        raise InvalidInput("A role is owner, admin, engineer or viewer.", reason="role.unknown",
                           params={"role": text, "roles": [r.value for r in Role]}) from None


def parse_pref_value(raw: str) -> Any:
    """`/prefs key=value`: JSON when it parses (numbers, true/false, lists), otherwise the text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def settings_of(account: Account) -> dict[str, Any]:
    """The account's settings as one bag for surfaces that show or edit them generically: its
    preferences plus its `time_zone`."""
    return {**account.preferences, TIME_ZONE_PREF: account.time_zone}


async def ensure_account(uow: UnitOfWork, deps: Deps, name: str) -> Account:
    account = await uow.accounts.get_by_name(name=name)
    if account is None:
        account = await uow.accounts.add(Account(name=name, created_at=deps.clock.now()))
    return account


async def ensure_member(uow: UnitOfWork, deps: Deps, *, account_id: int, platform: str, external_id: str,
                        name: str, role: Role = Role.ENGINEER, email: str | None = None) -> tuple[Member, bool]:
    """Find the member behind a platform identity, or create them on first contact."""
    member = await uow.members.find_by_identity(account_id=account_id, platform=platform, external_id=external_id)
    if member is not None:
        return member, False
    member = await uow.members.add(Member(account_id=account_id, name=name, role=role, email=email,
                                          created_at=deps.clock.now()))
    await uow.members.add_identity(MemberIdentity(account_id=account_id, member_id=member.id or 0,
                                                  platform=platform, external_id=external_id))
    return member, True


class AccountService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def preferences(self, *, actor: Actor) -> dict[str, Any]:
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
            account = await uow.accounts.get(account_id=actor.account_id)
            if account is None:
                raise NotFound("This account no longer exists.", reason=ACCOUNT_GONE)
            return settings_of(account)

    async def preferences_for_surface(self, *, account_id: int) -> dict[str, Any]:
        """An account's preferences for a surface acting on one of the engine's own events (its
        escalation channel, say); no requesting member to check."""
        async with self.deps.uow_factory() as uow:
            account = await uow.accounts.get(account_id=account_id)
            return settings_of(account) if account else {}

    async def set_preferences(self, *, actor: Actor, values: dict[str, Any]) -> dict[str, Any]:
        """R30: setting some keys keeps the others. Admins and owners only (R35). `time_zone` is
        checked and kept on the account itself (it is typed and validated, not free-form)."""
        if not values:
            raise InvalidInput("Give at least one setting and its value.", reason="prefs.empty")
        values = dict(values)
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            require_manager(member)
            time_zone = check_time_zone(values.pop(TIME_ZONE_PREF)) if TIME_ZONE_PREF in values else None
            account = await uow.accounts.get(account_id=actor.account_id)
            if account is None:
                raise NotFound("This account no longer exists.", reason=ACCOUNT_GONE)
            if values:
                account.preferences = {**account.preferences, **values}  # reassigned so storage sees the change
            if time_zone is not None:
                account.time_zone = time_zone
            await uow.commit()
            return settings_of(account)

    async def members(self, *, actor: Actor) -> list[Member]:
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
            return await uow.members.list(account_id=actor.account_id)

    async def sign_in(self, *, account_name: str, platform: str, external_id: str, name: str,
                      role: Role | None = None, email: str | None = None) -> tuple[Actor, Member, bool]:
        """The caller behind a platform identity. A new account's first member is its owner."""
        async with self.deps.uow_factory() as uow:
            account = await ensure_account(uow, self.deps, account_name)
            assert account.id is not None
            first = not await uow.members.list(account_id=account.id, active_only=False)
            member, created = await ensure_member(
                uow, self.deps, account_id=account.id, platform=platform, external_id=external_id, name=name,
                role=Role.OWNER if first else (role or Role.ENGINEER), email=email)
            await uow.commit()
        return Actor(account_id=account.id, member_id=member.id or 0), member, created
