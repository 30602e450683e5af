"""The repositories of the in-memory unit of work (tests/fakes/memory_uow.py), query by query
the same filters and orderings as storage/repositories/. Escalations and the turn queue are in
memory_repos_escalation.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.errors import NotFound
from core.models import (
    Account,
    Fact,
    Fix,
    ItemKind,
    Member,
    MemberIdentity,
    Session,
    SessionStatus,
    Step,
    TaskItem,
)
from tests.fakes.memory_rows import SessionCounter, shape

if TYPE_CHECKING:
    from tests.fakes.memory_uow import MemoryUnitOfWork

_KIND_ORDER = {ItemKind.QUESTION: 0, ItemKind.CHECK: 1}
_CAS_FORBIDDEN = frozenset({"id", "account_id", "status", "updated_at", "state_version"})


def _created(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["created_at"], row["id"])


def _first_id(row: dict[str, Any]) -> Any:
    return row["id"]


def _first(found: list[Any]) -> Any:
    return found[0] if found else None


class _Repo:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._u = uow

    def _get(self, cls: type[Any], account_id: int, entity_id: int) -> Any:
        found = self._u.select(
            cls, lambda r: r["id"] == entity_id and r["account_id"] == account_id, _created
        )
        return _first(found)

    def _rows(self, cls: type[Any]) -> list[dict[str, Any]]:
        """Every row this unit can see, without loading entities (for counts and maxima)."""
        self._u.usable()
        return [r for i in self._u.ids(cls) if (r := self._u.row(cls, i)) is not None]

    @staticmethod
    def _in_session(account_id: int, session_id: int) -> Any:
        return lambda r: r["account_id"] == account_id and r["session_id"] == session_id

    async def _allocate(self, *, account_id: int, session_id: int, name: str, stored: int, count: int) -> int:
        """storage's `INSERT … ON CONFLICT (session_id, name) DO UPDATE … RETURNING`: the counter
        row is locked by this unit until it ends (others wait, then see the committed value), an
        insert racing another unit's uncommitted insert waits for it and then updates instead."""
        if count < 1:
            raise ValueError("allocate at least one number")
        if not self._u.select(Session, lambda r: r["id"] == session_id and r["account_id"] == account_id, _created):
            raise NotFound("That session was not found.", reason="session.not_found", params={"session_id": session_id})
        def key(row: dict[str, Any]) -> bool:
            return bool(row["session_id"] == session_id and row["name"] == name)

        while True:
            found = self._u.select(SessionCounter, key, _first_id)
            if found:
                new = await self._u.conditional_update(
                    SessionCounter, found[0].id, key, lambda r: {"value": max(r["value"], stored) + count}, ("value",)
                )
                if new is not None:
                    return int(new["value"]) - count + 1
                continue
            counter = SessionCounter(account_id=account_id, session_id=session_id, name=name, value=stored + count)
            if await self._u.insert_unless_exists(counter, ("session_id", "name")):
                return stored + 1


class MemoryAccounts(_Repo):
    async def add(self, account: Account) -> Account:
        result: Account = self._u.add(account)
        return result

    async def get(self, *, account_id: int) -> Account | None:
        result: Account | None = _first(self._u.select(Account, lambda r: r["id"] == account_id, _created))
        return result

    async def get_by_name(self, *, name: str) -> Account | None:
        result: Account | None = _first(self._u.select(Account, lambda r: r["name"] == name, _created))
        return result


