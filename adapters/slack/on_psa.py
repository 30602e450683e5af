"""The PSA settings in Slack (R40): the buttons of `/rf settings` push a modal (a loading one at once,
filled after the ack: reading boards or work types from the PSA takes longer than a trigger_id
lives), their submissions are answered in the ack (inline errors, or the result in place of the
form), and the menus that search the PSA (members, open tickets) are answered from block_suggestion
requests. Bolt has verified each request's signature before any of this runs.

Saving asks the PSA (a connection test, a board's statuses), which may take longer than Slack
waits for the ack: past ACK_BUDGET the modal shows that it is working and the result replaces it."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from adapters.slack import labels as w
from adapters.slack import psa_views, views
from adapters.slack.actions import LOADING_CALLBACK, read_submission
from adapters.slack.caller import Caller, caller_of
from adapters.slack.modals import ModalOpener
from adapters.slack.psa_actions import (
    CONNECTION_CALLBACK,
    MEMBER_BLOCK,
    MEMBER_CALLBACK,
    MEMBER_SEARCH,
    OPEN_CONNECTION,
    OPEN_MEMBER,
    OPEN_STATUSES,
    OPEN_TIME,
    STATUSES_CALLBACK,
    TICKET_SEARCH,
    TIME_CALLBACK,
    decode_boards,
)
from adapters.slack.surface import SlackSurface
from adapters.slack.wording import error_text
from core.access import Actor, require_manager
from core.errors import DomainError
from core.models import StatusRole
from core.ports.psa import PsaProvider
from core.psa import PsaList, PsaMember
from core.psa_link import MAX_SEARCH_CHARS, not_configured
from core.psa_settings import UNSET, BoardOptions

log = logging.getLogger("rflow.slack")

ACK_BUDGET = 2.0  # seconds of work inside a submission's ack (Slack waits 3 s for all of it)
OPTIONS_BUDGET = 2.5  # an options request is answered within 3 s, with whatever was found by then
MAX_TICKETS = 25
MEMBERS_TTL = 60.0  # the member list is read once a minute per account, not on every keystroke
PARALLEL_SAVES = 4

TITLES = {OPEN_CONNECTION: w.PSA_CONNECTION_TITLE, OPEN_STATUSES: w.PSA_STATUSES_TITLE, OPEN_TIME: w.PSA_TIME_TITLE,
          OPEN_MEMBER: w.PSA_MEMBER_TITLE, CONNECTION_CALLBACK: w.PSA_CONNECTION_TITLE,
          STATUSES_CALLBACK: w.PSA_STATUSES_TITLE, TIME_CALLBACK: w.PSA_TIME_TITLE, MEMBER_CALLBACK: w.PSA_MEMBER_TITLE}


@dataclass(frozen=True)
class Answer:
    """A submission's answer: inline errors (the form stays), the view that replaces it, or neither (closed)."""

    errors: Mapping[str, str] | None = None
    view: dict[str, Any] | None = None

    def ack(self) -> dict[str, Any]:
        if self.errors:
            return {"response_action": "errors", "errors": dict(self.errors)}
        if self.view is not None:
            return {"response_action": "update", "view": self.view}
        return {}


