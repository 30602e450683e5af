"""The PSA settings card in Teams (R40): shown by `@ResolutionFlow settings` or the help card's
button, and each section saved from its own button. A save goes to core (`engine.psa`,
`engine.psa_settings`), which checks the caller's role and every value against the PSA; the click is
answered with the card read again, each refusal or result next to the section (or board) it is
about. A click that overruns the invoke deadline answers "still working" and posts the card when done.

Reads that fail (no connection, a permission the API member lacks) leave their section saying why,
so the rest of the card still works."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from microsoft_agents.activity import Activity, InvokeResponse

from adapters.teams import cards_text as t
from adapters.teams import replies as r
from adapters.teams.cards_psa import Notice, Section, SettingsView, psa_settings_card, report_notices
from adapters.teams.clicks import DEADLINE_S
from adapters.teams.references import conversation_reference
from adapters.teams.settings_actions import (
    ME_MEMBER,
    NO_VALUE,
    TIME_BILLABLE,
    TIME_ENABLED,
    TIME_WORK_ROLE,
    TIME_WORK_TYPE,
    SettingsAction,
    SettingsClick,
    board_inputs,
    connection_input,
    parse_settings,
)
from adapters.teams.surface import TeamsSurface
from adapters.teams.transport import card_invoke_response, message_invoke_response
from adapters.teams.wording import error_text
from core.access import ADMIN_REQUIRED, Actor
from core.errors import DomainError
from core.models import StatusRole
from core.psa_link import psa_fields, psa_name
from core.psa_settings import UNSET, BoardOptions, Unset
from core.tenants import SignedIn

log = logging.getLogger("rflow.teams")
T = TypeVar("T")
Card = dict[str, Any]
MAX_ID_DIGITS = 19


def _id(raw: str | None) -> int | None | Unset:
    """A menu's value: absent keeps the setting, NO_VALUE clears it, else the PSA's id."""
    if raw is None:
        return UNSET
    value = raw.strip()
    if value == NO_VALUE:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > MAX_ID_DIGITS:
        raise ValueError("not one of the menu's values")
    return int(value)


class PsaSettingsCards:
    def __init__(self, surface: TeamsSurface, *, deadline_s: float = DEADLINE_S) -> None:
        self.surface = surface
        self.engine = surface.engine
        self.deadline_s = deadline_s
        self._late: set[asyncio.Task[None]] = set()

    # Where a card is asked for ----------------------------------------------------------------------

    async def send(self, signed: SignedIn, reference: dict[str, Any]) -> None:
        """`@ResolutionFlow settings`: the card as a message of its own."""
        await self.surface.send(reference, card=await self.card(signed.actor))

    async def invoke(self, activity: Activity) -> InvokeResponse:
        """A settings button (`adaptiveCard/action`), answered with the card refreshed."""
        try:
            click = parse_settings(activity.value)
        except ValueError:
            return message_invoke_response(r.OUT_OF_DATE)
        try:
            signed = await self.surface.sign_in(activity)
        except DomainError as exc:
            return message_invoke_response(error_text(exc))
        task = asyncio.ensure_future(self.click(signed.actor, click))
        done, _ = await asyncio.wait({task}, timeout=self.deadline_s)
        if task not in done:
            late = asyncio.ensure_future(self._post_late(task, conversation_reference(activity)))
            self._late.add(late)
            late.add_done_callback(self._late.discard)
            return message_invoke_response(r.STILL_WORKING)
        try:
            return card_invoke_response(task.result())
        except DomainError as exc:
            log.info("refused Teams settings %s: %s", click.kind, exc.message, extra={"code": exc.code})
            return message_invoke_response(error_text(exc))

    async def submitted(self, activity: Activity, reference: dict[str, Any]) -> None:
        """The `Action.Submit` fallback of an older client, from the inbox: the clicked card is
        edited (the help card's button posts a new one). Refusals raise; the processor says them."""
        try:
            click = parse_settings(activity.value)
        except ValueError:
            await self.surface.say(reference, r.OUT_OF_DATE)
            return
        signed = await self.surface.sign_in(activity)
        card = await self.click(signed.actor, click)
        clicked = activity.reply_to_id
        if click.kind != SettingsAction.OPEN and clicked and await self.surface.update(reference, clicked, card):
            return
        await self.surface.send(reference, card=card)

    async def _post_late(self, task: asyncio.Task[Card], reference: dict[str, Any]) -> None:
        try:
            card = await task
        except DomainError as exc:
            await self.surface.say(reference, error_text(exc))
            return
        except Exception:
            log.exception("a Teams settings click failed after its invoke was answered")
            return
        await self.surface.send(reference, card=card)

    async def drain(self) -> None:
        while pending := [task for task in self._late if not task.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    # What a click does --------------------------------------------------------------------------------

    async def click(self, actor: Actor, click: SettingsClick) -> Card:
        inputs = click.inputs
        if click.kind == SettingsAction.CONNECTION:
            return await self._save_connection(actor, inputs)
        if click.kind == SettingsAction.TEST:
            return await self._test(actor)
        if click.kind == SettingsAction.STATUSES:
            return await self._save_statuses(actor, inputs)
        if click.kind == SettingsAction.TIME:
            return await self._save_time(actor, inputs)
        if click.kind in (SettingsAction.ME, SettingsAction.ME_BY_EMAIL):
            return await self._save_me(actor, inputs, by_email=click.kind == SettingsAction.ME_BY_EMAIL)
        return await self.card(actor)

    async def _save_connection(self, actor: Actor, inputs: Mapping[str, str]) -> Card:
        overview = await self.engine.psa_settings.overview(actor=actor)
        values: dict[str, str] = {}
        typed: dict[str, str] = {}
        for f in psa_fields(self.engine.deps):
            raw = inputs.get(connection_input(f.name))
            if raw is None:
                continue
            value = raw.strip()
            if not f.secret:
                typed[f.name] = value
            if value or (overview.connected and not f.secret):  # an empty key keeps the stored one
                values[f.name] = value
        try:
            result = await self.engine.psa.configure(actor=actor, values=values)
        except DomainError as exc:
            return await self.card(actor, notices={Section.CONNECTION: [Notice(text=error_text(exc))]}, typed=typed)
        return await self.card(actor, notices={Section.CONNECTION: report_notices(overview.psa_name, result.report)})

    async def _test(self, actor: Actor) -> Card:
        try:
            report = await self.engine.psa.test(actor=actor)
        except DomainError as exc:
            return await self.card(actor, notices={Section.CONNECTION: [Notice(text=error_text(exc))]})
        return await self.card(actor, notices={Section.CONNECTION: report_notices(psa_name(self.engine.deps), report)})

    async def _save_statuses(self, actor: Actor, inputs: Mapping[str, str]) -> Card:
        """Saves the boards whose menus changed, one board at a time; a refusal stays by its board."""
        settings = self.engine.psa_settings
        try:
            boards = await settings.boards(actor=actor)
        except DomainError as exc:
            return await self.card(actor, notices={Section.STATUSES: [Notice(text=error_text(exc))]})
        by_id: dict[int, BoardOptions] = {b.board.id: b for b in boards}
        section: list[Notice] = []
        by_board: dict[int, list[Notice]] = {}
        saved = 0
        for board_id, menus in board_inputs(inputs).items():
            current = by_id.get(board_id)
            try:
                wanted = {role: _id(value) for role, value in menus.items()}
            except ValueError:
                by_board[board_id] = [Notice(text=t.PSA_OUT_OF_DATE)]
                continue
            choices: dict[StatusRole, int | None] = {
                role: value for role, value in wanted.items() if not isinstance(value, Unset)
                and (current is None or value != (c.status_id if (c := current.chosen.get(role)) else None))}
            if not choices:
                continue
            try:
                by_id[board_id] = await settings.set_board_statuses(actor=actor, board_id=board_id, choices=choices)
            except DomainError as exc:
                notice = Notice(text=error_text(exc))
                if exc.reason == ADMIN_REQUIRED or current is None:
                    section.append(notice)
                    if exc.reason == ADMIN_REQUIRED:
                        break  # the same for every board
                else:
                    by_board[board_id] = [notice]
                continue
            saved += 1
            by_board[board_id] = [Notice(text=t.PSA_SAVED, ok=True)]
        if not saved and not section and not by_board:
            section.append(Notice(text=t.PSA_NOTHING_CHANGED, ok=True))
        return await self.card(actor, notices={Section.STATUSES: section}, board_notices=by_board,
                               boards=[by_id[b.board.id] for b in boards])

    async def _save_time(self, actor: Actor, inputs: Mapping[str, str]) -> Card:
        enabled = inputs.get(TIME_ENABLED)
        billable = (inputs.get(TIME_BILLABLE) or "").strip() or None
        try:
            work_type, work_role = _id(inputs.get(TIME_WORK_TYPE)), _id(inputs.get(TIME_WORK_ROLE))
            await self.engine.psa_settings.set_time(
                actor=actor, enabled=None if enabled is None else enabled.strip().lower() == "true",
                work_type_id=work_type, work_role_id=work_role, billable=billable)
        except ValueError:
            notice = Notice(text=t.PSA_OUT_OF_DATE)
        except DomainError as exc:
            notice = Notice(text=error_text(exc))
        else:
            notice = Notice(text=t.PSA_SAVED, ok=True)
        return await self.card(actor, notices={Section.TIME: [notice]})

    async def _save_me(self, actor: Actor, inputs: Mapping[str, str], *, by_email: bool) -> Card:
        settings = self.engine.psa_settings
        raw = (inputs.get(ME_MEMBER) or "").strip()
        try:
            chosen = None if by_email else _id(raw or NO_VALUE)
            if not by_email and not isinstance(chosen, int):
                notice = Notice(text=t.PSA_ME_CHOOSE)
            else:
                link = await settings.match_me(actor=actor, psa_member_id=chosen if isinstance(chosen, int) else None)
                notice = Notice(text=t.PSA_ME_SAVED.format(name=link.psa_member_name, psa=psa_name(self.engine.deps)),
                                ok=True)
        except ValueError:
            notice = Notice(text=t.PSA_OUT_OF_DATE)
        except DomainError as exc:
            notice = Notice(text=error_text(exc))
        return await self.card(actor, notices={Section.ME: [notice]})

    # The card -------------------------------------------------------------------------------------------

    async def card(self, actor: Actor, *, notices: dict[Section, list[Notice]] | None = None,
                   board_notices: dict[int, list[Notice]] | None = None, typed: dict[str, str] | None = None,
                   boards: list[BoardOptions] | None = None) -> Card:
        """The card as it stands now; `boards` when they were just read (and saved)."""
        return psa_settings_card(await self.view(actor, notices=notices, board_notices=board_notices, typed=typed,
                                                 boards=boards))

    async def view(self, actor: Actor, *, notices: dict[Section, list[Notice]] | None = None,
                   board_notices: dict[int, list[Notice]] | None = None, typed: dict[str, str] | None = None,
                   boards: list[BoardOptions] | None = None) -> SettingsView:
        settings = self.engine.psa_settings
        overview = await settings.overview(actor=actor)
        view = SettingsView(fields=psa_fields(self.engine.deps), overview=overview, notices=notices or {},
                            board_notices=board_notices or {}, typed=typed or {})
        if not overview.connected:
            return view
        read_boards: Awaitable[list[BoardOptions]] = _given(boards) if boards is not None else settings.boards(actor=actor)
        (found, boards_problem), (time, time_problem) = await asyncio.gather(
            _read(read_boards), _read(settings.time_options(actor=actor)))
        return replace(view, boards=found, boards_problem=boards_problem, time=time, time_problem=time_problem)


async def _given(value: T) -> T:
    return value


async def _read(work: Awaitable[T]) -> tuple[T | None, str | None]:
    """A read for one section: its value, or why the section can't show it."""
    try:
        return await work, None
    except DomainError as exc:
        log.info("Teams settings read refused: %s", exc.message, extra={"code": exc.code})
        return None, error_text(exc)
