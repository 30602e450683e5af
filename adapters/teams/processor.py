"""Teams on the request path and after it. `TeamsIngress` is the transport's callback (the token is
already checked): messages, card-submit fallbacks and installs are stored in the core's durable
inbox and the connector is answered at once (it gives up after 15 s); card invokes (buttons, the
settings card's saves, typeahead searches) are answered in their own response. `TeamsProcessor`
is the inbox handler that does the stored work: a refusal is said in the conversation and logged,
and changes nothing (each engine call is one transaction)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, InvokeResponse

from adapters.teams.activities import conversation_id, dump, load
from adapters.teams.cards import help_card
from adapters.teams.clicks import Accept, ClickHandlers
from adapters.teams.handlers import MessageHandlers
from adapters.teams.references import conversation_reference
from adapters.teams.search import SEARCH, TypeaheadSearch
from adapters.teams.settings import PsaSettingsCards
from adapters.teams.settings_actions import is_settings
from adapters.teams.surface import TeamsSurface
from adapters.teams.transport import IncomingActivity
from adapters.teams.wording import error_text
from core.errors import DomainError
from core.ordering import KeyedLocks
from core.platform import TEAMS, InboundDelivery

log = logging.getLogger("rflow.teams")
CARD_ACTION = "adaptiveCard/action"


class TeamsIngress:
    def __init__(self, *, accept: Accept, clicks: ClickHandlers, settings: PsaSettingsCards | None = None,
                 search: TypeaheadSearch | None = None) -> None:
        self.accept = accept
        self.clicks = clicks
        self.settings = settings or PsaSettingsCards(clicks.surface)
        self.search = search or TypeaheadSearch(clicks.surface)

    async def on_activity(self, incoming: IncomingActivity) -> InvokeResponse | None:
        activity = incoming.activity
        if activity.type == ActivityTypes.invoke:
            if activity.name == CARD_ACTION:
                if is_settings(activity.value):
                    return await self.settings.invoke(activity)
                return await self.clicks.invoke(activity)
            if activity.name == SEARCH:  # a typeahead menu of a card (adapters/teams/typeahead.py)
                return await self.search.invoke(activity)
            return InvokeResponse(status=501)  # nothing else is ours (as the SDK's own handler says)
        if activity.type == ActivityTypes.message:
            if activity.value is not None and not (activity.text or "").strip():
                await self._store("submit", "sub", activity)  # an Action.Submit from an older client
            elif (activity.text or "").strip():
                await self._store("message", "msg", activity)
        elif activity.type == ActivityTypes.conversation_update and _bot_added(activity):
            await self._store("installed", "upd", activity)
        return None

    async def _store(self, kind: str, prefix: str, activity: Activity) -> None:
        # Teams message ids are unique within a conversation, not across them: the key holds both.
        key = f"{prefix}:{activity.id or uuid.uuid4().hex}:{conversation_id(activity)}"
        await self.accept(platform=TEAMS, key=key, payload={"kind": kind, "activity": dump(activity)})


def _bot_added(activity: Activity) -> bool:
    bot = activity.recipient.id if activity.recipient else None
    return bool(bot) and any(member.id == bot for member in activity.members_added or [])


class TeamsProcessor:
    def __init__(self, surface: TeamsSurface, messages: MessageHandlers, clicks: ClickHandlers,
                 settings: PsaSettingsCards | None = None) -> None:
        self.surface = surface
        self.messages = messages
        self.clicks = clicks
        self.settings = settings or messages.settings
        self._ordering = KeyedLocks()

    async def handle(self, delivery: InboundDelivery) -> None:
        """The inbox handler for platform `teams`. Domain refusals are answered, not raised: the
        delivery is done. Anything else raises and the inbox retries it."""
        payload = delivery.payload
        kind = str(payload.get("kind"))
        if kind == "handoff":
            await self.clicks.deliver_handoff(payload)
            return
        raw = payload.get("activity")
        if not isinstance(raw, dict):
            log.warning("Teams delivery %s of kind %s carries no activity", delivery.id, kind)
            return
        activity = load(raw)
        reference = conversation_reference(activity)
        try:
            await self._run(kind, activity, reference)
        except DomainError as exc:
            log.info("refused Teams %s: %s", kind, exc.message, extra={"code": exc.code})
            await self.surface.say(reference, error_text(exc))

    async def _run(self, kind: str, activity: Activity, reference: dict[str, Any]) -> None:
        if kind == "message":
            # One conversation's messages one at a time: two quick first messages make one session.
            async with self._ordering.hold(conversation_id(activity)):
                await self.messages.handle(activity, reference)
        elif kind == "submit" and is_settings(activity.value):
            await self.settings.submitted(activity, reference)
        elif kind == "submit":
            await self.clicks.submitted(activity, reference, deferred=False)
        elif kind == "action":
            await self.clicks.submitted(activity, reference, deferred=True)
        elif kind == "installed":
            await self.surface.send(reference, card=help_card())
        else:
            log.warning("unknown Teams delivery kind %s", kind)
