"""The assistant's answer in Teams: exactly one visible reply per turn (R37).

With a stream open for the turn (personal chats, `chat_streams.py`) the stream is ended with the
final message (streamType `final`, the final text: it is authoritative and may differ from what was
streamed). When the stream was refused or broke, the reply is still posted once: if Teams already
shows part of it, that streamed message is edited to the whole reply (as the Agents SDK's
`StreamingResponse` does after a stream timed out: `_update_activity` of the stream's activity);
otherwise, and when that edit fails, it is sent as a normal message. Without a stream (channels,
group chats) it is sent as before. A cancelled turn says that it was stopped, ending its stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from adapters.teams import replies as r
from adapters.teams import streaming
from adapters.teams.cards_base import message_chunks, safe
from adapters.teams.chat_streams import ChatStream, ChatStreams, conversation_of
from adapters.teams.surface import SEND_ERRORS, TeamsSurface
from adapters.teams.typing import TypingIndicators
from core.events import TurnAnswered
from core.platform import TEAMS

log = logging.getLogger("rflow.teams")


def answer_text(event: TurnAnswered, stream: ChatStream | None) -> str:
    if event.cancelled:
        shown = stream.shown if stream is not None and stream.visible else ""
        return f"{shown}\n\n{r.TURN_STOPPED}" if shown else r.TURN_STOPPED
    if event.reply:
        return safe(event.reply)
    return r.ASSISTANT_FAILED.format(reason=event.failure)


class AnswerDelivery:
    def __init__(self, surface: TeamsSurface, streams: ChatStreams, typing: TypingIndicators) -> None:
        self.surface = surface
        self.sender = surface.sender
        self.streams = streams
        self.typing = typing

    async def answered(self, event: TurnAnswered) -> bool:
        """Post the answer where the session lives; False when it has no Teams conversation."""
        stream = await self.streams.finish(event)
        reference = stream.reference if stream is not None and stream.reference else (
            await self.surface.conversation_of(event.account_id, event.session_id, event.thread_ref))
        if reference is None:
            return False
        key = conversation_of(reference)
        await self.typing.stop(key)
        engine = self.surface.engine
        if event.redelivery and await engine.surfaces.delivered(account_id=event.account_id, surface=TEAMS,
                                                                 reply_id=event.reply_id):
            return True  # the worker that died had posted it; the lane still gets its refresh
        text = answer_text(event, stream)
        shown = stream is not None and stream.stream_id is not None and await self._end_stream(stream, reference, text)
        if not shown:
            shown = await self.surface.say(reference, text)
        if shown and event.reply_id and not event.cancelled:
            await self._record_shown(event)
        if stream is not None and stream.next_queued and not event.cancelled:
            self.typing.keep(key, reference)  # a message already waits for the next turn
        return True

    async def _record_shown(self, event: TurnAnswered) -> None:
        """So a worker that takes over this reply's turns, should this one die now, does not post it again."""
        try:
            await self.surface.engine.surfaces.mark_delivered(account_id=event.account_id, surface=TEAMS,
                                                              reply_id=event.reply_id, session_id=event.session_id)
        except Exception:  # the reply is out; at worst a taker posts it once more
            log.exception("could not record that reply %s was delivered", event.reply_id)

    async def _end_stream(self, s: ChatStream, reference: dict[str, Any], text: str) -> bool:
        """End the stream with the reply (a long one continues in normal messages); False when
        nothing of it is visible and the whole reply must be sent."""
        assert s.stream_id is not None
        first, *rest = message_chunks(text) or [text]
        done = False
        if s.broken is None:
            if s.last_sent and (pause := s.last_sent + self.streams.interval - time.monotonic()) > 0:
                await asyncio.sleep(pause)  # one request a second on the stream, the last one too
            try:
                await self.sender.send_activity(reference, streaming.final(first, stream_id=s.stream_id))
                done = True
            except SEND_ERRORS as exc:
                s.broken = streaming.reason(exc)
                log.info("ending the Teams stream of session %s failed: %s", s.session_id, s.broken)
        if not done and s.visible:
            done = await self.surface.update(reference, s.stream_id, text=first)
        if not done:
            return False
        for chunk in rest:
            await self.surface.send(reference, text=chunk)
        return True
