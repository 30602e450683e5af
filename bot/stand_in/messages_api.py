"""A stand-in for the Anthropic Messages API (aiohttp, 127.0.0.1, port 0 by default): the fake the
adapter, end-to-end and multi-process tests and the benches use, and the scripted assistant of
`rflow demo` (`python -m bot.stand_in`). It is not the real assistant: every answer is scripted or
a minimal valid default. Tests import it as `tests.fakes.anthropic_api`, which re-exports this
module.

`async with FakeAnthropic() as fake:` then point the SDK at `fake.base_url`. It speaks
`POST /v1/messages` like the API: request validation (400 `invalid_request_error`, 401 without a
key), plain JSON or real SSE when `"stream": true` (the event sequence: `sse.py`), error
bodies with `request-id`. Tests script it with a queue (`push_update`, `push_tool_use`, `push_text`,
`push_error`, `push_hang`, `push_malformed_tool_use`, `push_drop`, `push_raw`; the replies and
input builders: `replies.py`); when the queue is empty `fake.default_responder(body)`
answers (by default: a minimal valid answer for whichever tool is forced; the demo's script,
`demo_script.py`, is one such responder). Prompt caching is simulated (`rules.py`).

Limits, as the API has them (issue 12). Output: an answer longer than the request's `max_tokens`
(tokens = JSON characters / 4, the fake's count) is cut there and ends with stop_reason
"max_tokens": plain JSON carries the tool input parsed as far as it got, a stream sends the
truncated `input_json_delta` slices and a `message_delta` with stop_reason "max_tokens"
(platform.claude.com/docs/en/build-with-claude/handling-stop-reasons; streaming.md for the
events). A scripted answer cut by the budget stays at the head of the queue, so the request asked
again with a larger budget gets the same answer, as the model would give it.
`ToolUseReply(cut_at=N)` / `TextReply(cut_at=N)` cut at N characters whatever the budget.
Input: a prompt over `context_window` (default 200,000) gets the API's 400 invalid_request_error,
"prompt is too long: N tokens > M maximum" (`push_context_window_error` scripts one); see
`rules.context_refusal`. What the real API puts in a plain answer's cut tool input is
not documented (NF): the fake gives the partial parse the SDK's own stream accumulator makes.

Pacing: `StreamTiming(first_token=0.5, total=4.0, chunks=40)` as the server default
(`FakeAnthropic(timing=...)` or `fake.timing = ...`) or per reply (`push_update(..., timing=...)`);
without one an answer streams at once. Every request is kept in `fake.requests` with its headers,
body, usage and times (`time.monotonic()`, which on Linux is one clock for every process on the
host): `received_at`, `first_token_at` (first content slice sent), `finished_at`, `chunk_times`.

Standalone: `python -m tests.fakes.anthropic_api --port N --first-token 0.5 --total 4 [--chunks 40]`
(or `python -m bot.stand_in`, which adds `--script demo` and says it is a stand-in) prints
`listening on http://127.0.0.1:N` first and serves until SIGINT/SIGTERM; `GET /_fake/requests`
returns the records as JSON (`?bodies=1` adds the bodies), `POST /_fake/timing` with
`{"first_token": .., "total": .., "chunks": ..}` (or `null`) sets the default pacing, and
`POST /_fake/reset` forgets the recorded requests.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from jiter import from_json

from bot.stand_in import sse
from bot.stand_in.replies import (
    ErrorReply,
    HangReply,
    RawReply,
    Reply,
    TextReply,
    ToolUseReply,
    default_reply,
    fact_input,
    fix_input,
    note_markdown,
    outcome_input,
    prompt_too_long_message,
    update_session_input,
)
from bot.stand_in.rules import (
    CONTEXT_WINDOW,
    DEFAULT_MIN_CACHEABLE_TOKENS,
    InvalidRequest,
    PromptCache,
    context_refusal,
    tokens,
    validate,
)
from bot.stand_in.sse import StreamTiming

__all__ = ["FakeAnthropic", "StreamTiming", "ToolUseReply", "TextReply", "ErrorReply", "HangReply", "RawReply", "Reply",
           "RecordedRequest", "update_session_input", "fact_input", "fix_input", "outcome_input", "note_markdown",
           "default_reply", "max_concurrency", "InvalidRequest", "PromptCache", "validate"]  # fmt: skip

ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
               500: "api_error", 529: "overloaded_error"}  # fmt: skip


# ---- the server ------------------------------------------------------------------------------
@dataclass
class RecordedRequest:
    """Recorded on arrival; `status` stays None while a request hangs. Times are time.monotonic()."""

    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any
    status: int | None = None
    usage: dict[str, int] | None = field(default=None)
    received_at: float = field(default_factory=time.monotonic)
    first_token_at: float | None = None  # streaming: the first content slice was written
    finished_at: float | None = None  # the answer was complete (or the stream ended otherwise)
    chunk_times: list[float] = field(default_factory=list)  # each content slice written
    disconnected: bool = False  # the client went away mid-stream

    @property
    def streamed(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True

    def as_json(self, *, with_body: bool = False) -> dict[str, Any]:
        body = self.body if isinstance(self.body, dict) else {}
        found: dict[str, Any] = {
            "path": self.path, "status": self.status, "model": body.get("model"), "stream": self.streamed,
            "tool": (body.get("tool_choice") or {}).get("name"), "usage": self.usage,
            "received_at": self.received_at, "first_token_at": self.first_token_at,
            "finished_at": self.finished_at, "chunk_times": self.chunk_times, "disconnected": self.disconnected,
        }  # fmt: skip
        if with_body:
            found["body"] = self.body
        return found


def max_concurrency(records: Sequence[RecordedRequest]) -> int:
    """The most requests that were in progress at one moment (from the recorded times)."""
    edges = sorted(
        [(r.received_at, 1) for r in records if r.finished_at is not None]
        + [(r.finished_at, -1) for r in records if r.finished_at is not None]
    )  # an end sorts before a start at the same instant
    best = current = 0
    for _, step in edges:
        current += step
        best = max(best, current)
    return best


class FakeAnthropic:
    def __init__(
        self, *, min_cacheable_tokens: int = DEFAULT_MIN_CACHEABLE_TOKENS, timing: StreamTiming | None = None,
        host: str = "127.0.0.1", port: int = 0, context_window: int | None = CONTEXT_WINDOW,
    ) -> None:  # fmt: skip
        self.queue: list[Reply] = []
        self.context_window = context_window  # None: no input limit
        self.default_responder: Callable[[dict[str, Any]], Reply] = default_reply
        self.timing = timing  # the pacing of replies that carry none
        self.requests: list[RecordedRequest] = []
        self.cache = PromptCache(min_cacheable_tokens)
        self.host, self.port = host, port
        self._ids = itertools.count(1)
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeAnthropic:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_get("/_fake/requests", self._list_requests)
        app.router.add_post("/_fake/timing", self._set_timing)
        app.router.add_post("/_fake/reset", self._reset)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.base_url = f"http://{self.host}:{self.port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()  # ends any hang or pause at once
        if self._runner is not None:
            await self._runner.cleanup()

    # scripting
    def push(self, *replies: Reply) -> None:
        self.queue.extend(replies)

    def push_update(self, reply: str = "Noted.", *, timing: StreamTiming | None = None, **fields: Any) -> None:
        """`update_session` with a full input: `push_update("...", questions=[...], fixes=[...])`."""
        self.push(ToolUseReply("update_session", update_session_input(reply, **fields), timing=timing))

    def push_tool_use(self, name: str, input: dict[str, Any], *, text_before: str | None = None,
                      timing: StreamTiming | None = None) -> None:  # fmt: skip
        self.push(ToolUseReply(name, input, text_before=text_before, timing=timing))

    def push_malformed_tool_use(self, name: str, raw_json: str = '{"reply": "ok",, }') -> None:
        self.push(ToolUseReply(name, raw_json=raw_json))

    def push_text(self, text: str, *, timing: StreamTiming | None = None) -> None:
        self.push(TextReply(text, timing=timing))

    def push_error(self, status: int, type: str | None = None, *, message: str = "fake error",
                   retry_after: float | None = None, mid_stream: bool = False) -> None:  # fmt: skip
        self.push(ErrorReply(status, type or ERROR_TYPES.get(status, "api_error"), message, retry_after, mid_stream))

    def push_context_window_error(self, prompt_tokens: int = 215_000, window: int = CONTEXT_WINDOW) -> None:
        """The API's answer to a prompt over the context window: 400 invalid_request_error."""
        self.push(ErrorReply(400, "invalid_request_error", prompt_too_long_message(prompt_tokens, window)))

    def push_hang(self, seconds: float, *, mid_stream: bool = False) -> None:
        self.push(HangReply(seconds, mid_stream))

    def push_drop(self, *, mid_stream: bool = True) -> None:
        self.push(HangReply(0, mid_stream, drop=True))

    def push_raw(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.push(RawReply(status, body, content_type))

    # introspection over HTTP, for a fake running in another process
    async def _list_requests(self, request: web.Request) -> web.Response:
        with_body = request.query.get("bodies") in ("1", "true")
        return web.json_response([r.as_json(with_body=with_body) for r in self.requests])

    async def _set_timing(self, request: web.Request) -> web.Response:
        values = await request.json()
        self.timing = None if values is None else StreamTiming(**values)
        return web.json_response(None if self.timing is None else self.timing.as_dict())

    async def _reset(self, request: web.Request) -> web.Response:
        self.requests.clear()
        return web.json_response({"ok": True})

    # protocol
    def _record(self, request: web.Request, body: Any) -> RecordedRequest:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(RecordedRequest(request.path, headers, body))
        return self.requests[-1]

    def _error(self, status: int, type_: str, message: str, retry_after: float | None = None) -> web.Response:
        headers = {"request-id": f"req_fake_{next(self._ids)}"}
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
        body = {"type": "error", "error": {"type": type_, "message": message}, "request_id": headers["request-id"]}
        return web.json_response(body, status=status, headers=headers)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            record = self._record(request, None)
            record.status, record.finished_at = 400, time.monotonic()
            return self._error(400, "invalid_request_error", "body: invalid JSON")
        record = self._record(request, body)
        try:
            return await self._answer(request, body, record)
        finally:
            if record.finished_at is None:
                record.finished_at = time.monotonic()

    async def _answer(self, request: web.Request, body: Any, record: RecordedRequest) -> web.StreamResponse:
        if not (request.headers.get("x-api-key") or request.headers.get("authorization")):
            record.status = 401
            return self._error(401, "authentication_error", "x-api-key header is required")
        try:
            if not request.headers.get("anthropic-version"):
                raise InvalidRequest("anthropic-version: header is required")
            validate(body)
        except (InvalidRequest, AttributeError, TypeError, KeyError) as error:
            record.status = 400
            return self._error(400, "invalid_request_error", str(error) or "invalid request")
        refusal = context_refusal(body, self.context_window) if self.context_window is not None else None
        if refusal is not None:  # refused before anything is generated: the queue keeps its reply
            record.status = 400
            return self._error(400, "invalid_request_error", refusal)
        scripted = bool(self.queue)
        reply = self.queue.pop(0) if self.queue else self.default_responder(body)
        streaming = body.get("stream") is True
        if isinstance(reply, HangReply) and not (reply.mid_stream and streaming):
            if reply.drop and request.transport is not None:
                request.transport.close()
                return web.Response()
            await self._wait(reply.seconds)  # then answered by the next reply, if still connected
            scripted = bool(self.queue)
            reply = self.queue.pop(0) if self.queue else self.default_responder(body)
        if isinstance(reply, RawReply):
            record.status = reply.status
            return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)
        if isinstance(reply, ErrorReply) and not (reply.mid_stream and streaming):
            record.status = reply.status
            return self._error(reply.status, reply.type, reply.message, reply.retry_after)
        record.status, record.usage = 200, self.cache.usage(body)
        message = self._message(body, reply, record.usage, streaming=streaming)
        if scripted and message["stop_reason"] == "max_tokens" and getattr(reply, "cut_at", None) is None \
                and getattr(reply, "stop_reason", None) != "max_tokens":  # cut by the budget, not scripted so
            self.queue.insert(0, reply)  # asked again with a larger budget, the model says the same
        timing = getattr(reply, "timing", None) or self.timing
        if streaming:
            return await self._stream(request, message, reply, record, timing)
        if timing is not None:
            await self._wait_until(record.received_at + timing.total)
        return web.json_response(message, headers={"request-id": f"req_fake_{next(self._ids)}"})

    async def _wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            pass

    async def _wait_until(self, moment: float) -> None:
        delay = moment - time.monotonic()
        if delay > 0:
            await self._wait(delay)

    def _message(self, body: dict[str, Any], reply: Reply, usage: dict[str, int], *, streaming: bool) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        stop = reply.stop_reason if isinstance(reply, ToolUseReply) else "end_turn"
        room = int(body["max_tokens"]) * 4  # characters, by the fake's count of 4 per token
        if isinstance(reply, TextReply):
            text, cut = _cut(reply.text, reply.cut_at, room)
            content.append({"type": "text", "text": text})
            stop = "max_tokens" if cut else stop
        if isinstance(reply, ToolUseReply):
            if reply.text_before:
                content.append({"type": "text", "text": reply.text_before})
            tool_input = reply.raw_json if reply.raw_json is not None else reply.input
            raw, cut = _cut(tool_input if isinstance(tool_input, str) else json.dumps(tool_input), reply.cut_at, room)
            if cut:  # a stream sends the JSON as far as it got; a plain answer its partial parse
                tool_input, stop = (raw if streaming else _partial(raw)), "max_tokens"
            content.append({"type": "tool_use", "id": f"toolu_fake_{next(self._ids)}", "name": reply.name,
                            "input": tool_input})  # fmt: skip
        return {"id": f"msg_fake_{next(self._ids)}", "type": "message", "role": "assistant",
                "model": body["model"], "content": content, "stop_reason": stop, "stop_sequence": None,
                "usage": {**usage, "output_tokens": tokens(content)}}  # fmt: skip

    async def _stream(
        self, request: web.Request, message: dict[str, Any], reply: Reply, record: RecordedRequest,
        timing: StreamTiming | None,
    ) -> web.StreamResponse:  # fmt: skip
        response = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
        await response.prepare(request)

        async def send(event: sse.Event) -> None:
            await response.write(sse.encode(event.name, event.data))
            if event.content:
                now = time.monotonic()
                record.chunk_times.append(now)
                if record.first_token_at is None:
                    record.first_token_at = now

        try:
            if isinstance(reply, (HangReply, ErrorReply)):
                await send(sse.message_start(message))
                if isinstance(reply, HangReply):
                    if reply.drop and request.transport is not None:
                        request.transport.close()
                    await self._wait(reply.seconds)
                else:
                    await send(sse.Event("error", {"error": {"type": reply.type, "message": reply.message}}))
                return response
            events = sse.content_events(message, timing)
            offsets = iter(timing.offsets(sum(e.content for e in events))) if timing is not None else None
            if timing is not None:
                await self._wait_until(record.received_at + timing.first_token)
            await send(sse.message_start(message))
            for event in events:
                if event.content and offsets is not None:
                    await self._wait_until(record.received_at + next(offsets))
                await send(event)
            for event in sse.message_end(message):
                await send(event)
            await response.write_eof()
        except ConnectionError:  # the client gave up (deadline, cancel): aiohttp's reset error is one
            record.disconnected = True
        return response


