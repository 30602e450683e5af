"""Button clicks and modal submissions from the inbox, translated into core actions: every button
names its object by id (R3), `perform` checks the caller's account and role (R35), and the outcome
says what Slack does next (redraw the lane, DM the handoff, tell the person)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from adapters.slack import blocks
from adapters.slack.actions import (
    SETTINGS_CALLBACK,
    clicked_value,
    decode_metadata,
    decode_value,
    parse_action_id,
    parse_click,
    read_submission,
)
from adapters.slack.caller import Caller, Tell, caller_of
from adapters.slack.outcomes import outcome_text
from adapters.slack.surface import SlackSurface
from adapters.slack.views import settings_values
from core.access import Actor
from core.actions import SPECS, Action, Outcome, View
from core.errors import DomainError, InvalidInput
from core.views import handoff_view


class ClickHandlers:
    def __init__(self, surface: SlackSurface, tell: Tell) -> None:
        self.surface = surface
        self.engine = surface.engine
        self.tell = tell

    async def action(self, body: dict[str, Any]) -> None:
        action = (body.get("actions") or [{}])[0]
        try:
            which, _ = parse_click(str(action.get("action_id", "")))
            session_id, ref = decode_value(clicked_value(action))
        except ValueError:
            raise InvalidInput("That button is out of date; the lane has been refreshed.") from None
        caller = caller_of("action", body)
        await self._perform(caller, Action(id=which, session_id=session_id, ref=ref))

    async def submission(self, body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        callback = str(view.get("callback_id", ""))
        state = ((view.get("state") or {}).get("values")) or {}
        caller = caller_of("view", body)
        if callback == SETTINGS_CALLBACK:  # account-wide: no session in its metadata
            signed = await self.surface.sign_in(caller.team, caller.user)
            await self.engine.accounts.set_preferences(actor=signed.actor, values=settings_values(read_submission(state)))
            return
        try:
            which = parse_action_id(callback)
            meta = decode_metadata(str(view.get("private_metadata", "")))
            values = read_submission(state, joins=meta.joins)
        except ValueError:
            raise InvalidInput("That form is out of date; open it again.") from None
        if meta.session_id is None or SPECS[which].form is None:
            raise InvalidInput("That form names no session; open it again from the lane.")
        await self._perform(await self._in_lane_thread(caller, meta.session_id),
                            Action(id=which, session_id=meta.session_id, ref=meta.ref, values=values))

    async def _in_lane_thread(self, caller: Caller, session_id: int) -> Caller:
        """A modal has no channel: its answer goes where the session's lane is, as an ephemeral."""
        actor = (await self.surface.sign_in(caller.team, caller.user)).actor
        thread = await self.surface.lane_thread(actor.account_id, session_id)
        if thread is None or thread.team != caller.team:
            return caller
        return replace(caller, channel=thread.channel, thread_ts=thread.ts)

    async def _perform(self, caller: Caller, action: Action) -> None:
        actor = (await self.surface.sign_in(caller.team, caller.user)).actor
        try:
            outcome = await self.engine.actions.perform(actor, action)
        except DomainError:
            # A refused click often comes from a stale lane (an earlier update failed): show the truth.
            await self.surface.refresh_lane(actor.account_id, action.session_id)
            raise
        await self._show(caller, actor, outcome)

    async def _show(self, caller: Caller, actor: Actor, outcome: Outcome) -> None:
        """The notifier tells everyone else (the thread, the escalation post); this is the clicker's
        side: the lane they clicked on, the handoff context (R23) and a word when the change is elsewhere."""
        if View.LANE in outcome.changed:
            await self.surface.refresh_lane(actor.account_id, outcome.session_id)
        if outcome.pickup is not None:
            await self.surface.deliver_dm(caller.team, caller.user, blocks.handoff_dm_delivery(handoff_view(outcome.pickup)),
                                          title=f"Handoff session {outcome.session_id}")
        text = outcome_text(outcome)
        if text:
            await self.tell(caller, text)
