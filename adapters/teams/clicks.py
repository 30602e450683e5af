"""Card buttons, translated into core actions (`engine.actions.perform`) and their outcomes shown.

An `adaptiveCard/action` invoke is answered in its own HTTP response: with the refreshed card when
the lane changed (the lane message is also edited so everyone sees it), with the action's form
when it came without its inputs (`SPECS[id].form_first`) or a field was refused, else with a line.
Slow actions (`SPECS[id].slow`: they may wait for the assistant) go through the inbox and answer at
once with a line; a click that still overruns the deadline answers "still working" and finishes in
the background. The `Action.Submit` fallback of older clients arrives as a message and runs the
same code from the inbox.

Every button names its session and object by id (R3); `perform` re-checks the caller's account and
role and validates the form (R15, R35)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any

from microsoft_agents.activity import Activity, InvokeResponse

from adapters.teams import outcomes as o
from adapters.teams import replies as r
from adapters.teams.activities import conversation_id, dump, tenant_of
from adapters.teams.card_actions import parse_action
from adapters.teams.cards import escalation_post_card, render_handoff, resolution_card
from adapters.teams.cards_base import adaptive_card, card_size_ok, text_blocks, title
from adapters.teams.cards_forms import form_card, form_of
from adapters.teams.references import conversation_reference
from adapters.teams.surface import TeamsSurface
from adapters.teams.transport import card_invoke_response, message_invoke_response
from adapters.teams.wording import error_text
from core.actions import SPECS, Action, Outcome, OutcomeCode, View
from core.errors import DomainError
from core.forms import FieldKind, validate
from core.handoffs import Pickup
from core.platform import TEAMS
from core.previews import Preview
from core.surfaces import escalation_key, lane_key
from core.tenants import SignedIn
from core.views import SOMEONE, handoff_view, stored_post

log = logging.getLogger("rflow.teams")

Accept = Callable[..., Awaitable[bool]]
DEADLINE_S = 10.0  # the connector gives up after 15 s


@dataclass(frozen=True, kw_only=True)
class ClickReply:
    """What the clicker sees: a card in place of the one they clicked, and/or a line (said when no
    card shows the outcome). `shown` says the clicked message itself was already edited for everyone."""

    card: dict[str, Any] | None = None
    text: str | None = None
    shown: bool = False


def posted_card(name: str, outcome: Outcome) -> dict[str, Any]:
    """The resolution form once posted, so nobody posts it twice."""
    body = o.POSTED_BODY.format(name=name, how=o.resolved_how(outcome))
    return adaptive_card([*title(o.POSTED_TITLE.format(id=outcome.session_id)), *text_blocks(body, color="Good")])


class ClickHandlers:
    def __init__(self, surface: TeamsSurface, accept: Accept, *, deadline_s: float = DEADLINE_S) -> None:
        self.surface = surface
        self.engine = surface.engine
        self.accept = accept
        self.deadline_s = deadline_s
        self._late: set[asyncio.Task[None]] = set()

    # The request path --------------------------------------------------------------------------------

    async def invoke(self, activity: Activity) -> InvokeResponse:
        reply = await self._answer(activity)
        if reply.card is not None:  # the clicker sees what their click did above the card (Slack says it ephemerally)
            return card_invoke_response(with_notice(reply.card, reply.text) if reply.text else reply.card)
        return message_invoke_response(reply.text or "")

    async def _answer(self, activity: Activity) -> ClickReply:
        try:
            action = parse_action(activity.value)
        except ValueError:
            return ClickReply(text=r.OUT_OF_DATE)
        signed: SignedIn | None = None
        try:
            signed = await self.surface.sign_in(activity)
            spec = SPECS[action.id]
            if spec.form_first and not action.values:
                return ClickReply(card=await self._form(signed, action))
            if spec.slow:
                return await self._defer(action, activity)
            return await self._within_deadline(self.run(signed, action, activity), conversation_reference(activity))
        except DomainError as exc:
            log.info("refused Teams click %s: %s", action.id, exc.message, extra={"code": exc.code})
            if exc.field is not None and signed is not None and SPECS[action.id].form is not None:
                return ClickReply(card=await self._form(signed, action, exc))
            return ClickReply(text=error_text(exc))

    async def _defer(self, action: Action, activity: Activity) -> ClickReply:
        """Validated now, so a refused field is answered with its form at once; worked from the inbox."""
        spec = SPECS[action.id]
        if spec.form is not None:
            validate(form_of(action.id), action.values)
        await self.accept(platform=TEAMS, key=f"act:{activity.id}:{conversation_id(activity)}",
                          payload={"kind": "action", "activity": dump(activity)})
        return ClickReply(text=o.pending_text(action.id, action.session_id))

    async def _form(self, signed: SignedIn, action: Action, refused: DomainError | None = None) -> dict[str, Any]:
        """The action's form as a card: with what was typed, and the refusal by the field at fault."""
        form = form_of(action.id)
        members: list[tuple[int, str]] = []
        if any(f.kind == FieldKind.MEMBER for f in form.fields):
            members = await self.surface.colleagues(signed.actor.account_id, action.session_id)
        error = (refused.field, error_text(refused)) if refused is not None and refused.field else None
        ref = action.ref if isinstance(action.ref, int) else None
        return form_card(action.id, action.session_id, ref, values=action.values, members=members, error=error)

    async def _within_deadline(self, work: Coroutine[Any, Any, ClickReply], reference: dict[str, Any]) -> ClickReply:
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=self.deadline_s)
        if task in done:
            return task.result()
        late = asyncio.ensure_future(self._finish_late(task, reference))
        self._late.add(late)
        late.add_done_callback(self._late.discard)
        return ClickReply(text=r.STILL_WORKING)

    async def _finish_late(self, task: asyncio.Task[ClickReply], reference: dict[str, Any]) -> None:
        try:
            reply = await task
        except DomainError as exc:
            await self.surface.say(reference, error_text(exc))
            return
        except Exception:
            log.exception("a Teams click failed after its invoke was answered")
            return
        if reply.text:
            await self.surface.say(reference, reply.text)

    async def drain(self) -> None:
        """Tests and shutdown: wait for clicks that overran their invoke."""
        while pending := [t for t in self._late if not t.done()]:  # a done task leaves via its callback
            await asyncio.gather(*pending, return_exceptions=True)

    # From the inbox ----------------------------------------------------------------------------------

    async def submitted(self, activity: Activity, reference: dict[str, Any], *, deferred: bool) -> None:
        """An `Action.Submit` fallback (`deferred=False`) or a slow invoke (`deferred=True`): the same
        click, answered by editing the card message, or saying a line when no card shows it."""
        try:
            action = parse_action(activity.value)
        except ValueError:
            await self.surface.say(reference, r.OUT_OF_DATE)
            return
        signed = await self.surface.sign_in(activity)
        if SPECS[action.id].form_first and not action.values:
            await self.surface.send(reference, card=await self._form(signed, action))
            return
        reply = await self.run(signed, action, activity)
        if reply.card is not None and not reply.shown and not deferred and activity.reply_to_id:
            await self.surface.update(reference, activity.reply_to_id, reply.card)
        if reply.text and reply.card is None:
            await self.surface.say(reference, reply.text)

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

    # What a click does: perform it, then show the outcome ---------------------------------------------

    async def run(self, signed: SignedIn, action: Action, activity: Activity) -> ClickReply:
        outcome = await self.engine.actions.perform(signed.actor, action)
        reference = conversation_reference(activity)
        account, sid, clicked = signed.actor.account_id, outcome.session_id, activity.reply_to_id
        text = o.outcome_text(outcome)
        if outcome.pickup is not None:
            return replace(await self._handed_over(signed, outcome.pickup, activity), text=text)
        if outcome.preview is not None:
            await self._show_preview(outcome, outcome.preview, reference)
            return ClickReply()
        if outcome.code == OutcomeCode.RESOLVED:
            card = posted_card(signed.member.name, outcome)
            shown = bool(clicked) and await self.surface.update(reference, clicked or "", card)
            return ClickReply(card=card, text=text, shown=shown)
        if outcome.code == OutcomeCode.ESCALATED:  # the notifier has edited the lane for everyone already
            return ClickReply(card=(await self.surface.lane_render(account, sid)).card, text=text, shown=True)
        if View.LANE not in outcome.changed:
            return ClickReply(text=text)
        card = await self.surface.refresh_lane(account, sid)
        lane = await self.engine.surfaces.get(account_id=account, surface=TEAMS, key=lane_key(sid))
        if clicked and (lane is None or str(lane.ref.get("activity_id")) != clicked):
            await self.surface.update(reference, clicked, card)  # an older copy of the lane, elsewhere
        return ClickReply(card=card, text=text, shown=True)

    async def _show_preview(self, outcome: Outcome, preview: Preview, reference: dict[str, Any]) -> None:
        if preview.kind != "resolve":  # asked for from the Escalate form: the package is said as it is
            await self.surface.say(reference, preview.markdown)
            return
        await self.surface.send(reference, card=resolution_card(
            preview, summary_default=outcome.params["summary_default"], offer_time_minutes=outcome.params["time_minutes"]))

    async def _handed_over(self, signed: SignedIn, pickup: Pickup, activity: Activity) -> ClickReply:
        """R23: the engine decided (a loser's Conflict and a viewer's Forbidden were raised before).
        The clicked card shows who has it; the winner's context goes to a personal chat via the inbox."""
        account, sid = signed.actor.account_id, pickup.session.id or 0
        handoff_id = pickup.handoff.id or 0
        stored = await self.engine.surfaces.get(account_id=account, surface=TEAMS, key=escalation_key(handoff_id))
        lane = await self.engine.surfaces.get(account_id=account, surface=TEAMS, key=lane_key(sid))
        if lane is not None and str(lane.ref.get("activity_id")) == activity.reply_to_id:
            card = (await self.surface.lane_render(account, sid)).card  # clicked on the lane: it stays a lane
        else:
            card = escalation_card(pickup, stored.ref if stored else {}, signed.member.name)
        render = render_handoff(handoff_view(pickup))
        await self.accept(platform=TEAMS, key=f"handoff:{handoff_id}", payload={
            "kind": "handoff", "account_id": account, "session_id": sid, "tenant_id": tenant_of(activity),
            "user_id": activity.from_property.id if activity.from_property else "", "service_url": activity.service_url,
            "card": render.card, "overflow": list(render.overflow)})
        shown = any(ref is not None and str(ref.ref.get("activity_id")) == activity.reply_to_id
                    for ref in (stored, lane))  # the notifier edited those for everyone
        return ClickReply(card=card, shown=shown)


def with_notice(card: dict[str, Any], text: str) -> dict[str, Any]:
    """The card with the outcome of the click as its first line, when there is room for it."""
    noticed = {**card, "body": [*text_blocks(text, color="Good", weight="Bolder"), *card.get("body", [])]}
    return noticed if card_size_ok(noticed) else card


def escalation_card(pickup: Pickup, stored: dict[str, Any], claimed_by: str | None) -> dict[str, Any]:
    """The escalation post as stored when the channel got it, else rebuilt from the pickup."""
    return escalation_post_card(stored_post(
        stored, session_id=pickup.session.id or 0, handoff_id=pickup.handoff.id or 0, claimed_by=claimed_by,
        title=pickup.session.title, ticket=pickup.session.ticket_ref, reason=pickup.handoff.reason,
        escalated_by=pickup.escalated_by.name if pickup.escalated_by else SOMEONE))
