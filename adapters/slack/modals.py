"""Buttons and commands that open a modal. The trigger_id expires 3 s after the click, so a loading
view opens first, before anything slow (signing in, the preview, the assistant); the real form
replaces it with views.update when it is ready. Opening a form changes nothing, so this runs as a
background task after the ack rather than through the inbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.slack import views
from adapters.slack.actions import ADD_FACT, EDIT_FACT, LOADING_CALLBACK, decode_value, parse_action_id
from adapters.slack.caller import caller_of
from adapters.slack.surface import SlackSurface
from core.access import MANAGERS, WORKERS
from core.cards import ActionId
from core.errors import DomainError, Forbidden
from core.resolution import TIME_PREF, working_minutes
from core.tenants import SignedIn

log = logging.getLogger("rflow.slack")

TITLES = {ActionId.PREVIEW_RESOLVE: "Resolution note", ActionId.ESCALATE: "Escalate",
          ActionId.FIX_FAILED: "Didn't work", ActionId.FIX_PARTIAL: "Partly worked"}


class ModalOpener:
    def __init__(self, surface: SlackSurface) -> None:
        self.surface = surface
        self.engine = surface.engine
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, body: dict[str, Any]) -> None:
        self._track(self.open_for_action(body))

    def spawn_settings(self, body: dict[str, Any]) -> None:
        self._track(self.open_settings(body))

    def _track(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Tests and shutdown: wait for the forms being opened."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def open_for_action(self, body: dict[str, Any]) -> None:
        caller = caller_of("action", body)
        action = (body.get("actions") or [{}])[0]
        action_id = str(action.get("action_id", ""))
        try:
            session_id, ref = decode_value(str(action.get("value") or (action.get("selected_option") or {}).get("value", "")))
        except ValueError:
            log.warning("a modal button with an unreadable value: %s", action_id)
            return
        which = None if action_id in (ADD_FACT, EDIT_FACT) else parse_action_id(action_id)
        title = TITLES.get(which, "Fact") if which else "Fact"
        view_id = await self.surface.gateway.open_view(caller.team, str(body.get("trigger_id")), views.loading_modal(title, LOADING_CALLBACK))
        if view_id is None:
            return
        await self._fill(view_id, caller.team, lambda: self._form(caller.team, caller.user, which, action_id, session_id, ref))

    async def _fill(self, view_id: str, team: str, build: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        try:
            view = await build()
        except DomainError as exc:
            view = views.message_modal("ResolutionFlow", exc.message)
        except Exception:
            log.exception("building a Slack modal failed")
            view = views.message_modal("ResolutionFlow", "Something went wrong preparing this form; try again.")
        await self.surface.gateway.update_view(team, view_id, view)

    async def _form(self, team: str, user: str, which: ActionId | None, action_id: str, sid: int, ref: int | None) -> dict[str, Any]:
        signed = await self.surface.sign_in(team, user)
        actor = signed.actor
        if which == ActionId.PREVIEW_RESOLVE:
            preview = await self.engine.previews.preview(actor=actor, session_id=sid, kind="resolve")
            view = await self.engine.sessions.view(actor=actor, session_id=sid)
            minutes = None
            prefs = await self.engine.accounts.preferences(actor=actor)
            if prefs.get(TIME_PREF) is True and view.session.ticket_ref:
                minutes = working_minutes(view.session, self.engine.deps.clock.now())
            return views.resolve_modal(preview, summary_default=view.session.title, offer_time_minutes=minutes)
        if which == ActionId.ESCALATE:
            self._require_worker(signed)
            preview = await self.engine.previews.preview(actor=actor, session_id=sid, kind="escalate")
            members = await self.engine.accounts.members(actor=actor)
            targets = [(m.id or 0, m.name) for m in members if m.role in WORKERS and m.id != signed.member.id]
            return views.escalate_modal(session_id=sid, version=preview.state_version,
                                        package_preview=preview.markdown, targets=targets[:100])
        if which == ActionId.FIX_PARTIAL:
            self._require_worker(signed)
            return views.partial_modal(sid, ref or 0)
        if which == ActionId.FIX_FAILED:
            self._require_worker(signed)
            return views.failed_modal(sid, ref or 0)
        self._require_worker(signed)
        fact_id = ref if action_id == EDIT_FACT else None
        text = ""
        if fact_id:
            view = await self.engine.sessions.view(actor=actor, session_id=sid)
            text = next((f.text for f in view.facts if f.id == fact_id), "")
        return views.fact_modal(sid, fact_id, text)

    @staticmethod
    def _require_worker(signed: SignedIn) -> None:
        if signed.member.role not in WORKERS:
            raise Forbidden("Engineer or admin access required.")

    async def open_settings(self, body: dict[str, Any]) -> None:
        caller = caller_of("command", body)
        view_id = await self.surface.gateway.open_view(caller.team, str(body.get("trigger_id")), views.loading_modal("Settings", LOADING_CALLBACK))
        if view_id is None:
            return

        async def build() -> dict[str, Any]:
            signed = await self.surface.sign_in(caller.team, caller.user)
            if signed.member.role not in MANAGERS:
                raise Forbidden("Admin access required.")
            return views.settings_modal(await self.engine.accounts.preferences(actor=signed.actor))

        await self._fill(view_id, caller.team, build)