class PsaSettingsFlow:
    def __init__(self, surface: SlackSurface, modals: ModalOpener) -> None:
        self.surface = surface
        self.engine = surface.engine
        self.modals = modals
        self._members: dict[int, tuple[float, PsaList[PsaMember]]] = {}

    def attach(self, app: AsyncApp) -> None:
        """Before the ingress's listeners: Bolt hands a request to the first listener that matches."""
        app.action(re.compile(r"^rf_psa_open_"))(self.on_open)
        app.view(re.compile(r"^rf_psa_"))(self.on_submit)
        app.options(re.compile(r"^rf_psa_"))(self.on_options)

    @property
    def psa_name(self) -> str:
        return self.engine.deps.psa.display_name if self.engine.deps.psa is not None else "the PSA"

    def _provider(self) -> PsaProvider:
        if self.engine.deps.psa is None:
            raise not_configured(self.engine.deps)
        return self.engine.deps.psa

    # ---- a button in /rf settings: push a modal -------------------------------------------------

    async def on_open(self, body: dict[str, Any], ack: AsyncAck) -> None:
        await ack()
        self.modals.track(self.open(body))

    async def open(self, body: dict[str, Any]) -> None:
        caller = caller_of("action", body)
        which = str(((body.get("actions") or [{}])[0]).get("action_id", ""))
        if which not in TITLES:
            log.warning("an unknown PSA settings button: %s", which)
            return
        loading = views.loading_modal(TITLES[which], LOADING_CALLBACK)
        view_id = await self.surface.gateway.push_view(caller.team, str(body.get("trigger_id")), loading)
        if view_id is not None:
            await self.modals.fill(view_id, caller.team, lambda: self._build(which, caller))

    async def _build(self, which: str, caller: Caller) -> dict[str, Any]:
        signed = await self.surface.sign_in(caller.team, caller.user)
        actor, provider = signed.actor, self._provider()
        if which == OPEN_MEMBER:  # everyone's own; the rest is the admins'
            me = (await self.engine.psa_settings.overview(actor=actor)).me
            return psa_views.member_modal(provider.display_name, me)
        require_manager(signed.member)
        if which == OPEN_CONNECTION:
            shown = await self.engine.psa.shown_settings(actor=actor)
            return psa_views.connection_modal(provider.display_name, provider.fields, shown)
        if which == OPEN_STATUSES:
            boards = await self.engine.psa_settings.boards(actor=actor)
            return psa_views.statuses_modal(provider.display_name, boards, warning=getattr(boards, "warning", None))
        options = await self.engine.psa_settings.time_options(actor=actor)
        return psa_views.time_modal(provider.display_name, options)

    # ---- submissions: answered in the ack -------------------------------------------------------

    async def on_submit(self, body: dict[str, Any], ack: AsyncAck) -> None:
        view = body.get("view") or {}
        callback = str(view.get("callback_id", ""))
        title = TITLES.get(callback, w.MESSAGE_TITLE)
        work = asyncio.ensure_future(self._answer(callback, caller_of("view", body), view))
        done, _ = await asyncio.wait({work}, timeout=ACK_BUDGET)
        if work in done:
            await ack(**work.result().ack())
            return
        await ack(response_action="update", view=psa_views.working_modal(self.psa_name, title))
        self.modals.track(self._late(work, caller_of("view", body).team, str(view.get("id", "")), title))

    async def _late(self, work: Awaitable[Answer], team: str, view_id: str, title: str) -> None:
        """The answer of a slow save, in place of the working view (inline errors can no longer be)."""
        answer = await work
        view = answer.view or psa_views.result_modal(title, "\n".join((answer.errors or {}).values()))
        await self.surface.gateway.update_view(team, view_id, view)

    async def _answer(self, callback: str, caller: Caller, view: dict[str, Any]) -> Answer:
        title = TITLES.get(callback, w.MESSAGE_TITLE)
        handlers: dict[str, Callable[[Actor, dict[str, str | None], dict[str, Any]], Awaitable[Answer]]] = {
            CONNECTION_CALLBACK: self._connect, STATUSES_CALLBACK: self._statuses, TIME_CALLBACK: self._time,
            MEMBER_CALLBACK: self._member}
        handler = handlers.get(callback)
        if handler is None:
            return Answer()  # a result view has no submit; nothing else is ours
        try:
            values = read_submission(((view.get("state") or {}).get("values")) or {})
            actor = (await self.surface.sign_in(caller.team, caller.user)).actor
            return await handler(actor, values, view)
        except ValueError:
            return Answer(view=psa_views.result_modal(title, w.ERR_CHOICE))
        except DomainError as exc:  # not one of a field's: the form is replaced by the refusal
            return Answer(view=psa_views.result_modal(title, error_text(exc)))
        except Exception:
            log.exception("saving Slack's %s failed", callback)
            return Answer(view=psa_views.result_modal(title, w.PSA_FAILED))

    async def _connect(self, actor: Actor, values: dict[str, str | None], view: dict[str, Any]) -> Answer:
        provider = self._provider()
        shown = await self.engine.psa.shown_settings(actor=actor)
        try:
            result = await self.engine.psa.configure(actor=actor,
                                                     values=psa_views.connection_values(provider.fields, shown, values))
        except DomainError as exc:
            return Answer(errors={psa_views.connection_error_block(provider.fields, exc): error_text(exc)})
        return Answer(view=psa_views.report_modal(provider.display_name, result.report))

    async def _statuses(self, actor: Actor, values: dict[str, str | None], view: dict[str, Any]) -> Answer:
        shown = decode_boards(view.get("private_metadata", ""))
        changed = psa_views.changed_statuses(shown, values)
        saved: dict[int, BoardOptions] = {}
        errors: dict[str, str] = {}
        gate = asyncio.Semaphore(PARALLEL_SAVES)

        async def save(board_id: int, choices: dict[StatusRole, int | None]) -> None:
            async with gate:
                try:
                    saved[board_id] = await self.engine.psa_settings.set_board_statuses(
                        actor=actor, board_id=board_id, choices=choices)
                except DomainError as exc:
                    errors[psa_views.status_error_block(board_id, list(choices), exc)] = error_text(exc)

        await asyncio.gather(*(save(board_id, choices) for board_id, choices in changed.items()))
        if errors:
            return Answer(errors=errors)
        return Answer(view=psa_views.statuses_saved_modal([saved[b.board_id] for b in shown if b.board_id in saved]))

    async def _time(self, actor: Actor, values: dict[str, str | None], view: dict[str, Any]) -> Answer:
        enabled, work_type, work_role, billable = psa_views.time_values(values)
        current = (await self.engine.psa_settings.overview(actor=actor)).time
        try:  # an unchanged work type or role is left as it is, not checked against the PSA again
            saved = await self.engine.psa_settings.set_time(
                actor=actor, enabled=enabled, billable=billable,
                work_type_id=UNSET if work_type == current.work_type_id else work_type,
                work_role_id=UNSET if work_role == current.work_role_id else work_role)
        except DomainError as exc:
            return Answer(errors={psa_views.time_error_block(exc): error_text(exc)})
        return Answer(view=psa_views.time_saved_modal(self.psa_name, saved))

    async def _member(self, actor: Actor, values: dict[str, str | None], view: dict[str, Any]) -> Answer:
        by_email, chosen = psa_views.member_choice(values)
        if not by_email and chosen is None:
            return Answer(errors={MEMBER_BLOCK: w.ERR_MEMBER_MISSING})
        try:
            link = await self.engine.psa_settings.match_me(actor=actor, psa_member_id=None if by_email else chosen)
        except DomainError as exc:
            return Answer(errors={psa_views.member_error_block(exc): error_text(exc)})
        self._members.pop(actor.account_id, None)
        return Answer(view=psa_views.matched_modal(self.psa_name, link))

    # ---- menus that search the PSA: block_suggestion --------------------------------------------

    async def on_options(self, body: dict[str, Any], ack: AsyncAck) -> None:
        """Slack waits 3 s for options: a slow or refused search answers with none (and a log line)."""
        which = str(body.get("action_id", ""))
        try:
            options = await asyncio.wait_for(self._options(which, caller_of("options", body),
                                                           str(body.get("value") or "")), OPTIONS_BUDGET)
        except TimeoutError:
            log.warning("the %s options took longer than %.1f s; none shown", which, OPTIONS_BUDGET)
            options = []
        except DomainError as exc:
            log.info("no %s options: %s", which, exc.message, extra={"code": exc.code})
            options = []
        await ack(options=options)

    async def _options(self, which: str, caller: Caller, typed: str) -> list[dict[str, Any]]:
        actor = (await self.surface.sign_in(caller.team, caller.user)).actor
        if which == TICKET_SEARCH:
            found = await self.engine.psa.search(actor=actor, text=typed.strip()[:MAX_SEARCH_CHARS], limit=MAX_TICKETS)
            if found.warning:
                log.info("ticket search for Slack: %s", found.warning)
            return psa_views.ticket_options(found)
        if which == MEMBER_SEARCH:
            return psa_views.member_options(await self._member_list(actor), typed)
        log.warning("options asked for an unknown menu: %s", which)
        return []

    async def _member_list(self, actor: Actor) -> PsaList[PsaMember]:
        cached = self._members.get(actor.account_id)
        if cached is not None and time.monotonic() - cached[0] < MEMBERS_TTL:
            return cached[1]
        members = await self.engine.psa_settings.members(actor=actor)
        if not members.warning:
            self._members[actor.account_id] = (time.monotonic(), members)
        return members
