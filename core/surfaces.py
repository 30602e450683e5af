"""Where surfaces keep their own references (message ids, conversation references) per account.

Adapters call these after they have resolved the account from a verified request or from an
engine event, so every read and write is scoped by that account (R35)."""

from __future__ import annotations

from typing import Any

from core.deps import Deps
from core.platform import SurfaceRef


def lane_key(session_id: int) -> str:
    return f"lane:{session_id}"


def escalation_key(handoff_id: int) -> str:
    return f"escalation:{handoff_id}"


def reply_key(reply_id: int) -> str:
    """A reply a surface has shown (R37): a taker of a dead worker's turns does not show it again."""
    return f"reply:{reply_id}"


class SurfaceRefService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def put(self, *, account_id: int, surface: str, key: str, ref: dict[str, Any],
                  session_id: int | None = None) -> SurfaceRef:
        async with self.deps.uow_factory() as uow:
            row = await uow.surface_refs.put(SurfaceRef(account_id=account_id, surface=surface, key=key, ref=ref,
                                                        session_id=session_id, updated_at=self.deps.clock.now()))
            await uow.commit()
        return row

    async def mark_delivered(self, *, account_id: int, surface: str, reply_id: int, session_id: int,
                             ref: dict[str, Any] | None = None) -> None:
        """Record that `surface` showed the reply `reply_id` (and where, in `ref`)."""
        await self.put(account_id=account_id, surface=surface, key=reply_key(reply_id), ref=ref or {},
                       session_id=session_id)

    async def delivered(self, *, account_id: int, surface: str, reply_id: int) -> bool:
        return await self.get(account_id=account_id, surface=surface, key=reply_key(reply_id)) is not None

    async def get(self, *, account_id: int, surface: str, key: str) -> SurfaceRef | None:
        async with self.deps.uow_factory() as uow:
            return await uow.surface_refs.get(account_id=account_id, surface=surface, key=key)

    async def list(self, *, account_id: int, key_prefix: str, surface: str | None = None) -> list[SurfaceRef]:
        async with self.deps.uow_factory() as uow:
            return await uow.surface_refs.list(account_id=account_id, key_prefix=key_prefix, surface=surface)

    async def find_any(self, *, surface: str, key: str) -> SurfaceRef | None:
        async with self.deps.uow_factory() as uow:
            return await uow.surface_refs.find_any(surface=surface, key=key)
