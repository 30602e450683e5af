"""Buttons and commands that open a modal. The trigger_id expires 3 s after the click, so a loading
view opens first, before anything slow (signing in, the preview, the assistant); the real form
replaces it with views.update when it is ready. Opening a form changes nothing, so this runs as a
background task after the ack rather than through the inbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.slack import psa_views, views
from adapters.slack.actions import (
    LOADING_CALLBACK,
    ModalMeta,
    clicked_value,
    decode_value,
    form_action,
)
from adapters.slack.caller import caller_of
from adapters.slack.psa_actions import TICKET_SEARCH
from adapters.slack.surface import SlackSurface
from adapters.slack.wording import error_text
from core.access import MANAGERS, WORKERS, require_manager, require_worker
from core.actions import SPECS, Action, ActionId
from core.errors import DomainError
from core.models import ItemKind

log = logging.getLogger("rflow.slack")


class ModalOpener:
    def __init__(self, surface: SlackSurface) -> None:
        self.surface = surface
        self.engine = surface.engine
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, body: dict[str, Any]) -> None:
        self.track(self.open_for_action(body))

    def spawn_settings(self, body: dict[str, Any]) -> None:
        self.track(self.open_settings(body))

    def track(self, work: Awaitable[None]) -> None:
        """Run work after the ack; drain() waits for it."""
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
        which = form_action(str(action.get("action_id", "")))
        try:
            if which is None:
                raise ValueError("not a form")
            session_id, ref = decode_value(clicked_value(action))
        except ValueError:
            log.warning("a modal button with an unreadable value: %s", action.get("action_id"))
            return
        loading = views.loading_modal(views.form_of(which).title, LOADING_CALLBACK)
        view_id = await self.surface.gateway.open_view(caller.team, str(body.get("trigger_id")), loading)
        if view_id is None:
            return
        await self.fill(view_id, caller.team, lambda: self._form(caller.team, caller.user, which, session_id, ref))

    async def fill(self, view_id: str, team: str, build: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        """Replace the loading view with what `build` makes, or with a refusal in Slack's words."""
        try:
            view = await build()
        except DomainError as exc:
            view = views.message_modal("ResolutionFlow", error_text(exc))
        except Exception:
            log.exception("building a Slack modal failed")
            view = views.message_modal("ResolutionFlow", "Something went wrong preparing this form; try again.")
        await self.surface.gateway.update_view(team, view_id, view)

    async def _form(self, team: str, user: str, which: ActionId, sid: int, ref: int | None) -> dict[str, Any]:
        """The form of `which` (core's declaration), filled in: a preview performed first (the note to
        edit), the fact being edited, the colleagues to escalate to."""
        signed = await self.surface.sign_in(team, user)
        actor = signed.actor
        require_worker(signed.member)  # core's rule; perform checks it again on submission
        preview_of = SPECS[which].preview
        previewed = await self.engine.actions.perform(actor, Action(id=preview_of, session_id=sid)) \
            if preview_of is not None else None
        preview = previewed.preview if previewed is not None else None
        if which == ActionId.RESOLVE and previewed is not None and preview is not None:
            return views.resolve_modal(preview, summary_default=previewed.params["summary_default"],
                                       offer_time_minutes=previewed.params["time_minutes"])
        if which == ActionId.ESCALATE and preview is not None:
            members = await self.engine.accounts.members(actor=actor)
            targets = [(m.id or 0, m.name) for m in members if m.role in WORKERS and m.id != signed.member.id]
            return views.escalate_modal(preview, targets=targets)
        initial: dict[str, str | None] = {}
        if which in (ActionId.EDIT_FACT, ActionId.CONFIRM_ITEM):  # a fact to edit, a proposed fact to reword
            view = await self.engine.sessions.view(actor=actor, session_id=sid)
            initial["text"] = next((f.text for f in view.facts if f.id == ref), None) if which == ActionId.EDIT_FACT \
                else next((i.text for i in view.items if i.id == ref and i.kind == ItemKind.FACT), None)
        meta = ModalMeta(session_id=sid, fact_id=ref if which == ActionId.EDIT_FACT else None,
                         item_id=ref if which == ActionId.CONFIRM_ITEM else None,
                         fix_id=ref if which not in (ActionId.EDIT_FACT, ActionId.CONFIRM_ITEM) else None)
        # The ticket is picked from the PSA's open tickets as the person types (on_psa.py answers).
        searches = {"ticket": TICKET_SEARCH} if which == ActionId.LINK_TICKET and self.engine.deps.psa else None
        return views.form_modal(which, meta, initial=initial, searches=searches)

    async def open_settings(self, body: dict[str, Any]) -> None:
        caller = caller_of("command", body)
        view_id = await self.surface.gateway.open_view(caller.team, str(body.get("trigger_id")),
                                                       views.loading_modal("Settings", LOADING_CALLBACK))
        if view_id is None:
            return

        async def build() -> dict[str, Any]:
            signed = await self.surface.sign_in(caller.team, caller.user)
            psa = self.engine.deps.psa
            admin = signed.member.role in MANAGERS
            if not admin and psa is None:
                require_manager(signed.member)  # refused in core's words
            panel: list[dict[str, Any]] = []
            if psa is not None:
                connected = (await self.engine.psa_settings.overview(actor=signed.actor)).connected
                panel = psa_views.panel(psa.display_name, connected=connected, admin=admin)
            if not admin and psa is not None:
                return views.member_settings_modal(psa.display_name, panel)
            return views.settings_modal(await self.engine.accounts.preferences(actor=signed.actor), psa_panel=panel)

        await self.fill(view_id, caller.team, build)
