"""What Teams hears of the engine's events, after commit (R22): typing while a turn waits and the
reply streamed into personal chats as it is written (R37, `chat_streams.py`), the assistant's reply
and a lane edit per chat turn, what was said on another surface, escalations posted to the account's Teams
escalation channel with **Pick up** and edited for everyone on claim (R23), resolutions and ticket
writebacks told in the conversation. It acts on every session that lives in Teams, wherever the
event started; the Slack notifier does the Slack copies itself."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from adapters.teams import replies as r
from adapters.teams.answers import AnswerDelivery
from adapters.teams.cards import escalation_post_card, pickup_result_text
from adapters.teams.cards_base import safe
from adapters.teams.chat_streams import ChatStreams
from adapters.teams.surface import ESCALATION_CHANNEL_KEY, SEND_ERRORS, TeamsSurface
from adapters.teams.typing import TypingIndicators
from core import views
from core.events import (
    EscalationClaimed,
    EscalationCreated,
    MessagePosted,
    ReplyProgress,
    SessionResolved,
    TurnAnswered,
    TurnQueued,
    WritebackFinished,
)
from core.notify import QuietNotifier
from core.platform import PLATFORM_NAMES, TEAMS
from core.surfaces import escalation_key

log = logging.getLogger("rflow.teams")


class TeamsNotifier(QuietNotifier):
    def __init__(self, surface: TeamsSurface) -> None:
        self.surface = surface
        self.engine = surface.engine
        self.typing = TypingIndicators(surface.sender, limit_s=surface.engine.deps.settings.turn_deadline_seconds)
        self.streams = ChatStreams(surface, self.typing)
        self.answers = AnswerDelivery(surface, self.streams, self.typing)
        self._answering: set[asyncio.Task[Any]] = set()

    async def turn_queued(self, event: TurnQueued) -> None:
        """Typing (or, in a personal chat, the stream's informative update) at once, sent by a
        background task: the engineer's message is not held up by Teams."""
        self.streams.queued(event)

    async def reply_progress(self, event: ReplyProgress) -> None:
        """The reply so far: recorded for the stream's background task; the turn does not wait."""
        self.streams.progress(event)

    async def turn_answered(self, event: TurnAnswered) -> None:
        """The final answer (ending its stream), then the lane."""
        if await self._tracked(self.answers.answered(event)):
            await self._refresh(event.account_id, event.session_id)

    async def drain(self) -> None:
        """Wait for answers being delivered right now (tests settle on this)."""
        while pending := [t for t in self._answering if not t.done()]:  # a done task leaves via its callback
            await asyncio.gather(*pending, return_exceptions=True)
        self._answering.difference_update([t for t in self._answering if t.done()])

    async def close(self) -> None:
        await self.drain()
        await self.streams.close()
        await self.typing.close()

    async def _tracked(self, work: Coroutine[Any, Any, bool]) -> bool:
        task = asyncio.ensure_future(work)
        self._answering.add(task)
        try:
            return await asyncio.shield(task)
        finally:
            if task.done():
                self._answering.discard(task)
            else:  # the caller was cancelled; the answer still goes out
                task.add_done_callback(self._answering.discard)

    async def message_posted(self, event: MessagePosted) -> None:
        """A message from another surface (Slack, the console) is repeated in the Teams conversation."""
        if event.via == TEAMS:
            return
        line = r.FROM_OTHER_SURFACE.format(author=safe(event.author), where=PLATFORM_NAMES.get(event.via, event.via),
                                           text=safe(event.text))
        await self.surface.say_in_session(event.account_id, event.session_id, line, event.thread_ref)

    async def escalation_created(self, event: EscalationCreated) -> None:
        await self._refresh(event.account_id, event.session_id)
        channel = await self.engine.surfaces.get(account_id=event.account_id, surface=TEAMS, key=ESCALATION_CHANNEL_KEY)
        where = r.ESCALATION_NO_CHANNEL
        if channel is not None:
            card = escalation_post_card(views.created_post(event))
            try:
                thread, activity_id = await self.surface.sender.send_to_channel(channel.ref, card)
            except SEND_ERRORS as exc:
                log.warning("posting escalation %s to the Teams channel failed: %s", event.handoff_id, exc)
            else:
                await self.engine.surfaces.put(account_id=event.account_id, surface=TEAMS,
                                               key=escalation_key(event.handoff_id), session_id=event.session_id,
                                               ref={"conversation": thread, "activity_id": activity_id,
                                                    **views.post_record(event)})
                where = r.ESCALATION_POSTED
            if event.target_id is not None:
                await self._tell_target(event, channel.ref, card)
        await self.surface.say_in_session(event.account_id, event.session_id,
                                          r.ESCALATED.format(by=safe(event.escalated_by), reason=safe(event.reason),
                                                             where=where), event.thread_ref)

    async def _tell_target(self, event: EscalationCreated, channel: dict[str, Any], card: dict[str, Any]) -> None:
        """R22: the named target gets the escalation, with Pick up, in their personal chat. The
        channel's reference says which service URL and tenant to open it in."""
        service_url = str(channel.get("serviceUrl") or "")
        tenant = str((channel.get("conversation") or {}).get("tenantId") or "")
        if not service_url or not tenant:
            return
        for user_id in await self.engine.tenants.platform_user_ids(account_id=event.account_id,
                                                                   member_id=event.target_id or 0, platform=TEAMS):
            try:
                chat = await self.surface.sender.create_personal_chat(service_url, tenant, user_id)
                await self.surface.sender.send(chat, text=r.ESCALATED_TO_YOU.format(by=safe(event.escalated_by),
                                                                                   id=event.session_id), card=card)
            except SEND_ERRORS as exc:
                log.warning("telling the escalation's target in Teams failed: %s", exc)

    async def escalation_claimed(self, event: EscalationClaimed) -> None:
        """Every Teams copy of the post says who has it (the Slack notifier edits Slack's)."""
        stored = await self.engine.surfaces.get(account_id=event.account_id, surface=TEAMS,
                                                key=escalation_key(event.handoff_id))
        if stored is not None:
            card = escalation_post_card(views.claimed_post(event, stored.ref))
            await self.surface.update(dict(stored.ref["conversation"]), str(stored.ref["activity_id"]), card)
        if await self.surface.say_in_session(event.account_id, event.session_id,
                                             pickup_result_text(views.pickup_result(event)), event.thread_ref):
            await self._refresh(event.account_id, event.session_id)

    async def session_resolved(self, event: SessionResolved) -> None:
        said = r.RESOLVED_WORDS.get(event.outcome, event.outcome)
        line = r.RESOLVED.format(name=safe(event.resolved_by), said=said, outcome=event.outcome)
        if await self.surface.say_in_session(event.account_id, event.session_id, line, event.thread_ref):
            await self._refresh(event.account_id, event.session_id)

    async def writeback_finished(self, event: WritebackFinished) -> None:
        line = r.WRITEBACK.format(ticket=event.ticket_id, message=event.message)
        if await self.surface.say_in_session(event.account_id, event.session_id, line, event.thread_ref):
            await self._refresh(event.account_id, event.session_id)

    async def _refresh(self, account_id: int, session_id: int) -> None:
        if await self.surface.has_lane(account_id, session_id):
            await self.surface.refresh_lane(account_id, session_id)
