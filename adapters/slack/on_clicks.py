"""Button clicks and modal submissions from the inbox. Every button names its object by id (R3); the
engine re-checks the caller's account and role on every call (R35)."""

from __future__ import annotations

from typing import Any

from adapters.slack import blocks
from adapters.slack.actions import (
    ESCALATE_CALLBACK,
    FACT_CALLBACK,
    FAILED_CALLBACK,
    PARTIAL_CALLBACK,
    RESOLVE_CALLBACK,
    SETTINGS_CALLBACK,
    decode_metadata,
    decode_value,
    parse_action_id,
    read_submission,
)
from adapters.slack.views import settings_values
from adapters.slack.caller import Tell, caller_of
from adapters.slack.surface import SlackSurface
from core.access import Actor
from core.cards import ActionId
from core.errors import DomainError, InvalidInput
from core.models import FixStatus

OUTCOMES = {ActionId.FIX_WORKED: FixStatus.APPLIED_SUCCESS, ActionId.FIX_DISMISS: FixStatus.DISMISSED}
PICKED_UP = "You picked up session #{id}. The handoff context is in your DMs; continue in the session's thread."


class ClickHandlers:
    def __init__(self, surface: SlackSurface, tell: Tell) -> None:
        self.surface = surface
        self.engine = surface.engine
        self.tell = tell

    async def action(self, body: dict[str, Any]) -> None:
        action = (body.get("actions") or [{}])[0]
        try:
            which = parse_action_id(str(action.get("action_id", "")))
            session_id, ref = decode_value(str(action.get("value", "")))
        except ValueError:
            raise InvalidInput("That button is out of date; the lane has been refreshed.") from None
        caller = caller_of("action", body)
        signed = await self.surface.sign_in(caller.team, caller.user)
        actor = signed.actor
        if which == ActionId.PICKUP:
            await self._pickup(body, actor, session_id)
            return
        try:
            await self._lane_action(which, actor, session_id, ref)
        except DomainError:
            # A refused click often comes from a stale lane (an earlier update failed): show the truth.
            await self.surface.refresh_lane(actor.account_id, session_id)
            raise
        await self.surface.refresh_lane(actor.account_id, session_id)

    async def _lane_action(self, which: ActionId, actor: Actor, sid: int, ref: int | None) -> None:
        if which == ActionId.CONFIRM_ITEM:
            if ref is None:
                raise InvalidInput("That button names no question or check.")
            await self.engine.facts.promote(actor=actor, session_id=sid, item_ref=ref)
        elif which == ActionId.APPLY_FIX:
            await self.engine.fixes.apply(actor=actor, session_id=sid, fix_id=ref)
        elif which in OUTCOMES:
            await self.engine.fixes.record_outcome(actor=actor, session_id=sid, outcome=OUTCOMES[which], fix_id=ref)
        elif which == ActionId.OUTCOME_CONFIRM:
            await self.engine.fixes.confirm_proposal(actor=actor, session_id=sid)
        elif which == ActionId.OUTCOME_NOT_YET:
            await self.engine.fixes.reject_proposal(actor=actor, session_id=sid)
        elif which == ActionId.PARK:
            await self.engine.sessions.park(actor=actor, session_id=sid)
        else:
            raise InvalidInput("That button opens a form; click it again.")

    async def _pickup(self, body: dict[str, Any], actor: Actor, session_id: int) -> None:
        """The click decides (R23); the posts, the thread and the lane hear of it from the
        notifier; the senior gets the handoff context here, on the surface they clicked on."""
        pickup = await self.engine.handoffs.pickup(actor=actor, session_id=session_id)
        caller = caller_of("action", body)
        delivery = blocks.handoff_dm_delivery(pickup)
        await self.surface.deliver_dm(caller.team, caller.user, delivery, title=f"Handoff session {session_id}")
        await self.tell(caller, PICKED_UP.format(id=session_id))

    async def submission(self, body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        callback = str(view.get("callback_id", ""))
        state = ((view.get("state") or {}).get("values")) or {}
        caller = caller_of("view", body)
        signed = await self.surface.sign_in(caller.team, caller.user)
        actor = signed.actor
        if callback == SETTINGS_CALLBACK:  # account-wide: no session in its metadata
            values = settings_values(read_submission(state))
            await self.engine.accounts.set_preferences(actor=actor, values=values)
            return
        try:
            meta = decode_metadata(str(view.get("private_metadata", "")))
            values = read_submission(state, joins=meta.joins)
        except ValueError:
            raise InvalidInput("That form is out of date; open it again.") from None
        if meta.session_id is None:
            raise InvalidInput("That form names no session; open it again from the lane.")
        sid = meta.session_id
        if callback == RESOLVE_CALLBACK:
            await self.engine.resolution.resolve(actor=actor, session_id=sid, summary=values.get("summary"),
                                                 markdown=values.get("note"), log_time=bool(values.get("time")))
            return  # the notifier tells the thread and re-renders the lane
        if callback == ESCALATE_CALLBACK:
            target = values.get("target")
            await self.engine.handoffs.escalate(actor=actor, session_id=sid, reason=values.get("reason") or "",
                                                target=int(target) if target and target.isdigit() else None,
                                                markdown=values.get("note"))
            return
        if callback == PARTIAL_CALLBACK:
            await self.engine.fixes.record_outcome(actor=actor, session_id=sid, outcome=FixStatus.APPLIED_PARTIAL,
                                                   notes=values.get("text"), fix_id=meta.fix_id)
        elif callback == FAILED_CALLBACK:
            await self.engine.fixes.record_outcome(actor=actor, session_id=sid, outcome=FixStatus.APPLIED_FAILED,
                                                   notes=values.get("text"), fix_id=meta.fix_id)
        elif callback == FACT_CALLBACK:
            text = values.get("text") or ""
            if meta.fact_id:
                await self.engine.facts.edit(actor=actor, session_id=sid, fact_ref=meta.fact_id, text=text)
            else:
                await self.engine.facts.add_note(actor=actor, session_id=sid, text=text)
        else:
            raise InvalidInput("That form is not one of ours.")
        await self.surface.refresh_lane(actor.account_id, sid)
