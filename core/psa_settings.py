"""PSA settings an MSP needs per board and per engineer (R40): the statuses tickets move to on
resolve and escalate, chosen from each board's own list; the time-entry settings; and who each
engineer is in the PSA. Choices are validated against the PSA when saved, and the writeback checks
them again before use (core/writeback_steps.py).

Reads from the PSA happen outside any transaction; each save is one transaction. Admins change the
account's settings; every member may see them and match themselves to their PSA member.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from core.access import Actor, load_member, require_manager
from core.deps import Deps
from core.errors import InvalidInput
from core.models import BoardStatus, PsaMemberLink, StatusRole
from core.ports.psa import Psa
from core.psa import BillableOption, PsaBoard, PsaList, PsaMember, TicketStatus, WorkCode
from core.psa_link import PsaLinkService, psa_name
from core.psa_members import match_by_email, store_link
from core.psa_time import BILLABLE_PREF, TIME_PREF, WORK_ROLE_PREF, WORK_TYPE_PREF, TimeSettings, time_settings

MAX_BOARDS = 100
PARALLEL_READS = 4


@dataclass(frozen=True, kw_only=True)
class BoardOptions:
    """A board, its active statuses (each with the PSA's closed flag) and the current choices."""

    board: PsaBoard
    statuses: PsaList[TicketStatus]
    chosen: Mapping[StatusRole, BoardStatus]


@dataclass(frozen=True, kw_only=True)
class TimeOptions:
    settings: TimeSettings
    work_types: PsaList[WorkCode]
    work_roles: PsaList[WorkCode]


@dataclass(frozen=True, kw_only=True)
class PsaOverview:
    """Everything settings show without asking the PSA: the connection (secrets masked), the
    per-board choices, the time settings and the caller's own PSA member."""

    psa_name: str
    connected: bool
    shown: dict[str, str]
    board_statuses: list[BoardStatus]
    time: TimeSettings
    me: PsaMemberLink | None


class Unset:
    """A keyword left out: the setting stays as it is (None clears it)."""


UNSET = Unset()


def _pick(codes: PsaList[WorkCode], wanted: int) -> WorkCode | None:
    return next((code for code in codes if code.id == wanted), None)


def _unknown_code(wanted: int, what: str, reason: str, deps: Deps) -> InvalidInput:
    return InvalidInput(f"{wanted} is not a {what} in {psa_name(deps)}.", reason=reason, params={"id": wanted})


class PsaSettingsService:
    def __init__(self, deps: Deps, link: PsaLinkService) -> None:
        self.deps = deps
        self.link = link

    async def overview(self, *, actor: Actor) -> PsaOverview:
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            account = await uow.accounts.get(account_id=actor.account_id)
            connection = await uow.psa_connections.get(account_id=actor.account_id)
            statuses = await uow.board_statuses.list(account_id=actor.account_id)
            me = await uow.psa_members.get(account_id=actor.account_id, member_id=member.id or 0)
        assert account is not None
        return PsaOverview(psa_name=psa_name(self.deps), connected=connection is not None,
                           shown=await self.link.shown_settings(actor=actor), board_statuses=statuses,
                           time=time_settings(account), me=me)

    # ---- statuses per board -------------------------------------------------------------------

    async def boards(self, *, actor: Actor) -> PsaList[BoardOptions]:
        """Every active board with its statuses, read in parallel (a few at a time); `warning` says
        when the boards could not be listed (permissions)."""
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
            chosen = await uow.board_statuses.list(account_id=actor.account_id)
        gate = asyncio.Semaphore(PARALLEL_READS)
        async with self.link.client(actor.account_id) as psa:
            listed = await psa.list_boards()
            boards = listed[:MAX_BOARDS]

            async def read(board: PsaBoard) -> PsaList[TicketStatus]:
                async with gate:
                    return await psa.board_statuses(board.id)

            lists = await asyncio.gather(*(read(board) for board in boards))
        return PsaList([BoardOptions(board=board, statuses=statuses,
                                     chosen={c.role: c for c in chosen if c.board_id == board.id})
                        for board, statuses in zip(boards, lists, strict=True)], warning=listed.warning)

    async def board(self, *, actor: Actor, board_id: int) -> BoardOptions:
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
            chosen = [c for c in await uow.board_statuses.list(account_id=actor.account_id) if c.board_id == board_id]
        async with self.link.client(actor.account_id) as psa:
            board = await self._board(psa, board_id)
            statuses = await psa.board_statuses(board_id)
        return BoardOptions(board=board, statuses=statuses, chosen={c.role: c for c in chosen})

    async def _board(self, psa: Psa, board_id: int) -> PsaBoard:
        for board in await psa.list_boards():
            if board.id == board_id:
                return board
        raise InvalidInput(f"{psa_name(self.deps)} has no active board {board_id}.", reason="psa.board_unknown",
                           params={"board_id": board_id})

    async def set_board_statuses(self, *, actor: Actor, board_id: int,
                                 choices: Mapping[StatusRole, int | None]) -> BoardOptions:
        """Save the board's resolved / escalated statuses (None clears one). Each must be one of
        the board's own active statuses: a status of another board is refused here (R40)."""
        async with self.deps.uow_factory() as uow:
            require_manager(await load_member(uow, actor))
        async with self.link.client(actor.account_id) as psa:
            board = await self._board(psa, board_id)
            statuses = await psa.board_statuses(board_id)
        if statuses.warning and any(v is not None for v in choices.values()):
            raise InvalidInput(statuses.warning, reason="psa.statuses_unreadable", params={"board": board.name})
        by_id = {s.id: s for s in statuses}
        for role, status_id in choices.items():
            if status_id is not None and status_id not in by_id:
                raise InvalidInput(
                    f"Status {status_id} is not a status of the board '{board.name}'; choose one of its own.",
                    reason="psa.status_not_on_board",
                    params={"status_id": status_id, "board": board.name, "role": StatusRole(role).value})
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            require_manager(member)
            for role, status_id in choices.items():
                role = StatusRole(role)
                if status_id is None:
                    await uow.board_statuses.delete(account_id=actor.account_id, board_id=board_id, role=role)
                    continue
                status = by_id[status_id]
                await uow.board_statuses.put(BoardStatus(
                    account_id=actor.account_id, board_id=board_id, board_name=board.name, role=role,
                    status_id=status.id, status_name=status.name, closes=status.closed,
                    updated_at=self.deps.clock.now(), updated_by=member.id or 0))
            chosen = [c for c in await uow.board_statuses.list(account_id=actor.account_id) if c.board_id == board_id]
            await uow.commit()
        return BoardOptions(board=board, statuses=statuses, chosen={c.role: c for c in chosen})

    # ---- time entries -------------------------------------------------------------------------

    async def time_options(self, *, actor: Actor) -> TimeOptions:
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
            account = await uow.accounts.get(account_id=actor.account_id)
        assert account is not None
        async with self.link.client(actor.account_id) as psa:
            work_types, work_roles = await asyncio.gather(psa.work_types(), psa.work_roles())
        return TimeOptions(settings=time_settings(account), work_types=work_types, work_roles=work_roles)

    async def set_time(self, *, actor: Actor, enabled: bool | None = None, work_type_id: int | None | Unset = UNSET,
                       work_role_id: int | None | Unset = UNSET, billable: str | None = None) -> TimeSettings:
        """Validated against the PSA's own work types and roles; the billable option is one of
        BillableOption. Admins only."""
        async with self.deps.uow_factory() as uow:
            require_manager(await load_member(uow, actor))
        values: dict[str, object] = {}
        if enabled is not None:
            values[TIME_PREF] = bool(enabled)
        if billable is not None:
            try:
                values[BILLABLE_PREF] = BillableOption(billable.strip().lower()).value
            except ValueError:
                raise InvalidInput(f"The billable option is one of {', '.join(o.value for o in BillableOption)}.",
                                   reason="psa.billable_invalid", params={"options": [o.value for o in BillableOption]},
                                   field="billable") from None
        if isinstance(work_type_id, int) or isinstance(work_role_id, int):
            async with self.link.client(actor.account_id) as psa:
                if isinstance(work_type_id, int):
                    code = _pick(await psa.work_types(), work_type_id)
                    if code is None:
                        raise _unknown_code(work_type_id, "work type", "psa.work_type_unknown", self.deps)
                    values[WORK_TYPE_PREF] = {"id": code.id, "name": code.name}
                if isinstance(work_role_id, int):
                    code = _pick(await psa.work_roles(), work_role_id)
                    if code is None:
                        raise _unknown_code(work_role_id, "work role", "psa.work_role_unknown", self.deps)
                    values[WORK_ROLE_PREF] = {"id": code.id, "name": code.name}
        for key, value in ((WORK_TYPE_PREF, work_type_id), (WORK_ROLE_PREF, work_role_id)):
            if value is None:
                values[key] = None
        async with self.deps.uow_factory() as uow:
            require_manager(await load_member(uow, actor))
            account = await uow.accounts.get(account_id=actor.account_id)
            assert account is not None
            account.preferences = {k: v for k, v in {**account.preferences, **values}.items() if v is not None}
            await uow.commit()
        return time_settings(account)

    # ---- the engineer's PSA member -------------------------------------------------------------

    async def members(self, *, actor: Actor) -> PsaList[PsaMember]:
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
        async with self.link.client(actor.account_id) as psa:
            return await psa.list_members()

    async def match_me(self, *, actor: Actor, psa_member_id: int | None = None) -> PsaMemberLink:
        """The caller's own PSA member: by e-mail when no id is given, else the chosen member,
        who must be an active member of the PSA."""
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
        async with self.link.client(actor.account_id) as psa:
            if psa_member_id is None:
                return await match_by_email(self.deps, psa, member, psa_name=psa_name(self.deps))
            chosen = next((m for m in await psa.list_members() if m.id == psa_member_id), None)
        if chosen is None:
            raise InvalidInput(f"{psa_member_id} is not an active {psa_name(self.deps)} member.",
                               reason="psa.member_unknown", params={"id": psa_member_id})
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            link = await store_link(uow, self.deps, member, psa_member_id=chosen.id, name=chosen.name,
                                    matched_by="chosen")
            await uow.commit()
        return link
