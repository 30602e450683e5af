"""Card buttons. An `adaptiveCard/action` invoke is answered in its own HTTP response with the
refreshed card (each engine call is one short transaction); the message the card lives in is also
edited so everyone sees it. Clicks that need the assistant (the resolution preview, an escalation's
package) go through the inbox and answer at once with a line; a click that still overruns the
deadline answers "still working" and finishes in the background. The `Action.Submit` fallback of
older clients arrives as a message and runs the same code from the inbox.

Every button names its session and object by id (R3); the engine re-checks the caller's account
and role on every call (R35)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from microsoft_agents.activity import Activity, InvokeResponse

from adapters.teams import replies as r
from adapters.teams.activities import conversation_id, dump, tenant_of
from adapters.teams.card_actions import (
    INPUT_FACT_TEXT,
    INPUT_FAILURE_REASON,
    INPUT_LOG_TIME,
    INPUT_NOTE,
    INPUT_PARTIAL_NOTES,
    INPUT_REASON,
    INPUT_SUMMARY,
    INPUT_TARGET,
    TOGGLE_ON,
    CardActionInput,
    CardActionKind,
    FormAction,
    parse_action,
)
from adapters.teams.cards import escalation_post_card, render_handoff, resolution_card
from adapters.teams.cards_base import adaptive_card, text_blocks, title
from adapters.teams.references import conversation_reference
from adapters.teams.surface import TeamsSurface
from adapters.teams.transport import card_invoke_response, message_invoke_response
from core.access import Actor
from core.cards import ActionId
from core.errors import DomainError, InvalidInput
from core.handoffs import Pickup
from core.models import FixStatus
from core.platform import TEAMS
from core.resolution import TIME_PREF, working_minutes
from core.surfaces import escalation_key, lane_key
from core.tenants import SignedIn

log = logging.getLogger("rflow.teams")

Accept = Callable[..., Awaitable[bool]]
DEADLINE_S = 10.0  # the connector gives up after 15 s
SLOW = frozenset({ActionId.PREVIEW_RESOLVE, FormAction.POST_ESCALATION})
FORMS_ONLY = frozenset({ActionId.FIX_PARTIAL, ActionId.FIX_FAILED, ActionId.ESCALATE})
OUTCOMES: dict[CardActionKind, FixStatus] = {ActionId.FIX_WORKED: FixStatus.APPLIED_SUCCESS,
                                             ActionId.FIX_DISMISS: FixStatus.DISMISSED}


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What the clicker sees: a card in place of the one they clicked, or a line. `shown` says the
    clicked message itself was already edited for everyone."""

    card: dict[str, Any] | None = None
    text: str | None = None
    shown: bool = False


def posted_card(session_id: int, name: str, outcome: str) -> dict[str, Any]:
    """The resolution form once posted, so nobody posts it twice."""
    return adaptive_card([*title(r.POSTED_TITLE.format(id=session_id)),
                          *text_blocks(r.POSTED_BODY.format(name=name, outcome=outcome), color="Good")])


