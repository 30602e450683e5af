"""Teams messages, run from the inbox after the connector has its answer: commands (help, new,
queue, stats, escalations here, connect, settings) and chat turns. In a channel an @mention starts a
session in that reply chain and later messages in the chain are its turns; in a personal or group
chat the conversation holds one current session at a time. Refusals are raised as domain errors; the
processor says them in the conversation."""

from __future__ import annotations

import logging
from typing import Any

from microsoft_agents.activity import Activity

from adapters.teams import replies as r
from adapters.teams.activities import (
    CHANNEL,
    PERSONAL,
    Command,
    bot_mentioned,
    clean_text,
    conversation_id,
    parse_command,
    scope_of,
    tenant_of,
    thread_ref,
)
from adapters.teams.cards import help_card, queue_card, stats_card
from adapters.teams.settings import PsaSettingsCards
from adapters.teams.surface import ESCALATION_CHANNEL_KEY, TeamsSurface
from core.access import require_manager
from core.errors import InvalidInput, NotFound
from core.metric import PERIODS, parse_period
from core.models import SessionStatus
from core.platform import TEAMS
from core.tenants import SignedIn

log = logging.getLogger("rflow.teams")


class MessageHandlers:
    def __init__(self, surface: TeamsSurface, settings: PsaSettingsCards | None = None) -> None:
        self.surface = surface
        self.engine = surface.engine
        self.settings = settings or PsaSettingsCards(surface)

    async def handle(self, activity: Activity, reference: dict[str, Any]) -> None:
        text = clean_text(activity)
        command = parse_command(text)
        if command is not None and command.name == "connect":
            # Before any sign-in: for a tenant we have not seen, signing in would make a new account.
            await self.connect(activity, reference, command.args)
            return
        signed = await self.surface.sign_in(activity)
        if command is not None:
            await self.command(command, activity, reference, signed)
            return
        await self.chat(activity, reference, signed, text)

    async def command(self, command: Command, activity: Activity, reference: dict[str, Any], signed: SignedIn) -> None:
        actor = signed.actor
        if command.name == "help":
            await self.surface.send(reference, card=help_card())
        elif command.name == "queue":
            await self.surface.send(reference, card=queue_card(await self.engine.handoffs.queue(actor=actor)))
        elif command.name == "stats":
            periods = [parse_period(command.args)] if command.args else sorted(PERIODS)
            metrics = await self.engine.metric.pickups(actor=actor, periods=periods)
            await self.surface.send(reference, card=stats_card(metrics))
        elif command.name == "settings":
            await self.settings.send(signed, reference)
        elif command.name == "escalations_here":
            await self.escalations_here(activity, reference, signed)
        elif command.name == "new":
            current = await self._current(activity, signed)
            if scope_of(activity) == CHANNEL and current is not None:
                raise InvalidInput(r.CHAIN_HAS_SESSION.format(id=current))
            await self.start(activity, reference, signed, command.args, current)

    async def connect(self, activity: Activity, reference: dict[str, Any], code: str) -> None:
        user = await self.surface.platform_user(activity)
        signed = await self.engine.tenants.redeem_connect_code(code, user)
        await self.surface.say(reference, r.CONNECTED.format(account=signed.account.name, name=signed.member.name,
                                                             role=signed.member.role))

    async def escalations_here(self, activity: Activity, reference: dict[str, Any], signed: SignedIn) -> None:
        require_manager(signed.member)
        if scope_of(activity) != CHANNEL:
            raise InvalidInput(r.ESCALATIONS_IN_CHANNEL)
        await self.engine.surfaces.put(account_id=signed.actor.account_id, surface=TEAMS, key=ESCALATION_CHANNEL_KEY,
                                       ref=reference)
        log.info("account %s: Teams escalation channel set", signed.actor.account_id)
        await self.surface.say(reference, r.ESCALATIONS_HERE.format(account=signed.account.name))

    async def _current(self, activity: Activity, signed: SignedIn) -> int | None:
        """The session this conversation holds: a reply chain keeps its session for good; a chat's
        session stops being current once resolved (the next message starts a new one)."""
        account = signed.actor.account_id
        sid = await self.surface.bound_session(account, activity)
        if sid is None and scope_of(activity) == CHANNEL:
            found = await self.engine.sessions.find_by_thread(
                actor=signed.actor, thread_ref=thread_ref(tenant_of(activity), conversation_id(activity)))
            sid = found.id if found else None
        if sid is None or scope_of(activity) == CHANNEL:
            return sid
        try:
            view = await self.engine.sessions.view(actor=signed.actor, session_id=sid)
        except NotFound:
            return None
        return None if view.session.status == SessionStatus.RESOLVED else sid

    async def chat(self, activity: Activity, reference: dict[str, Any], signed: SignedIn, text: str) -> None:
        sid = await self._current(activity, signed)
        if sid is not None:
            if not text:
                return  # a bare mention in a session's conversation says nothing
            posted = await self.engine.sessions.post_message(actor=signed.actor, session_id=sid, text=text, via=TEAMS)
            if posted.resumed:
                await self.surface.refresh_lane(signed.actor.account_id, sid)
            if posted.redacted:
                await self.surface.say(reference, r.REDACTED.format(n=posted.redacted))
            return
        if scope_of(activity) != PERSONAL and not bot_mentioned(activity):
            return  # a conversation that is no session of ours, and nobody asked us
        await self.start(activity, reference, signed, text, None)

    async def start(self, activity: Activity, reference: dict[str, Any], signed: SignedIn, problem: str,
                    current: int | None) -> None:
        if not problem.strip():
            raise InvalidInput(r.NEED_PROBLEM)
        account = signed.actor.account_id
        # The conversation is remembered first: the assistant may answer before the lane is posted.
        await self.surface.bind(account, reference, current)
        posted = await self.engine.sessions.start(actor=signed.actor, problem=problem, surface=TEAMS,
                                                  thread_ref=thread_ref(tenant_of(activity), conversation_id(activity)))
        sid = posted.session.id or 0
        await self.surface.bind(account, reference, sid)
        await self.surface.post_lane(account, sid, reference)
        notes = [r.STARTED.format(id=sid)]
        if posted.ticket_suggestion:
            notes.append(r.LINK_OFFER.format(ticket=posted.ticket_suggestion))
        if posted.turn_id is None:
            notes.append(r.ASSISTANT_OFF)
        if posted.redacted:
            notes.append(r.REDACTED.format(n=posted.redacted))
        await self.surface.say(reference, "\n\n".join(notes))