class MemoryMembers(_Repo):
    async def add(self, member: Member) -> Member:
        result: Member = self._u.add(member)
        return result

    async def get(self, *, account_id: int, member_id: int) -> Member | None:
        result: Member | None = self._get(Member, account_id, member_id)
        return result

    async def get_by_name(self, *, account_id: int, name: str) -> Member | None:
        wanted = name.casefold()
        for member in await self.list(account_id=account_id, active_only=False):
            if member.name.casefold() == wanted:
                return member
        return None

    async def get_by_email(self, *, account_id: int, email: str) -> Member | None:
        """Like storage: case-insensitive; active members first, then deactivated ones (found so
        they can be refused); the lowest id wins."""
        wanted = email.casefold()
        if not wanted:
            return None
        found = self._u.select(
            Member,
            lambda r: r["account_id"] == account_id and (r["email"] or "").casefold() == wanted,
            lambda r: (not r["active"], r["id"]),
        )
        result: Member | None = _first(found)
        return result

    async def list(self, *, account_id: int, active_only: bool = True) -> list[Member]:
        return self._u.select(
            Member,
            lambda r: r["account_id"] == account_id and (r["active"] or not active_only),
            lambda r: r["id"],
        )

    async def add_identity(self, identity: MemberIdentity) -> MemberIdentity:
        result: MemberIdentity = self._u.add(identity)
        return result

    async def identities(self, *, account_id: int, member_id: int) -> list[MemberIdentity]:
        return self._u.select(
            MemberIdentity,
            lambda r: (r["account_id"], r["member_id"]) == (account_id, member_id),
            lambda r: r["id"],
        )

    async def find_by_identity(
        self, *, account_id: int, platform: str, external_id: str
    ) -> Member | None:
        identities = self._u.select(
            MemberIdentity,
            lambda r: (r["account_id"], r["platform"], r["external_id"])
            == (account_id, platform, external_id),
            lambda r: r["id"],
        )
        for identity in identities:
            row = self._u.row(MemberIdentity, identity.id)
            assert row is not None
            member: Member | None = self._get(Member, account_id, row["member_id"])
            if member is not None:
                return member
        return None


class MemorySessions(_Repo):
    async def add(self, session: Session) -> Session:
        result: Session = self._u.add(session)
        return result

    async def version_for_member(self, *, account_id: int, session_id: int, member_id: int) -> int | None:
        session = self._get(Session, account_id, session_id)
        member = self._get(Member, account_id, member_id)
        if session is None or member is None or not member.active:
            return None
        return session.state_version

    async def get(self, *, account_id: int, session_id: int) -> Session | None:
        result: Session | None = self._get(Session, account_id, session_id)
        return result

    async def list(
        self,
        *,
        account_id: int,
        statuses: Sequence[SessionStatus] | None = None,
        handler_id: int | None = None,
        limit: int = 50,
    ) -> list[Session]:
        wanted = None if statuses is None else {SessionStatus(s) for s in statuses}
        return self._u.select(
            Session,
            lambda r: r["account_id"] == account_id
            and (wanted is None or r["status"] in wanted)
            and (handler_id is None or r["handler_id"] == handler_id),
            lambda r: (r["updated_at"], r["id"]),
            descending=True,
            limit=limit,
        )

    async def find_by_thread(self, *, account_id: int, thread_ref: str) -> Session | None:
        found = self._u.select(
            Session,
            lambda r: r["account_id"] == account_id and r["thread_ref"] == thread_ref,
            lambda r: r["id"],
            descending=True,
        )
        result: Session | None = _first(found)
        return result

    async def bump_state_version(self, *, account_id: int, session_id: int) -> int:
        new = await self._u.conditional_update(
            Session,
            session_id,
            lambda r: r["account_id"] == account_id,
            lambda r: {"state_version": r["state_version"] + 1},
            ["state_version"],
        )
        if new is None:
            raise NotFound("That session was not found.", reason="session.not_found", params={"session_id": session_id})
        return int(new["state_version"])

    async def compare_and_set_status(
        self,
        *,
        account_id: int,
        session_id: int,
        expected: Sequence[SessionStatus],
        new: SessionStatus,
        now: datetime,
        values: dict[str, Any] | None = None,
    ) -> bool:
        extra = dict(values or {})
        bad = (set(extra) - set(shape(Session).fields)) | (set(extra) & _CAS_FORBIDDEN)
        if bad:
            raise ValueError(f"compare_and_set_status cannot set {sorted(bad)}")
        allowed = {SessionStatus(s) for s in expected}
        changes = {"status": SessionStatus(new), "updated_at": now, **extra}
        done = await self._u.conditional_update(
            Session,
            session_id,
            lambda r: r["account_id"] == account_id and r["status"] in allowed,
            lambda r: changes,
            list(changes),
        )
        return done is not None


