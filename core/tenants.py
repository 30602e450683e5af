"""Who is calling from a platform: workspace or tenant → account, platform user → member (R35).

Members are matched across platforms by a verified email, never by display name. A workspace or
tenant joins an existing account only through its OAuth install by an account member, or through
a one-time connect code made by an admin on the other platform.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from core.access import NOT_A_MEMBER, Actor, load_member, require_manager
from core.accounts import ACCOUNT_GONE, parse_role
from core.deps import Deps
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.models import Account, Member, MemberIdentity, Role
from core.platform import PLATFORM_NAMES, ConnectCode, TenantLink
from core.ports import UnitOfWork

log = logging.getLogger("rflow.tenants")

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: codes are read and typed by people
CODE_LENGTH = 8
CODE_TTL = timedelta(minutes=15)


@dataclass(frozen=True, kw_only=True)
class PlatformUser:
    """A person as a platform reports them. `email` only when the platform verified it."""

    platform: str
    tenant_id: str
    tenant_name: str
    user_id: str
    name: str
    email: str | None = None
    platform_admin: bool = False


@dataclass(frozen=True, kw_only=True)
class SignedIn:
    actor: Actor
    member: Member
    account: Account
    new_account: bool = False


def normalize_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def hash_code(text: str) -> str:
    return hashlib.sha256(normalize_code(text).encode()).hexdigest()


async def _unique_account_name(uow: UnitOfWork, wanted: str, platform: str, tenant_id: str) -> str:
    name = (wanted.strip() or f"{PLATFORM_NAMES.get(platform, platform)} {tenant_id}")[:200]
    if await uow.accounts.get_by_name(name=name) is None:
        return name
    return f"{name} ({PLATFORM_NAMES.get(platform, platform)} {tenant_id})"[:255]


async def _member_for(uow: UnitOfWork, deps: Deps, account_id: int, user: PlatformUser, *, first_role: Role) -> Member:
    """By identity; else by verified email (and remember the identity); else a new member."""
    member = await uow.members.find_by_identity(account_id=account_id, platform=user.platform, external_id=user.user_id)
    if member is None and user.email:
        member = await uow.members.get_by_email(account_id=account_id, email=user.email)
        if member is not None:
            await uow.members.add_identity(MemberIdentity(account_id=account_id, member_id=member.id or 0,
                                                          platform=user.platform, external_id=user.user_id))
            log.info("matched a %s user to member %s by verified email", user.platform, member.id)
    if member is None:
        role = first_role if not await uow.members.list(account_id=account_id, active_only=False) else (
            Role.ADMIN if user.platform_admin else Role.ENGINEER)
        member = await uow.members.add(Member(account_id=account_id, name=user.name[:255] or user.user_id, role=role,
                                              email=user.email, created_at=deps.clock.now()))
        await uow.members.add_identity(MemberIdentity(account_id=account_id, member_id=member.id or 0,
                                                      platform=user.platform, external_id=user.user_id))
        return member
    if user.platform_admin and member.role == Role.ENGINEER:
        member.role = Role.ADMIN  # workspace admins are admins here; viewers stay viewers (an admin's choice)
    if user.email and not member.email:
        member.email = user.email
    return member


class TenantService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def sign_in(self, user: PlatformUser, *, create_account: bool = True) -> SignedIn:
        """The caller's account (created on a workspace's first contact) and member. Two first
        contacts racing (or two new members at once): the loser's unique key fails, and it signs in
        again, finding what the winner made."""
        try:
            return await self._sign_in(user, create_account)
        except Conflict:
            log.info("sign-in raced another for %s %s; retrying", user.platform, user.tenant_id)
            return await self._sign_in(user, create_account)

    async def _sign_in(self, user: PlatformUser, create_account: bool) -> SignedIn:
        async with self.deps.uow_factory() as uow:
            link = await uow.tenants.find(platform=user.platform, external_id=user.tenant_id)
            new_account = False
            if link is None:
                if not create_account:
                    where = PLATFORM_NAMES.get(user.platform, user.platform)
                    raise NotFound(f"This {where} workspace is not connected to an account yet.",
                                   reason="tenant.not_connected", params={"platform": where})
                account, link = await self._new_account(uow, user)
                new_account = True
            else:
                found = await uow.accounts.get(account_id=link.account_id)
                if found is None:
                    raise NotFound("This account no longer exists.", reason=ACCOUNT_GONE)
                account = found
            member = await _member_for(uow, self.deps, link.account_id, user, first_role=Role.OWNER)
            if not member.active:
                raise Forbidden("You are not a member of this account.", reason=NOT_A_MEMBER)
            await uow.commit()
        return SignedIn(actor=Actor(account_id=link.account_id, member_id=member.id or 0), member=member,
                        account=account, new_account=new_account)

    async def install(self, user: PlatformUser) -> SignedIn:
        """An OAuth install: a new workspace makes an account whose owner is the installer; a
        reinstall keeps the account and makes sure the installer is a member (admin at least)."""
        signed = await self.sign_in(user)
        if signed.member.role in (Role.ENGINEER, Role.VIEWER) and not signed.new_account:
            async with self.deps.uow_factory() as uow:
                member = await load_member(uow, signed.actor)
                member.role = Role.ADMIN
                await uow.commit()
            signed.member.role = Role.ADMIN  # the caller sees what was stored, not the role before
        return signed

    async def _new_account(self, uow: UnitOfWork, user: PlatformUser) -> tuple[Account, TenantLink]:
        now = self.deps.clock.now()
        account = await uow.accounts.add(Account(name=await _unique_account_name(uow, user.tenant_name, user.platform, user.tenant_id),
                                                 created_at=now))
        link = await uow.tenants.add(TenantLink(account_id=account.id or 0, platform=user.platform,
                                                external_id=user.tenant_id, name=user.tenant_name[:255], created_at=now))
        log.info("new account %s for %s %s", account.id, user.platform, user.tenant_id)
        return account, link

    async def account_id_for(self, *, platform: str, tenant_id: str) -> int | None:
        async with self.deps.uow_factory() as uow:
            link = await uow.tenants.find(platform=platform, external_id=tenant_id)
            return link.account_id if link else None

    async def links(self, *, account_id: int) -> list[TenantLink]:
        async with self.deps.uow_factory() as uow:
            return await uow.tenants.list(account_id=account_id)

    async def platform_user_ids(self, *, account_id: int, member_id: int, platform: str) -> list[str]:
        """The member's ids on one platform, for a surface reaching them on an engine event (R22's
        DM to the target). Trusted callers only; the account still scopes the read."""
        async with self.deps.uow_factory() as uow:
            return [i.external_id for i in await uow.members.identities(account_id=account_id, member_id=member_id)
                    if i.platform == platform]

    async def member_name(self, *, platform: str, tenant_id: str, user_id: str) -> str | None:
        """The name a person this account knows by a platform identity goes by here (a mention in
        their text reads as that name, R38); None for someone not met yet. The tenant scopes it."""
        async with self.deps.uow_factory() as uow:
            link = await uow.tenants.find(platform=platform, external_id=tenant_id)
            if link is None:
                return None
            member = await uow.members.find_by_identity(account_id=link.account_id, platform=platform,
                                                        external_id=user_id)
            return member.name if member is not None else None

    async def create_connect_code(self, *, actor: Actor) -> tuple[str, ConnectCode]:
        """A one-time code (admins only) that joins another platform's tenant to this account."""
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        now = self.deps.clock.now()
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            require_manager(member)
            row = await uow.connect_codes.add(ConnectCode(account_id=actor.account_id, code_hash=hash_code(code),
                                                          created_by=member.id or 0, created_at=now, expires_at=now + CODE_TTL))
            await uow.commit()
        return f"{code[:4]}-{code[4:]}", row

    async def redeem_connect_code(self, code: str, user: PlatformUser) -> SignedIn:
        """Join `user`'s tenant to the code's account, once; then sign the user in there."""
        if len(normalize_code(code)) != CODE_LENGTH:
            raise InvalidInput("That is not a connect code; it looks like ABCD-EFGH.", reason="connect.code_malformed")
        now = self.deps.clock.now()
        async with self.deps.uow_factory() as uow:
            existing = await uow.tenants.find(platform=user.platform, external_id=user.tenant_id)
            redeemed = await uow.connect_codes.redeem(code_hash=hash_code(code), now=now, platform=user.platform,
                                                      tenant=user.tenant_id)
            if redeemed is None:
                found = await uow.connect_codes.find(code_hash=hash_code(code))
                if found is None:
                    raise InvalidInput("That connect code is not valid.", reason="connect.code_unknown")
                if found.used_at is not None:
                    raise Conflict("That connect code has already been used; ask an admin for a new one.",
                                   reason="connect.code_used")
                raise InvalidInput("That connect code has expired (codes last 15 minutes); ask an admin for a new one.",
                                   reason="connect.code_expired")
            if existing is not None and existing.account_id != redeemed.account_id:
                where = PLATFORM_NAMES.get(user.platform, user.platform)
                raise Conflict(f"This {where} tenant already belongs to another account.", reason="connect.tenant_taken",
                               params={"platform": where})
            if existing is None:
                await uow.tenants.add(TenantLink(account_id=redeemed.account_id, platform=user.platform,
                                                 external_id=user.tenant_id, name=user.tenant_name[:255], created_at=now))
            await uow.commit()
        log.info("%s tenant %s joined account %s", user.platform, user.tenant_id, redeemed.account_id)
        return await self.sign_in(user, create_account=False)

    async def set_role(self, *, actor: Actor, member_id: int, role: str) -> Member:
        """Admins make someone a viewer (or engineer, or admin). The owner's role does not change here."""
        new_role = parse_role(role)
        async with self.deps.uow_factory() as uow:
            me = await load_member(uow, actor)
            require_manager(me)
            target = await uow.members.get(account_id=actor.account_id, member_id=member_id)
            if target is None:
                raise NotFound("There is no such member in this account.", reason="member.not_found",
                               params={"member_id": member_id})
            if target.role == Role.OWNER or new_role == Role.OWNER:
                raise Forbidden("The owner's role cannot be changed here.", reason="role.owner_fixed")
            target.role = new_role
            await uow.commit()
        return target
