"""The assistant's final answer in the thread (R37; issue 10 §2, §3).

The final text is authoritative. If a stream is open for the reply it is ended with chat.stopStream
carrying the rest of the text; if the stream failed or expired, or the text no longer extends what
was streamed, or it is too long for one message, the streamed message is rewritten with chat.update
(and any further parts posted), so the thread never shows the reply twice. Without a stream the
reply is posted as before, in parts when long. A reply that cannot be delivered is logged and told
to its author (a DM, else an in-app notification): it is never dropped silently.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from adapters.slack import labels as w
from adapters.slack.limits import message_chunks
from adapters.slack.streams import STREAM_TEXT, ReplyStream, ReplyStreams, stream_text
from adapters.slack.thread import Thread
from core.events import TurnAnswered
from core.platform import SLACK

if TYPE_CHECKING:
    from adapters.slack.surface import SlackSurface

log = logging.getLogger("rflow.slack")
UNDELIVERABLE = "reply_undeliverable"
STREAM_ENDED = "message_not_in_streaming_state"  # Slack ended the stream (it expired, or was stopped)


def final_text(event: TurnAnswered) -> str:
    if event.cancelled:
        return w.TURN_STOPPED
    return event.reply if event.reply else w.ASSISTANT_FAILED.format(reason=event.failure)


class ReplyDelivery:
    def __init__(self, surface: SlackSurface, streams: ReplyStreams) -> None:
        self.surface = surface
        self.gateway = surface.gateway
        self.streams = streams

    async def answered(self, event: TurnAnswered) -> bool:
        """Deliver the answer; False when the session has no Slack thread (nothing to do here)."""
        stream = await self.streams.finish(event.reply_id) if event.reply_id else None
        thread = stream.thread if stream is not None and stream.thread is not None else \
            await self.surface.session_thread(event.account_id, event.session_id, event.thread_ref)
        if thread is None:
            return False
        if event.redelivery and await self._shown_before(event):
            return True  # the worker that died had posted it; the lane still gets its refresh
        text = final_text(event)
        status = self.surface.status
        await status.begin_reply(thread, since=stream.started_at if stream is not None else None)
        if event.cancelled:
            await status.clear(thread)
        problem = await self._deliver(thread, stream, text)
        if problem is None:
            await self._record_shown(event)
            await status.after_post(thread)  # a message that came in meanwhile still waits
            return True
        await status.clear(thread)
        log.error("the assistant's reply in session %s could not be delivered to %s: %s",
                  event.session_id, thread.ref, problem,
                  extra={"session_id": event.session_id, "reply_id": event.reply_id, "reason": problem})
        if event.reply and not event.cancelled:
            await self._tell_author(event, thread, text, problem)
        return True

    async def _shown_before(self, event: TurnAnswered) -> bool:
        return await self.surface.engine.surfaces.delivered(account_id=event.account_id, surface=SLACK,
                                                            reply_id=event.reply_id)

    async def _record_shown(self, event: TurnAnswered) -> None:
        """So a worker that takes over this reply's turns, should this one die now, does not post it
        again (the window left is this one write)."""
        if not event.reply_id or event.cancelled:
            return
        try:
            await self.surface.engine.surfaces.mark_delivered(account_id=event.account_id, surface=SLACK,
                                                              reply_id=event.reply_id, session_id=event.session_id)
        except Exception:  # the reply is out; at worst a taker posts it once more
            log.exception("could not record that reply %s was delivered", event.reply_id)

    async def _deliver(self, thread: Thread, stream: ReplyStream | None, text: str) -> str | None:
        """None once the thread shows `text`; otherwise what went wrong."""
        if stream is None or stream.ts is None:
            return await self.surface.deliver(thread, text, title="Assistant reply")
        final = stream_text(text)
        if stream.broken != STREAM_ENDED:  # still open on Slack's side (as far as we know): end it
            fits = final.startswith(stream.sent) and len(final) <= STREAM_TEXT
            rest = final[len(stream.sent):] if fits else None
            stopped = await self.gateway.stop_stream(thread.team, thread.channel, stream.ts, rest)
            if stopped.ok and fits:
                return None
            if not stopped.ok:
                log.info("chat.stopStream of reply %s failed (%s); rewriting the message", stream.reply_id, stopped.error)
        return await self._rewrite(thread, stream.ts, text)

    async def _rewrite(self, thread: Thread, ts: str, text: str) -> str | None:
        """The streamed message becomes the reply's first part (chat.update); the rest is posted."""
        delivery = message_chunks(text)
        if not delivery.messages:
            return None
        first, *rest = delivery.messages
        updated = await self.gateway.update_outcome(thread.team, thread.channel, ts, first[0], blocks=first[1])
        if not updated.ok:
            return await self.surface.deliver(thread, text, title="Assistant reply")  # the partial stays; the whole follows
        if delivery.snippet is not None:
            if await self.gateway.snippet(thread.team, thread.channel, thread_ts=thread.ts, title="Assistant reply",
                                          content=delivery.snippet):
                return None
            return await self.surface.deliver(thread, text, title="Assistant reply", every_message=True)
        for fallback, chunk_blocks in rest:
            posted = await self.gateway.post_outcome(thread.team, thread.channel, fallback, blocks=chunk_blocks,
                                                     thread_ts=thread.ts)
            if not posted.ok:
                return posted.error
        return None

    async def _tell_author(self, event: TurnAnswered, thread: Thread, text: str, problem: str) -> None:
        """A DM with the reply, else an in-app notification; the log line is already written."""
        if event.author_id is not None:
            users = await self.surface.engine.tenants.platform_user_ids(account_id=event.account_id,
                                                                         member_id=event.author_id, platform=SLACK)
            note = w.UNDELIVERABLE_DM.format(id=event.session_id, reason=problem)
            for user in users[:1]:
                if await self.gateway.dm(thread.team, user, note) is not None:
                    await self.surface.deliver_dm(thread.team, user, message_chunks(text), title="Assistant reply")
                    return
        await self._notify_in_app(event, problem)

    async def _notify_in_app(self, event: TurnAnswered, problem: str) -> None:
        if event.author_id is None:
            return  # nobody to tell: the error log line is all there is
        try:
            await self.surface.engine.notices.leave(
                account_id=event.account_id, member_id=event.author_id, kind=UNDELIVERABLE,
                text=w.UNDELIVERABLE_NOTE.format(id=event.session_id, reason=problem), session_id=event.session_id)
        except Exception:
            log.exception("could not record the undeliverable reply of session %s", event.session_id)