class MemorySteps(_Repo):
    async def add(self, step: Step) -> Step:
        result: Step = self._u.add(step)
        return result

    async def get(self, *, account_id: int, step_id: int) -> Step | None:
        result: Step | None = self._get(Step, account_id, step_id)
        return result

    async def list(self, *, account_id: int, session_id: int, limit: int | None = None) -> list[Step]:
        where = self._in_session(account_id, session_id)
        if limit is None:
            return self._u.select(Step, where, _created)
        return self._u.select(Step, where, _created, descending=True, limit=limit)[::-1]

    async def first_after(
        self, *, account_id: int, session_id: int, after: datetime
    ) -> Step | None:
        in_session = self._in_session(account_id, session_id)
        found = self._u.select(Step, lambda r: in_session(r) and r["created_at"] > after, _created)
        result: Step | None = _first(found)
        return result

    async def count(self, *, account_id: int, session_id: int, up_to_id: int | None = None) -> int:
        in_session = self._in_session(account_id, session_id)
        return len(self._u.select(Step, lambda r: in_session(r) and (up_to_id is None or r["id"] <= up_to_id), _created))


class MemoryItems(_Repo):
    async def add(self, item: TaskItem) -> TaskItem:
        result: TaskItem = self._u.add(item)
        return result

    async def get(self, *, account_id: int, item_id: int) -> TaskItem | None:
        result: TaskItem | None = self._get(TaskItem, account_id, item_id)
        return result

    async def allocate_seq(self, *, account_id: int, session_id: int, kind: ItemKind, count: int = 1) -> int:
        of_kind = [r["seq"] for r in self._rows(TaskItem) if r["session_id"] == session_id and r["kind"] == kind]
        return await self._allocate(account_id=account_id, session_id=session_id, name=kind.value,
                                    stored=max(of_kind, default=0), count=count)  # fmt: skip

    async def list(self, *, account_id: int, session_id: int) -> list[TaskItem]:
        return self._u.select(
            TaskItem,
            self._in_session(account_id, session_id),
            lambda r: (_KIND_ORDER.get(r["kind"], 2), r["seq"], r["id"]),
        )


class MemoryFacts(_Repo):
    async def add(self, fact: Fact) -> Fact:
        result: Fact = self._u.add(fact)
        return result

    async def get(self, *, account_id: int, fact_id: int) -> Fact | None:
        result: Fact | None = self._get(Fact, account_id, fact_id)
        return result

    async def list(
        self, *, account_id: int, session_id: int, include_deleted: bool = False
    ) -> list[Fact]:
        in_session = self._in_session(account_id, session_id)
        return self._u.select(
            Fact,
            lambda r: in_session(r) and (include_deleted or r["deleted_at"] is None),
            lambda r: (r["seq"], r["id"]),
        )

    async def allocate_seq(self, *, account_id: int, session_id: int, count: int = 1) -> int:
        stored = max((r["seq"] for r in self._rows(Fact) if r["session_id"] == session_id), default=0)
        return await self._allocate(account_id=account_id, session_id=session_id, name="fact", stored=stored,
                                    count=count)  # fmt: skip


class MemoryFixes(_Repo):
    async def add(self, fix: Fix) -> Fix:
        result: Fix = self._u.add(fix)
        return result

    async def get(self, *, account_id: int, fix_id: int) -> Fix | None:
        result: Fix | None = self._get(Fix, account_id, fix_id)
        return result

    async def list(self, *, account_id: int, session_id: int) -> list[Fix]:
        return self._u.select(Fix, self._in_session(account_id, session_id), _created)

    async def active(self, *, account_id: int, session_id: int) -> Fix | None:
        in_session = self._in_session(account_id, session_id)
        found = self._u.select(
            Fix, lambda r: in_session(r) and r["superseded_at"] is None, _created, descending=True
        )
        result: Fix | None = _first(found)
        return result
