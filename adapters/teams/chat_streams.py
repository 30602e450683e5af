"""The assistant's reply streamed into a Teams personal chat while it is written (R37).

One stream per session's turn, and only one per chat (Teams allows one concurrent stream per chat;
streaming exists only in 1:1 chats: learn.microsoft.com/microsoftteams/platform/bots/streaming-ux).
`queued` (TurnQueued) opens it with an informative update ("Thinking…", streamSequence 1), whose
answer names the stream; `progress` (ReplyProgress) records the newest whole text, latest wins, and
a background task per stream sends it as `streaming` updates, one request at a time and at most one
every `interval` seconds, so the turn never waits for Teams. `finish` (TurnAnswered) stops that task
and hands the stream to `answers.py`, which ends it with the final message or falls back.

Elsewhere (channels, group chats) and whenever streaming cannot start, the conversation gets the
typing indicator instead (`typing.py`). The first message of a session is announced with typing,
not an informative update: the lane card and the start note are being posted right then, and the
streamed reply should come below them, so that stream opens with its first text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from microsoft_agents.activity import Activity

from adapters.teams import replies as r
from adapters.teams import streaming
from adapters.teams.activities import PERSONAL
from adapters.teams.cards_base import safe, utf16_size
from adapters.teams.surface import SEND_ERRORS, TeamsSurface
from adapters.teams.typing import TypingIndicators
from core.events import ReplyProgress, TurnAnswered, TurnQueued

log = logging.getLogger("rflow.teams")

IDLE_SECONDS = 600.0  # a stream whose answer never came here (another worker took the turn) is let go
MAX_FAILURES = 2  # transient failures in a row before the stream is given up
FINISHED_KEPT = 1000  # answered replies remembered, so a progress racing its answer opens no new stream

SessionKey = tuple[int, int]  # (account_id, session_id)


def conversation_of(reference: dict[str, Any]) -> str:
    return str((reference.get("conversation") or {}).get("id") or "")


def is_personal(reference: dict[str, Any]) -> bool:
    return (reference.get("conversation") or {}).get("conversationType") == PERSONAL


@dataclass(eq=False)
class ChatStream:
    account_id: int
    session_id: int
    thread_ref: str | None
    reply_id: int | None = None  # bound by the first ReplyProgress
    informative: bool = True  # open with "Thinking…" rather than with the first text
    reference: dict[str, Any] | None = None
    stream_id: str | None = None  # what the first request answered
    sequence: int = 0  # the last streamSequence Teams accepted
    shown: str = ""  # the (escaped) text the streamed message holds
    wanted: str = ""  # the newest reply text (raw)
    broken: str | None = None  # why it does not stream: the answer is posted whole
    next_queued: bool = False  # a message arrived for the next turn while this one streamed
    closing: bool = False
    busy: bool = False  # a request is in flight (or the database is read): let it finish
    failures: int = 0
    last_sent: float = 0.0
    touched: float = field(default_factory=time.monotonic)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def key(self) -> str:
        return conversation_of(self.reference) if self.reference else ""

    @property
    def visible(self) -> bool:
        """Teams shows a message for this stream: some of the reply has been streamed into it."""
        return bool(self.stream_id and self.shown)


class ChatStreams:
    def __init__(self, surface: TeamsSurface, typing: TypingIndicators, *,
                 interval: float = streaming.STREAM_INTERVAL) -> None:
        self.surface = surface
        self.sender = surface.sender
        self.typing = typing
        self.interval = interval
        self._streams: dict[SessionKey, ChatStream] = {}
        self._finished: dict[int, None] = {}  # insertion-ordered: the oldest go first

    # ---- the engine's events (none of them waits for Teams) ------------------------------------

    def queued(self, event: TurnQueued) -> None:
        key = (event.account_id, event.session_id)
        self._let_go_of_idle()
        current = self._streams.get(key)
        if current is not None:
            current.touched = time.monotonic()
            if current.reply_id is not None:
                current.next_queued = True  # the running turn is past; this message is the next turn's
            if current.reference is not None and not is_personal(current.reference):
                self.typing.keep(current.key, current.reference)
            return
        self._open(ChatStream(account_id=event.account_id, session_id=event.session_id,
                              thread_ref=event.thread_ref, informative=True))

    def progress(self, event: ReplyProgress) -> None:
        if event.reply_id in self._finished:
            return
        key = (event.account_id, event.session_id)
        current = self._streams.get(key)
        if current is not None and current.reply_id not in (None, event.reply_id):
            self._drop(key)  # an older reply's stream whose answer never came here
            current = None
        if current is None:
            current = self._open(ChatStream(account_id=event.account_id, session_id=event.session_id,
                                            thread_ref=event.thread_ref, informative=False))
        current.reply_id = event.reply_id
        current.wanted, current.touched = event.text, time.monotonic()
        current.wake.set()

    async def finish(self, event: TurnAnswered) -> ChatStream | None:
        """Stop sending (a request in flight is let finish) and hand the stream over; None if this
        answer has no stream here."""
        self._finished[event.reply_id] = None
        while len(self._finished) > FINISHED_KEPT:
            del self._finished[next(iter(self._finished))]
        key = (event.account_id, event.session_id)
        current = self._streams.get(key)
        if current is None or (current.reply_id not in (None, event.reply_id) and not event.cancelled):
            return None
        del self._streams[key]
        await self._stop(current)
        return current

    async def close(self) -> None:
        streams, self._streams = list(self._streams.values()), {}
        for stream in streams:
            await self._stop(stream)

    # ---- bookkeeping ----------------------------------------------------------------------------

    def _open(self, stream: ChatStream) -> ChatStream:
        self._streams[(stream.account_id, stream.session_id)] = stream
        stream.task = asyncio.create_task(self._pump(stream))
        return stream

    def _drop(self, key: SessionKey) -> None:
        stream = self._streams.pop(key)
        stream.closing = True
        if stream.task is not None and not stream.busy:
            stream.task.cancel()

    async def _stop(self, stream: ChatStream) -> None:
        stream.closing = True
        stream.wake.set()
        if stream.task is not None:
            if not stream.busy:
                stream.task.cancel()  # it waits for text or a pause: nothing is lost
            await asyncio.gather(stream.task, return_exceptions=True)

    def _let_go_of_idle(self) -> None:
        now = time.monotonic()
        for key, stream in list(self._streams.items()):
            if now - stream.touched > IDLE_SECONDS:
                self._drop(key)

    def _chat_streaming(self, stream: ChatStream) -> bool:
        """Another session's stream is open in the same chat (Teams allows one at a time)."""
        return any(other is not stream and other.key == stream.key and other.stream_id and not other.broken
                   for other in self._streams.values())

    # ---- the background task ------------------------------------------------------------------

    async def _pump(self, s: ChatStream) -> None:
        try:
            if await self._locate(s) and not s.closing:
                await self._send_loop(s)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database or a bug: the answer is posted as if never streamed
            log.exception("streaming the reply of session %s failed", s.session_id)
            s.broken = s.broken or "error"

    async def _locate(self, s: ChatStream) -> bool:
        """Where the session lives, and whether it can stream there; typing where it cannot."""
        s.busy = True  # database reads: let them finish rather than cancel them midway
        try:
            s.reference = await self.surface.conversation_of(s.account_id, s.session_id, s.thread_ref)
            has_lane = s.reference is not None and await self.surface.has_lane(s.account_id, s.session_id)
        finally:
            s.busy = False
        if s.reference is None:
            s.broken = "no Teams conversation"
            return False
        if not is_personal(s.reference) or self._chat_streaming(s):
            s.broken = "not a personal chat" if not is_personal(s.reference) else "another stream in this chat"
            self.typing.keep(s.key, s.reference)
            return False
        if s.informative and not has_lane:
            s.informative = False  # the session's first message: typing now, the stream with its text
            self.typing.keep(s.key, s.reference)
        if s.informative:
            await self._send(s, streaming.informative(r.THINKING, sequence=1))
        return s.broken is None

    async def _send_loop(self, s: ChatStream) -> None:
        while not s.closing and s.broken is None:
            text = self._news(s)
            if text is None:
                s.wake.clear()
                await s.wake.wait()
                continue
            if s.last_sent and (pause := s.last_sent + self.interval - time.monotonic()) > 0:
                await asyncio.sleep(pause)
                continue  # and take the newest text
            if s.stream_id is None:
                await self.typing.stop(s.key)  # the streamed message shows it from now on
            if await self._send(s, streaming.streaming(text, sequence=s.sequence + 1, stream_id=s.stream_id)):
                s.shown = text

    def _news(self, s: ChatStream) -> str | None:
        """The text to stream next, or None: nothing new, or it no longer extends what is shown (Teams
        refuses an update that drops streamed text), or too long for one message. The final answer
        puts those right."""
        text = safe(s.wanted)
        if not text or text == s.shown or not text.startswith(s.shown) or utf16_size(text) > streaming.STREAM_LIMIT_BYTES:
            return None
        return text

    async def _send(self, s: ChatStream, activity: Activity) -> bool:
        """One stream request; a refusal (or too many transient failures) ends streaming, and if the
        stream never started, typing takes over."""
        assert s.reference is not None
        s.busy = True
        try:
            answered = await self.sender.send_activity(s.reference, activity, retry=streaming.STREAM_RETRY)
        except SEND_ERRORS as exc:
            s.failures += 1
            if streaming.transient(exc) and s.failures <= MAX_FAILURES and s.stream_id is not None:
                log.info("stream update for session %s failed (%s); the next one carries the text",
                         s.session_id, streaming.reason(exc))
                s.last_sent = time.monotonic()
                return False
            s.broken = streaming.reason(exc)
            log.info("streaming in Teams stopped for session %s: %s; the answer is posted whole",
                     s.session_id, s.broken)
            if s.stream_id is None and not s.closing:
                self.typing.keep(s.key, s.reference)
            return False
        finally:
            s.busy = False
        s.failures, s.last_sent = 0, time.monotonic()
        s.sequence += 1
        if s.stream_id is None:
            if not answered:
                s.broken = "the connector named no stream"
                return False
            s.stream_id = answered
        return True
