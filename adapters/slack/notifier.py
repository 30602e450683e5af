"""What Slack hears of the engine's events, after commit (R22): "is thinking…" in the thread as soon
as an engineer's message waits for the assistant, the reply streamed while it is written and then
finished (R37: streams.py, replies.py), plus one lane update per chat turn; escalations posted to
the account's escalation channel with Pick up, updated for everyone on claim (R23); resolutions and
ticket writebacks told in the thread. The turn events act on sessions living in a Slack thread (or
with a Slack lane); the others on every session that has a Slack lane, wherever the event started."""

from __future__ import annotations

import logging

from adapters.slack import blocks
from adapters.slack.replies import ReplyDelivery
from adapters.slack.streams import ReplyStreams
from adapters.slack.surface import SlackSurface
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
from core.platform import PLATFORM_NAMES, SLACK
from core.surfaces import escalation_key

log = logging.getLogger("rflow.slack")
CHANNEL_PREF = "slack_escalation_channel"
RESOLVED = {"resolved_local": "resolved here (no ticket linked, nothing posted to the PSA)",
            "writeback_pending": "resolved; the note is on its way to the ticket"}


class SlackNotifier(QuietNotifier):
    def __init__(self, surface: SlackSurface) -> None:
        self.surface = surface
        self.engine = surface.engine
        self.streams = ReplyStreams(surface)
        self.replies = ReplyDelivery(surface, self.streams)

    async def turn_queued(self, event: TurnQueued) -> None:
        """Within a second of the message (R37): one setStatus call, skipped while rate limited."""
        thread = await self.surface.session_thread(event.account_id, event.session_id, event.thread_ref)
        if thread is not None:
            await self.surface.status.show(thread)

    async def reply_progress(self, event: ReplyProgress) -> None:
        """The reply so far: recorded for the stream's background task; the turn does not wait."""
        self.streams.progress(event)

    async def turn_answered(self, event: TurnAnswered) -> None:
        """The final answer (finishing its stream), then the lane."""
        if await self.replies.answered(event):
            await self.surface.refresh_lane(event.account_id, event.session_id)

    async def close(self) -> None:
        await self.streams.close()

    async def message_posted(self, event: MessagePosted) -> None:
        """A message from another surface (Teams, the console) is repeated in the Slack thread."""
        if event.via == SLACK:
            return
        where = PLATFORM_NAMES.get(event.via, event.via)
        await self.surface.say_in_session(event.account_id, event.session_id, f"*{event.author}* (in {where}): {event.text}")

    async def escalation_created(self, event: EscalationCreated) -> None:
        await self.surface.refresh_lane(event.account_id, event.session_id)
        team = await self.surface.team_for_account(event.account_id)
        if team is None:
            return
        channel = await self._escalation_channel(event.account_id)
        where = "no escalation channel is set (an admin sets one with /rf settings)"
        text, post = blocks.escalation_post_blocks(views.created_post(event))
        if channel:
            ts = await self.surface.gateway.post(team, channel, text, blocks=post)
            where = "not posted to the escalation channel (Slack refused; it waits in /rf queue)"
            if ts:
                await self.engine.surfaces.put(account_id=event.account_id, surface=SLACK, key=escalation_key(event.handoff_id),
                                               session_id=event.session_id,
                                               ref={"team": team, "channel": channel, "ts": ts, **views.post_record(event)})
                where = "posted to the escalation channel for pickup"
        await self.surface.say_in_session(event.account_id, event.session_id,
                                          f":rotating_light: {event.escalated_by} escalated this session: {event.reason}. It is {where}.")
        if event.target_id is not None:  # R22: the named target hears it directly
            for user in await self.engine.tenants.platform_user_ids(account_id=event.account_id, member_id=event.target_id,
                                                                    platform=SLACK):
                await self.surface.gateway.dm(team, user, f"{event.escalated_by} escalated session #{event.session_id} to you. {text}",
                                              blocks=post)

    async def escalation_claimed(self, event: EscalationClaimed) -> None:
        ref = await self.engine.surfaces.get(account_id=event.account_id, surface=SLACK, key=escalation_key(event.handoff_id))
        if ref is not None:
            text, post = blocks.escalation_post_blocks(views.claimed_post(event, ref.ref))
            await self.surface.gateway.update(ref.ref["team"], ref.ref["channel"], ref.ref["ts"], text, blocks=post)
        if await self.surface.say_in_session(event.account_id, event.session_id,
                                             blocks.pickup_result_text(views.pickup_result(event))):
            await self.surface.refresh_lane(event.account_id, event.session_id)

    async def session_resolved(self, event: SessionResolved) -> None:
        said = RESOLVED.get(event.outcome, event.outcome)
        if await self.surface.say_in_session(event.account_id, event.session_id,
                                             f":white_check_mark: {event.resolved_by} {said}."):
            await self.surface.refresh_lane(event.account_id, event.session_id)

    async def writeback_finished(self, event: WritebackFinished) -> None:
        await self.surface.say_in_session(event.account_id, event.session_id,
                                          f"Ticket #{event.ticket_id}: {event.message}")

    async def _escalation_channel(self, account_id: int) -> str | None:
        value = (await self.engine.accounts.preferences_for_surface(account_id=account_id)).get(CHANNEL_PREF)
        return str(value) if value else None
