"""Accounts and members (with their platform identities)."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Account, Member, MemberIdentity
from storage.repositories.base import SqlRepository
from storage.tables import accounts, member_identities, members


class SqlAccountRepository(SqlRepository):
    async def add(self, account: Account) -> Account:
        return await self._add(account)

    async def get(self, *, account_id: int) -> Account | None:
        result: Account | None = await self._first(select(Account).where(accounts.c.id == account_id))
        return result

    async def get_by_name(self, *, name: str) -> Account | None:
        result: Account | None = await self._first(select(Account).where(accounts.c.name == name))
        return result


class SqlMemberRepository(SqlRepository):
    async def add(self, member: Member) -> Member:
        return await self._add(member)

    async def get(self, *, account_id: int, member_id: int) -> Member | None:
        stmt = select(Member).where(members.c.id == member_id, members.c.account_id == account_id)
        result: Member | None = await self._first(stmt)
        return result

    async def get_by_name(self, *, account_id: int, name: str) -> Member | None:
        """Case-insensitive, Unicode-aware (SQLite's lower() is ASCII-only, so compare here);
        the lowest id wins when names repeat. An account has few members."""
        wanted = name.casefold()
        for member in await self.list(account_id=account_id, active_only=False):
            if member.name.casefold() == wanted:
                return member
        return None

    async def get_by_email(self, *, account_id: int, email: str) -> Member | None:
        """Case-insensitive, Unicode-aware like get_by_name. Deactivated members match too,
        after active ones: a deactivated person arriving from another platform must be found
        (and refused), not given a fresh member. Then the lowest id wins."""
        wanted = email.casefold()
        if not wanted:
            return None
        stmt = select(Member).where(members.c.account_id == account_id, members.c.email.is_not(None))
        hits = [m for m in await self._all(stmt) if (m.email or "").casefold() == wanted]
        hits.sort(key=lambda m: (not m.active, m.id or 0))
        return hits[0] if hits else None

    async def list(self, *, account_id: int, active_only: bool = True) -> list[Member]:
        stmt = select(Member).where(members.c.account_id == account_id)
        if active_only:
            stmt = stmt.where(members.c.active.is_(True))
        return await self._all(stmt.order_by(members.c.id))

    async def add_identity(self, identity: MemberIdentity) -> MemberIdentity:
        return await self._add(identity)

    async def identities(self, *, account_id: int, member_id: int) -> list[MemberIdentity]:
        stmt = (
            select(MemberIdentity)
            .where(member_identities.c.account_id == account_id, member_identities.c.member_id == member_id)
            .order_by(member_identities.c.id)
        )
        return await self._all(stmt)

    async def find_by_identity(
        self, *, account_id: int, platform: str, external_id: str
    ) -> Member | None:
        stmt = (
            select(Member)
            .join(member_identities, member_identities.c.member_id == members.c.id)
            .where(
                member_identities.c.account_id == account_id,
                member_identities.c.platform == platform,
                member_identities.c.external_id == external_id,
                members.c.account_id == account_id,
            )
        )
        result: Member | None = await self._first(stmt)
        return result
