"""What hangs off a session: steps, task-lane items, facts, fixes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select

from core.models import Fact, Fix, ItemKind, Step, TaskItem
from storage.repositories.base import SqlRepository
from storage.repositories.counters import CountingRepository, highest
from storage.tables import facts, fixes, steps, task_items

FACT_COUNTER = "fact"  # session_counters.name for facts; lane items use their kind ("question", "check")


class SqlStepRepository(SqlRepository):
    async def add(self, step: Step) -> Step:
        return await self._add(step)

    async def get(self, *, account_id: int, step_id: int) -> Step | None:
        stmt = select(Step).where(steps.c.id == step_id, steps.c.account_id == account_id)
        result: Step | None = await self._first(stmt)
        return result

    async def list(self, *, account_id: int, session_id: int, limit: int | None = None) -> list[Step]:
        """Oldest first by (created_at, id); with `limit`, the newest `limit`, still oldest first."""
        stmt = select(Step).where(steps.c.account_id == account_id, steps.c.session_id == session_id)
        if limit is None:
            return await self._all(stmt.order_by(steps.c.created_at, steps.c.id))
        newest = await self._all(
            stmt.order_by(steps.c.created_at.desc(), steps.c.id.desc()).limit(max(limit, 0))
        )
        return newest[::-1]

    async def first_after(
        self, *, account_id: int, session_id: int, after: datetime
    ) -> Step | None:
        """R26: the first action after a pickup. Strictly after; ties broken by id."""
        stmt = (
            select(Step)
            .where(
                steps.c.account_id == account_id,
                steps.c.session_id == session_id,
                steps.c.created_at > after,
            )
            .order_by(steps.c.created_at, steps.c.id)
        )
        result: Step | None = await self._first(stmt)
        return result

    async def count(self, *, account_id: int, session_id: int, up_to_id: int | None = None) -> int:
        stmt = select(func.count()).select_from(steps).where(
            steps.c.account_id == account_id, steps.c.session_id == session_id
        )
        if up_to_id is not None:
            stmt = stmt.where(steps.c.id <= up_to_id)
        return int(await self._scalar(stmt))


# Questions before checks, as the task lane shows them (ItemKind declaration order).
_KIND_ORDER = case(
    {ItemKind.QUESTION.value: 0, ItemKind.CHECK.value: 1}, value=task_items.c.kind, else_=2
)


class SqlTaskItemRepository(CountingRepository):
    async def add(self, item: TaskItem) -> TaskItem:
        return await self._add(item)

    async def allocate_seq(self, *, account_id: int, session_id: int, kind: ItemKind, count: int = 1) -> int:
        """Questions and checks are numbered apart (Q1, C1), each by its own counter."""
        stored = highest(task_items.c.seq, task_items.c.session_id == session_id, task_items.c.kind == kind)
        return await self._allocate(account_id=account_id, session_id=session_id, name=kind.value,
                                    stored=stored, count=count)  # fmt: skip

    async def get(self, *, account_id: int, item_id: int) -> TaskItem | None:
        stmt = select(TaskItem).where(task_items.c.id == item_id, task_items.c.account_id == account_id)
        result: TaskItem | None = await self._first(stmt)
        return result

    async def list(self, *, account_id: int, session_id: int) -> list[TaskItem]:
        """Questions first, then checks; each by seq."""
        stmt = (
            select(TaskItem)
            .where(task_items.c.account_id == account_id, task_items.c.session_id == session_id)
            .order_by(_KIND_ORDER, task_items.c.seq, task_items.c.id)
        )
        return await self._all(stmt)


class SqlFactRepository(CountingRepository):
    async def add(self, fact: Fact) -> Fact:
        return await self._add(fact)

    async def get(self, *, account_id: int, fact_id: int) -> Fact | None:
        """Soft-deleted facts are still found (R5): callers check `deleted_at`."""
        stmt = select(Fact).where(facts.c.id == fact_id, facts.c.account_id == account_id)
        result: Fact | None = await self._first(stmt)
        return result

    async def list(
        self, *, account_id: int, session_id: int, include_deleted: bool = False
    ) -> list[Fact]:
        stmt = select(Fact).where(facts.c.account_id == account_id, facts.c.session_id == session_id)
        if not include_deleted:
            stmt = stmt.where(facts.c.deleted_at.is_(None))
        return await self._all(stmt.order_by(facts.c.seq, facts.c.id))

    async def allocate_seq(self, *, account_id: int, session_id: int, count: int = 1) -> int:
        """Soft-deleted facts keep their numbers, so a label (F3) is never reused."""
        stored = highest(facts.c.seq, facts.c.session_id == session_id)
        return await self._allocate(account_id=account_id, session_id=session_id, name=FACT_COUNTER,
                                    stored=stored, count=count)  # fmt: skip


class SqlFixRepository(SqlRepository):
    async def add(self, fix: Fix) -> Fix:
        return await self._add(fix)

    async def get(self, *, account_id: int, fix_id: int) -> Fix | None:
        stmt = select(Fix).where(fixes.c.id == fix_id, fixes.c.account_id == account_id)
        result: Fix | None = await self._first(stmt)
        return result

    async def list(self, *, account_id: int, session_id: int) -> list[Fix]:
        stmt = (
            select(Fix)
            .where(fixes.c.account_id == account_id, fixes.c.session_id == session_id)
            .order_by(fixes.c.created_at, fixes.c.id)
        )
        return await self._all(stmt)

    async def active(self, *, account_id: int, session_id: int) -> Fix | None:
        """R7: the fix not superseded; should there ever be two, the newest."""
        stmt = (
            select(Fix)
            .where(
                fixes.c.account_id == account_id,
                fixes.c.session_id == session_id,
                fixes.c.superseded_at.is_(None),
            )
            .order_by(fixes.c.created_at.desc(), fixes.c.id.desc())
        )
        result: Fix | None = await self._first(stmt)
        return result
