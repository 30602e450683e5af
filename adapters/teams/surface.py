"""What every Teams handler shares: who is calling (tenant → account, user → member, with the
verified email from Teams' member lookup), which session a conversation holds, the task-lane card of
a session (posted once, then edited in place for everyone), and saying things in a conversation.

State always comes from the engine, so a failed edit heals on the next change. Sends go through
`TeamsSender` (paced per conversation, retried as Teams asks); a send that still fails is logged and
reported as None/False, never raised, so a delivery is never retried into a second session (R22).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Any

import aiohttp
from microsoft_agents.activity import Activity

from adapters.teams import replies as r
from adapters.teams.activities import (
    conversation_id,
    conversation_key,
    conversation_key_of_thread,
    tenant_of,
    user_id_of,
)
from adapters.teams.cards import CardRender, message_chunks, render_lane
from adapters.teams.pacing import TeamsApiError
from adapters.teams.proactive import TeamsMember, TeamsSender
from adapters.teams.references import conversation_reference
from core.access import WORKERS, Actor
from core.cards import lane_card as neutral_lane
from core.engine import Engine
from core.errors import DomainError, InvalidInput
from core.models import SessionStatus
from core.platform import TEAMS
from core.sessions import SessionView
from core.surfaces import lane_key
from core.tenants import PlatformUser, SignedIn

log = logging.getLogger("rflow.teams")

MEMBER_TTL_S = 600.0
MAX_CACHED_MEMBERS = 10_000
MAX_TARGETS = 100
ESCALATION_CHANNEL_KEY = "escalation_channel"  # SurfaceRef: the account's Teams escalation channel
SEND_ERRORS = (TeamsApiError, aiohttp.ClientError, asyncio.TimeoutError, ValueError)


class LookupFailed(DomainError):
    """Teams could not say who is calling; nothing is done rather than sign someone in half-known."""

    code = "unavailable"


def _digest(texts: tuple[str, ...]) -> str:
    return hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16] if texts else ""


class TeamsSurface:
    def __init__(self, engine: Engine, sender: TeamsSender, *, member_ttl_s: float = MEMBER_TTL_S) -> None:
        self.engine = engine
        self.sender = sender
        self.member_ttl_s = member_ttl_s
        self._members: dict[tuple[str, str], tuple[float, TeamsMember | None]] = {}

    # Who is calling ------------------------------------------------------------------------------

    async def member(self, activity: Activity) -> TeamsMember | None:
        """Teams' own record of the sender (its email matches people across platforms), cached
        for a few minutes; None when Teams does not know them in this conversation. When Teams
        cannot be asked, the caller is refused (LookupFailed) rather than signed in without it."""
        sender = activity.from_property.id if activity.from_property else ""
        key = (tenant_of(activity), sender or "")
        cached = self._members.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.member_ttl_s:
            return cached[1]
        try:
            found = await self.sender.get_member(conversation_reference(activity), sender or "")
        except SEND_ERRORS as exc:
            # Signing in without the email could make a second member of someone known on Slack.
            log.warning("Teams member lookup for %s failed: %s", sender, exc)
            raise LookupFailed(r.LOOKUP_FAILED) from exc
        if len(self._members) >= MAX_CACHED_MEMBERS:
            now = time.monotonic()
            self._members = {k: v for k, v in self._members.items() if now - v[0] < self.member_ttl_s}
        self._members[key] = (time.monotonic(), found)
        return found

    async def platform_user(self, activity: Activity) -> PlatformUser:
        tenant = tenant_of(activity)
        if not tenant or not user_id_of(activity):
            raise InvalidInput("This Teams message carries no tenant or sender; I can't tell who is asking.")
        found = await self.member(activity)
        name = (activity.from_property.name if activity.from_property else None) or (found.name if found else None)
        return PlatformUser(platform=TEAMS, tenant_id=tenant, tenant_name="", user_id=user_id_of(activity),
                            name=name or user_id_of(activity), email=found.email if found else None,
                            platform_admin=False)

    async def sign_in(self, activity: Activity) -> SignedIn:
        """The member behind a Teams user; a tenant's first contact creates its account."""
        return await self.engine.tenants.sign_in(await self.platform_user(activity))

    # Which session a conversation holds -------------------------------------------------------------

    async def bind(self, account_id: int, reference: dict[str, Any], session_id: int | None) -> None:
        """Remember the conversation (its reference, to answer later) and the session it holds."""
        key = conversation_key(reference["conversation"]["id"])
        await self.engine.surfaces.put(account_id=account_id, surface=TEAMS, key=key, session_id=session_id,
                                       ref={"reference": reference, "session_id": session_id})

    async def bound_session(self, account_id: int, activity: Activity) -> int | None:
        row = await self.engine.surfaces.get(account_id=account_id, surface=TEAMS,
                                             key=conversation_key(conversation_id(activity)))
        value = row.ref.get("session_id") if row else None
        return value if isinstance(value, int) else None

    async def conversation_of(self, account_id: int, session_id: int, thread_ref: str | None = None) -> dict[str, Any] | None:
        """Where the session lives in Teams: its lane's conversation; before the lane is posted,
        the conversation it started in (so an early assistant reply is not lost)."""
        lane = await self.engine.surfaces.get(account_id=account_id, surface=TEAMS, key=lane_key(session_id))
        if lane is not None:
            return dict(lane.ref["conversation"])
        key = conversation_key_of_thread(thread_ref)
        if key is None:
            return None
        row = await self.engine.surfaces.get(account_id=account_id, surface=TEAMS, key=key)
        return dict(row.ref["reference"]) if row and row.ref.get("reference") else None

    # The task lane -----------------------------------------------------------------------------------

    async def lane_render(self, account_id: int, session_id: int) -> CardRender:
        view = await self.engine.sessions.view_for_surface(account_id=account_id, session_id=session_id)
        return render_lane(neutral_lane(view), targets=await self._targets(account_id, view))

    async def colleagues(self, account_id: int, session_id: int) -> list[tuple[int, str]]:
        """Whom the session's escalation form offers, for a form card of its own."""
        try:
            view = await self.engine.sessions.view_for_surface(account_id=account_id, session_id=session_id)
        except DomainError:
            return []
        return await self._targets(account_id, view)

    async def _targets(self, account_id: int, view: SessionView) -> list[tuple[int, str]]:
        """Colleagues the escalation form offers. Read as the session's handler: the lane is
        rendered for an engine event, with no requesting member, and the handler may read it."""
        if view.session.status not in (SessionStatus.ACTIVE, SessionStatus.PARKED):
            return []
        try:
            members = await self.engine.accounts.members(
                actor=Actor(account_id=account_id, member_id=view.session.handler_id))
        except DomainError:
            return []
        return [(m.id or 0, m.name) for m in members
                if m.role in WORKERS and m.id != view.session.handler_id][:MAX_TARGETS]

    async def post_lane(self, account_id: int, session_id: int, reference: dict[str, Any]) -> str | None:
        """Post the lane card into `reference`'s conversation and make it the session's Teams lane."""
        render = await self.lane_render(account_id, session_id)
        activity_id = await self.send(reference, card=render.card)
        if activity_id is None:
            return None
        await self._post_overflow(reference, render.overflow)
        await self.engine.surfaces.put(account_id=account_id, surface=TEAMS, key=lane_key(session_id),
                                       session_id=session_id,
                                       ref={"conversation": reference, "activity_id": activity_id,
                                            "overflow": _digest(render.overflow)})
        again = await self.lane_render(account_id, session_id)  # the assistant may have answered meanwhile
        if again.card != render.card:
            await self.update(reference, activity_id, again.card)
        return activity_id

    async def refresh_lane(self, account_id: int, session_id: int) -> dict[str, Any]:
        """Re-render the lane from the database, edit the lane message for everyone (when there is
        one), and return the card (an invoke answers with it)."""
        render = await self.lane_render(account_id, session_id)
        lane = await self.engine.surfaces.get(account_id=account_id, surface=TEAMS, key=lane_key(session_id))
        if lane is None:
            return render.card
        reference = dict(lane.ref["conversation"])
        await self.update(reference, str(lane.ref["activity_id"]), render.card)
        digest = _digest(render.overflow)
        if digest and digest != lane.ref.get("overflow"):
            await self._post_overflow(reference, render.overflow)
            await self.engine.surfaces.put(account_id=account_id, surface=TEAMS, key=lane_key(session_id),
                                           session_id=session_id, ref={**lane.ref, "overflow": digest})
        return render.card

    async def has_lane(self, account_id: int, session_id: int) -> bool:
        return await self.engine.surfaces.get(account_id=account_id, surface=TEAMS, key=lane_key(session_id)) is not None

    async def _post_overflow(self, reference: dict[str, Any], overflow: tuple[str, ...]) -> None:
        for text in overflow:
            await self.say(reference, text)

    # Saying things -----------------------------------------------------------------------------------

    async def send(self, reference: dict[str, Any], *, text: str | None = None,
                   card: dict[str, Any] | None = None) -> str | None:
        try:
            return await self.sender.send(reference, text=text, card=card)
        except SEND_ERRORS as exc:
            log.warning("Teams send to %s failed: %s", reference.get("conversation", {}).get("id"), exc)
            return None

    async def update(self, reference: dict[str, Any], activity_id: str, card: dict[str, Any] | None = None, *,
                     text: str | None = None) -> bool:
        try:
            await self.sender.update(reference, activity_id, card=card, text=text)
        except SEND_ERRORS as exc:
            log.warning("Teams update of %s failed: %s", activity_id, exc)
            return False
        return True

    async def say(self, reference: dict[str, Any], text: str) -> bool:
        """Long text goes as several messages, each well under Teams' size limit."""
        sent = True
        for chunk in message_chunks(text) or [text]:
            sent = await self.send(reference, text=chunk) is not None and sent
        return sent

    async def say_in_session(self, account_id: int, session_id: int, text: str, thread_ref: str | None = None) -> bool:
        """Say `text` where the session lives in Teams; False when it has no Teams conversation."""
        reference = await self.conversation_of(account_id, session_id, thread_ref)
        if reference is None:
            return False
        await self.say(reference, text)
        return True
