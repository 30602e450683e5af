"""The assistant's reply streamed into the Slack thread while it is written (R37).

One stream per reply: the first ReplyProgress opens it with chat.startStream (recipient_team_id and
recipient_user_id, required outside DMs: docs.slack.dev chat.startStream), later ones append only
the new text with chat.appendStream. The turn never waits for Slack: `progress` just records the
newest text (latest wins) and a background task per stream sends it, at most one call at a time and
about one a second. `finish` stops that task and hands the stream to the final answer
(replies.py), which ends it with chat.stopStream or falls back to chat.update / chat.postMessage.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adapters.slack.delivery import Outcome, backoff
from adapters.slack.text import escape
from adapters.slack.thread import Thread
from core.events import ReplyProgress
from core.platform import SLACK

if TYPE_CHECKING:
    from adapters.slack.surface import SlackSurface

log = logging.getLogger("rflow.slack")
APPEND_INTERVAL = 1.0  # seconds between appends to one stream; Slack asks for about one update a second
STREAM_TEXT = 12_000  # markdown_text per call (docs.slack.dev chat.startStream / appendStream)
IDLE_SECONDS = 600.0  # a stream whose answer never came here (another worker took the turn) is let go
MAX_FAILURES = 2
FINISHED_KEPT = 1000  # answered replies remembered, so a progress racing its answer opens no new stream


def stream_text(reply: str) -> str:
    """What a stream shows of the reply: markdown with Slack's control characters escaped, so the
    text cannot ping anyone (R38). Escaping is per character, so a prefix escapes to a prefix."""
    return escape(reply)


def _news(s: ReplyStream) -> str | None:
    """The escaped text to show next, or None: nothing new, or the text no longer extends what is
    shown, or it is too long for one stream. The final answer puts those right."""
    text = stream_text(s.wanted)
    if text == s.sent or not text.startswith(s.sent) or len(text) > STREAM_TEXT:
        return None
    return text


@dataclass(eq=False)
class ReplyStream:
    reply_id: int
    account_id: int
    session_id: int
    author_id: int
    thread_ref: str | None
    started_at: float = field(default_factory=time.monotonic)  # when the first text arrived
    thread: Thread | None = None
    recipient: str | None = None
    ts: str | None = None  # the streamed message, once chat.startStream answered
    sent: str = ""  # the escaped text Slack holds in it
    wanted: str = ""  # the newest reply text (raw)
    broken: str | None = None  # why it stopped streaming: the final answer falls back
    closing: bool = False
    busy: bool = False  # a call to Slack is in flight
    touched: float = field(default_factory=time.monotonic)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class ReplyStreams:
    def __init__(self, surface: SlackSurface) -> None:
        self.surface = surface
        self.gateway = surface.gateway
        self._streams: dict[int, ReplyStream] = {}
        self._finished: dict[int, None] = {}  # insertion-ordered: the oldest go first

    def progress(self, event: ReplyProgress) -> None:
        """Record the newest text; never waits for Slack (the turn is not held up)."""
        if event.reply_id in self._finished:
            return
        self._let_go_of_idle()
        stream = self._streams.get(event.reply_id)
        if stream is None:
            stream = ReplyStream(reply_id=event.reply_id, account_id=event.account_id, session_id=event.session_id,
                                 author_id=event.author_id, thread_ref=event.thread_ref)
            self._streams[event.reply_id] = stream
            stream.task = asyncio.create_task(self._pump(stream))
        stream.wanted, stream.touched = event.text, time.monotonic()
        stream.wake.set()

    async def finish(self, reply_id: int) -> ReplyStream | None:
        """Stop sending (a call in flight is let finish) and hand the stream over; None if none."""
        self._finished[reply_id] = None
        while len(self._finished) > FINISHED_KEPT:
            del self._finished[next(iter(self._finished))]
        stream = self._streams.pop(reply_id, None)
        if stream is None:
            return None
        await self._stop(stream)
        return stream

    async def close(self) -> None:
        streams, self._streams = list(self._streams.values()), {}
        for stream in streams:
            await self._stop(stream)

    async def _stop(self, stream: ReplyStream) -> None:
        stream.closing = True
        stream.wake.set()
        if stream.task is not None:
            if not stream.busy:
                stream.task.cancel()  # it waits (for text, a pause or a gate): nothing is lost
            await asyncio.gather(stream.task, return_exceptions=True)

    def _let_go_of_idle(self) -> None:
        now = time.monotonic()
        for reply_id, stream in list(self._streams.items()):
            if now - stream.touched > IDLE_SECONDS:
                del self._streams[reply_id]
                stream.closing = True
                if stream.task is not None:
                    stream.task.cancel()

    # ---- the background task ------------------------------------------------------------------

    async def _pump(self, s: ReplyStream) -> None:
        try:
            s.busy = True  # database reads: let them finish rather than cancel them midway
            try:
                located = await self._locate(s)
            finally:
                s.busy = False
            if located and not s.closing:
                await self._send_loop(s)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database or a bug: the final answer is posted as if never streamed
            log.exception("streaming reply %s failed", s.reply_id)
            s.broken = s.broken or "error"

    async def _locate(self, s: ReplyStream) -> bool:
        """The thread and the engineer to stream to; False (and broken) when this reply cannot stream."""
        s.thread = await self.surface.session_thread(s.account_id, s.session_id, s.thread_ref)
        if s.thread is None:
            s.broken = "no Slack thread"
            return False
        users = await self.surface.engine.tenants.platform_user_ids(account_id=s.account_id, member_id=s.author_id,
                                                                     platform=SLACK)
        s.recipient = users[0] if users else None
        if s.recipient is None and not s.thread.is_dm:
            s.broken = "no Slack user to stream to"  # Slack needs the recipient outside DMs
            return False
        return True

    async def _send_loop(self, s: ReplyStream) -> None:
        assert s.thread is not None
        thread, last, failures = s.thread, 0.0, 0
        while not s.closing:
            if _news(s) is None:
                s.wake.clear()
                await s.wake.wait()
                continue
            if s.ts is not None and (pause := last + APPEND_INTERVAL - time.monotonic()) > 0:
                await asyncio.sleep(pause)
                continue  # and take the newest text
            method = "chat.startStream" if s.ts is None else "chat.appendStream"
            await self.gateway.gates.wait((thread.team, method, thread.channel))
            text = _news(s)
            if s.closing or text is None:
                continue
            outcome = await self._send(s, thread, text)
            if outcome.ok:
                s.sent, last, failures = text, time.monotonic(), 0
                continue
            if s.closing:
                s.broken = outcome.error  # the answer is here: no retry, it falls back at once
                return
            if outcome.retry_after is not None:
                continue  # the gate holds the wait
            if outcome.transient and failures < MAX_FAILURES:
                failures += 1
                await asyncio.sleep(backoff(failures))
                continue
            s.broken = outcome.error or "failed"
            log.info("streaming reply %s stopped: %s; the answer is posted whole", s.reply_id, s.broken)
            return

    async def _send(self, s: ReplyStream, thread: Thread, text: str) -> Outcome:
        s.busy = True
        try:
            if s.ts is None:
                await self.surface.status.begin_reply(thread, since=s.started_at)
                outcome = await self.gateway.start_stream(thread.team, thread.channel, thread.ts, text,
                                                          recipient_user=s.recipient)
                if outcome.ok:
                    s.ts = str(outcome.get("ts"))
                    await self.surface.status.after_post(thread)  # a message sent since waits for the next turn
                return outcome
            return await self.gateway.append_stream(thread.team, thread.channel, s.ts, text[len(s.sent):])
        finally:
            s.busy = False