def _partial(raw: str) -> Any:
    """A cut tool input parsed as far as it goes, as the SDK's accumulator does; malformed stays raw."""
    try:
        return from_json(raw.encode(), partial_mode=True)
    except ValueError:
        return raw


def _cut(text: str, cut_at: int | None, room: int) -> tuple[str, bool]:
    """`text` cut where the answer runs out: at `cut_at` when scripted, else at the output budget."""
    limit = cut_at if cut_at is not None else room
    return (text[:limit], True) if len(text) > limit else (text, False)


# ---- standalone ------------------------------------------------------------------------------
Banner = Callable[[FakeAnthropic], Sequence[str]]


async def serve(fake: FakeAnthropic, banner: Banner | None = None) -> None:
    """Run until SIGINT or SIGTERM; the first line on stdout says where (`listening on URL`), the
    banner's lines follow it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with fake:
        print(f"listening on {fake.base_url}", flush=True)
        for line in banner(fake) if banner is not None else ():
            print(line, flush=True)
        await stop.wait()


def arguments(prog: str, description: str = "A fake Messages API.") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on start)")
    parser.add_argument("--first-token", type=float, default=None, help="seconds to the first token")
    parser.add_argument("--total", type=float, default=None, help="seconds to the last token")
    parser.add_argument("--chunks", type=int, default=40, help="slices per content block")
    parser.add_argument("--reply", default=None, help="the update_session reply text when nothing is scripted")
    parser.add_argument("--min-cacheable-tokens", type=int, default=DEFAULT_MIN_CACHEABLE_TOKENS)
    return parser


def from_arguments(args: argparse.Namespace) -> FakeAnthropic:
    timing = None
    if args.first_token is not None or args.total is not None:
        first = args.first_token or 0.0
        total = args.total if args.total is not None else first
        timing = StreamTiming(first_token=first, total=total, chunks=args.chunks)
    fake = FakeAnthropic(min_cacheable_tokens=args.min_cacheable_tokens, timing=timing, host=args.host, port=args.port)
    if args.reply is not None:
        text: str = args.reply

        def responder(body: dict[str, Any]) -> Reply:
            if (body.get("tool_choice") or {}).get("name") == "update_session":
                return ToolUseReply("update_session", update_session_input(text))
            return default_reply(body)

        fake.default_responder = responder
    return fake


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m tests.fakes.anthropic_api") -> None:
    """The fake on its own, as the tests and benches start it (`python -m tests.fakes.anthropic_api`)."""
    asyncio.run(serve(from_arguments(arguments(prog).parse_args(argv))))


if __name__ == "__main__":
    main(prog="python -m bot.stand_in.messages_api")
