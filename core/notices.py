"""In-app notifications a surface leaves for a member (a reply it could not deliver, say): written
through the engine like everything else, scoped by account, one short transaction each."""

from __future__ import annotations

from core.deps import Deps
from core.models import Notification


class NoticeService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def leave(self, *, account_id: int, member_id: int, kind: str, text: str,
                    session_id: int | None = None) -> Notification:
        async with self.deps.uow_factory() as uow:
            note = await uow.notifications.add(Notification(
                account_id=account_id, member_id=member_id, kind=kind, text=text, created_at=self.deps.clock.now(),
                session_id=session_id))
            await uow.commit()
        return note