class ClickHandlers:
    def __init__(self, surface: TeamsSurface, accept: Accept, *, deadline_s: float = DEADLINE_S) -> None:
        self.surface = surface
        self.engine = surface.engine
        self.accept = accept
        self.deadline_s = deadline_s
        self._late: set[asyncio.Task[None]] = set()

    # The request path --------------------------------------------------------------------------------

    async def invoke(self, activity: Activity) -> InvokeResponse:
        outcome = await self._answer(activity)
        if outcome.card is not None:
            return card_invoke_response(outcome.card)
        return message_invoke_response(outcome.text or "")

    async def _answer(self, activity: Activity) -> Outcome:
        try:
            click = parse_action(activity.value)
        except ValueError:
            return Outcome(text=r.OUT_OF_DATE)
        try:
            signed = await self.surface.sign_in(activity)
            if click.action in SLOW:
                return await self._defer(click, activity)
            return await self._within_deadline(self.run(signed, click, activity), conversation_reference(activity))
        except DomainError as exc:
            log.info("refused Teams click %s: %s", click.action, exc.message, extra={"code": exc.code})
            return Outcome(text=exc.message)

    async def _defer(self, click: CardActionInput, activity: Activity) -> Outcome:
        if click.action == FormAction.POST_ESCALATION and not click.inputs.get(INPUT_REASON, "").strip():
            return Outcome(text=r.NEED_REASON)
        await self.accept(platform=TEAMS, key=f"act:{activity.id}:{conversation_id(activity)}",
                          payload={"kind": "action", "activity": dump(activity)})
        if click.action == ActionId.PREVIEW_RESOLVE:
            return Outcome(text=r.PREPARING_NOTE)
        return Outcome(text=r.ESCALATING.format(id=click.session_id))

    async def _within_deadline(self, work: Coroutine[Any, Any, Outcome], reference: dict[str, Any]) -> Outcome:
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=self.deadline_s)
        if task in done:
            return task.result()
        late = asyncio.ensure_future(self._finish_late(task, reference))
        self._late.add(late)
        late.add_done_callback(self._late.discard)
        return Outcome(text=r.STILL_WORKING)

    async def _finish_late(self, task: asyncio.Task[Outcome], reference: dict[str, Any]) -> None:
        try:
            outcome = await task
        except DomainError as exc:
            await self.surface.say(reference, exc.message)
            return
        except Exception:
            log.exception("a Teams click failed after its invoke was answered")
            return
        if outcome.text:
            await self.surface.say(reference, outcome.text)

    async def drain(self) -> None:
        """Tests and shutdown: wait for clicks that overran their invoke."""
        while self._late:
            await asyncio.gather(*list(self._late), return_exceptions=True)

    # From the inbox ----------------------------------------------------------------------------------

    async def submitted(self, activity: Activity, reference: dict[str, Any], *, deferred: bool) -> None:
        """An `Action.Submit` fallback (`deferred=False`) or a slow invoke (`deferred=True`): the same
        click, answered by editing the card message and saying any line in the conversation."""
        try:
            click = parse_action(activity.value)
        except ValueError:
            await self.surface.say(reference, r.OUT_OF_DATE)
            return
        signed = await self.surface.sign_in(activity)
        outcome = await self.run(signed, click, activity)
        if outcome.card is not None and not outcome.shown and not deferred and activity.reply_to_id:
            await self.surface.update(reference, activity.reply_to_id, outcome.card)
        if outcome.text:
            await self.surface.say(reference, outcome.text)

    async def deliver_handoff(self, payload: dict[str, Any]) -> None:
        """The winner of a pickup gets the handoff context in a personal chat, which becomes where
        they continue the session (its Teams lane), even when it began in Slack. A failure to open
        the chat or send the context raises, so the inbox tries again."""
        account, sid = int(payload["account_id"]), int(payload["session_id"])
        chat = await self.surface.sender.create_personal_chat(str(payload["service_url"]), str(payload["tenant_id"]),
                                                              str(payload["user_id"]))
        await self.surface.sender.send(chat, card=payload["card"])
        for text in payload.get("overflow") or []:
            await self.surface.say(chat, str(text))
        await self.surface.bind(account, chat, sid)
        await self.surface.post_lane(account, sid, chat)
        await self.surface.say(chat, r.HANDLER_NOW.format(id=sid))

    # What a click does --------------------------------------------------------------------------------

    async def run(self, signed: SignedIn, click: CardActionInput, activity: Activity) -> Outcome:
        actor, sid, action = signed.actor, click.session_id, click.action
        reference = conversation_reference(activity)
        if action == ActionId.PICKUP:
            return await self._pickup(signed, sid, activity)
        if action == ActionId.PREVIEW_RESOLVE:
            await self._preview(actor, sid, reference)
            return Outcome()
        if action == FormAction.POST_RESOLUTION:
            return await self._resolve(signed, click, activity, reference)
        if action == FormAction.POST_ESCALATION:
            target = click.inputs.get(INPUT_TARGET, "").strip()
            await self.engine.handoffs.escalate(actor=actor, session_id=sid, reason=click.inputs.get(INPUT_REASON, ""),
                                                target=int(target) if target.isdigit() else None)
            # The notifier has edited the lane for everyone already.
            return Outcome(card=(await self.surface.lane_render(actor.account_id, sid)).card, shown=True)
        await self._lane_action(actor, click)
        card = await self.surface.refresh_lane(actor.account_id, sid)
        lane = await self.engine.surfaces.get(account_id=actor.account_id, surface=TEAMS, key=lane_key(sid))
        clicked = activity.reply_to_id
        if clicked and (lane is None or str(lane.ref.get("activity_id")) != clicked):
            await self.surface.update(reference, clicked, card)  # an older copy of the lane, elsewhere
        return Outcome(card=card, shown=True)

    async def _lane_action(self, actor: Actor, click: CardActionInput) -> None:
        sid, ref, action, inputs = click.session_id, click.ref, click.action, click.inputs
        if action == ActionId.CONFIRM_ITEM:
            if ref is None:
                raise InvalidInput(r.OUT_OF_DATE)
            await self.engine.facts.promote(actor=actor, session_id=sid, item_ref=ref)
        elif action == ActionId.APPLY_FIX:
            await self.engine.fixes.apply(actor=actor, session_id=sid, fix_id=ref)
        elif action in OUTCOMES:
            await self.engine.fixes.record_outcome(actor=actor, session_id=sid, outcome=OUTCOMES[action], fix_id=ref)
        elif action == FormAction.POST_PARTIAL:
            if not inputs.get(INPUT_PARTIAL_NOTES, "").strip():
                raise InvalidInput(r.NEED_NOTES)
            await self.engine.fixes.record_outcome(actor=actor, session_id=sid, outcome=FixStatus.APPLIED_PARTIAL,
                                                   notes=inputs[INPUT_PARTIAL_NOTES], fix_id=ref)
        elif action == FormAction.POST_FAILED:
            await self.engine.fixes.record_outcome(actor=actor, session_id=sid, outcome=FixStatus.APPLIED_FAILED,
                                                   notes=inputs.get(INPUT_FAILURE_REASON), fix_id=ref)
        elif action == ActionId.OUTCOME_CONFIRM:
            await self.engine.fixes.confirm_proposal(actor=actor, session_id=sid)
        elif action == ActionId.OUTCOME_NOT_YET:
            await self.engine.fixes.reject_proposal(actor=actor, session_id=sid)
        elif action == ActionId.PARK:
            await self.engine.sessions.park(actor=actor, session_id=sid)
        elif action == FormAction.ADD_FACT:
            if not inputs.get(INPUT_FACT_TEXT, "").strip():
                raise InvalidInput(r.NEED_FACT)
            await self.engine.facts.add_note(actor=actor, session_id=sid, text=inputs[INPUT_FACT_TEXT])
        elif action in FORMS_ONLY:
            raise InvalidInput(r.OPENS_A_FORM)
        else:
            raise InvalidInput(r.OUT_OF_DATE)

    async def _preview(self, actor: Actor, sid: int, reference: dict[str, Any]) -> None:
        preview = await self.engine.previews.preview(actor=actor, session_id=sid, kind="resolve")
        view = await self.engine.sessions.view(actor=actor, session_id=sid)
        minutes = None
        if (await self.engine.accounts.preferences(actor=actor)).get(TIME_PREF) is True and view.session.ticket_ref:
            minutes = working_minutes(view.session, self.engine.deps.clock.now())
        await self.surface.send(reference, card=resolution_card(preview, summary_default=view.session.title,
                                                                offer_time_minutes=minutes))

    async def _resolve(self, signed: SignedIn, click: CardActionInput, activity: Activity,
                       reference: dict[str, Any]) -> Outcome:
        inputs = click.inputs
        done = await self.engine.resolution.resolve(
            actor=signed.actor, session_id=click.session_id, summary=inputs.get(INPUT_SUMMARY) or None,
            markdown=inputs.get(INPUT_NOTE), log_time=inputs.get(INPUT_LOG_TIME) == TOGGLE_ON)
        card = posted_card(click.session_id, signed.member.name, done.outcome)
        shown = bool(activity.reply_to_id) and await self.surface.update(reference, activity.reply_to_id or "", card)
        return Outcome(card=card, shown=shown)

    async def _pickup(self, signed: SignedIn, sid: int, activity: Activity) -> Outcome:
        """R23: the engine decides; a loser's Conflict ("Already picked up by X") and a viewer's
        Forbidden become the answer. The winner's context goes to a personal chat via the inbox."""
        pickup = await self.engine.handoffs.pickup(actor=signed.actor, session_id=sid)
        account = signed.actor.account_id
        handoff_id = pickup.handoff.id or 0
        stored = await self.engine.surfaces.get(account_id=account, surface=TEAMS, key=escalation_key(handoff_id))
        lane = await self.engine.surfaces.get(account_id=account, surface=TEAMS, key=lane_key(sid))
        if lane is not None and str(lane.ref.get("activity_id")) == activity.reply_to_id:
            card = (await self.surface.lane_render(account, sid)).card  # clicked on the lane: it stays a lane
        else:
            card = escalation_card(pickup, stored.ref if stored else {}, signed.member.name)
        render = render_handoff(pickup)
        await self.accept(platform=TEAMS, key=f"handoff:{handoff_id}", payload={
            "kind": "handoff", "account_id": account, "session_id": sid, "tenant_id": tenant_of(activity),
            "user_id": activity.from_property.id if activity.from_property else "", "service_url": activity.service_url,
            "card": render.card, "overflow": list(render.overflow)})
        shown = any(ref is not None and str(ref.ref.get("activity_id")) == activity.reply_to_id
                    for ref in (stored, lane))  # the notifier edited those for everyone
        return Outcome(card=card, shown=shown)


def escalation_card(pickup: Pickup, stored: dict[str, Any], claimed_by: str | None) -> dict[str, Any]:
    """The escalation post as stored when the channel got it, else rebuilt from the pickup."""
    session, handoff = pickup.session, pickup.handoff
    return escalation_post_card(
        session_id=session.id or 0, title=str(stored.get("title") or session.title),
        ticket=stored.get("ticket", session.ticket_ref),
        escalated_by=str(stored.get("escalated_by") or (pickup.escalated_by.name if pickup.escalated_by else "?")),
        reason=str(stored.get("reason") or handoff.reason), target=stored.get("target"),
        handoff_id=handoff.id or 0, claimed_by=claimed_by)
