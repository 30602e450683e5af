"""A fake Anthropic Messages API (aiohttp, 127.0.0.1, port 0) for the adapter and end-to-end tests.

`async with FakeAnthropic() as fake:` then point the SDK at `fake.base_url`. It speaks
`POST /v1/messages` like the API: request validation (400 `invalid_request_error`, 401 without a
key), plain JSON or real SSE when `"stream": true`, error bodies with `request-id`. Tests script it
with a queue (`push_update`, `push_tool_use`, `push_text`, `push_error`, `push_hang`,
`push_malformed_tool_use`, `push_drop`, `push_raw`); when the queue is empty `fake.default_responder(body)`
answers (by default: a minimal valid answer for whichever tool is forced). Every request is kept in
`fake.requests` with its headers, body and the usage reported.

Prompt caching is simulated: the request is flattened into blocks (tools, system, messages); a
prefix is written at each `cache_control` breakpoint when it holds at least `min_cacheable_tokens`
(tokens = JSON chars / 4, as the brief estimates), and read back on a later request whose prefix
matches at a block boundary up to 20 blocks before one of its breakpoints, as the API looks back.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from core.assistant.validation import ESCALATION_SECTIONS, RESOLUTION_SECTIONS

DEFAULT_MIN_CACHEABLE_TOKENS = 2048  # claude-sonnet-4-6 in practice (PLATFORM_NOTES §3)
LOOKBACK_BLOCKS = 20
MAX_BREAKPOINTS = 4
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
               500: "api_error", 529: "overloaded_error"}  # fmt: skip


# ---- scripted replies -------------------------------------------------------------------------
@dataclass(frozen=True)
class ToolUseReply:
    name: str
    input: Any = None
    raw_json: str | None = None  # sent verbatim as the tool input (malformed input)
    text_before: str | None = None
    stop_reason: str = "tool_use"  # "max_tokens" plays a reply cut off mid-tool-call


@dataclass(frozen=True)
class TextReply:
    text: str


@dataclass(frozen=True)
class ErrorReply:
    status: int
    type: str
    message: str = "fake error"
    retry_after: float | None = None
    mid_stream: bool = False  # streaming: 200, message_start, then `event: error`


@dataclass(frozen=True)
class HangReply:
    seconds: float
    mid_stream: bool = False  # streaming: stall after message_start
    drop: bool = False  # close the connection instead of waiting


@dataclass(frozen=True)
class RawReply:
    status: int
    body: bytes
    content_type: str = "application/json"


Reply = ToolUseReply | TextReply | ErrorReply | HangReply | RawReply


def update_session_input(
    reply: str = "Noted.", *, questions: Sequence[str] = (), checks: Sequence[str] = (),
    facts: Sequence[dict[str, Any]] = (), fixes: Sequence[dict[str, Any]] = (), outcome: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A complete, schema-valid `update_session` input from a few keywords."""
    return {"reply": reply, "questions": list(questions), "checks": list(checks),
            "facts": list(facts), "fixes": list(fixes), "outcome": outcome}  # fmt: skip


def fact_input(text: str, evidence: str, item_label: str | None = None) -> dict[str, Any]:
    return {"text": text, "evidence": evidence, "item_label": item_label}


def fix_input(
    title: str, description: str = "Apply the change and re-test.", confidence: Any = 60, *,
    script: str | None = None, script_language: str | None = None, parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {"title": title, "description": description, "confidence": confidence, "script": script,
            "script_language": script_language, "parameters": parameters or []}  # fmt: skip


def outcome_input(outcome: str, evidence: str, notes: str | None = None) -> dict[str, Any]:
    return {"outcome": outcome, "notes": notes, "evidence": evidence}


def note_markdown(kind: str, body: str = "Stated from the provided facts.") -> str:
    """A note with every required section (kind: resolve | escalate)."""
    sections = RESOLUTION_SECTIONS if kind == "resolve" else ESCALATION_SECTIONS
    return "\n\n".join(f"## {name}\n{body}" for name in sections)


def default_reply(body: dict[str, Any]) -> Reply:
    """Whatever tool is forced gets a minimal valid answer; otherwise a short text."""
    forced = (body.get("tool_choice") or {}).get("name")
    if forced == "update_session":
        return ToolUseReply("update_session", update_session_input("Noted. What changed most recently?"))
    if forced == "record_fact":
        return ToolUseReply("record_fact", {"fact": "The engineer confirmed the item."})
    if forced == "write_note":
        kind = "escalate" if "Current hypothesis" in json.dumps(body.get("system")) else "resolve"
        return ToolUseReply("write_note", {"markdown": note_markdown(kind)})
    return TextReply("OK")


# ---- request validation and cache simulation -------------------------------------------------
class InvalidRequest(Exception):
    pass


def _tokens(value: Any) -> int:
    return max(1, len(json.dumps(value, sort_keys=True)) // 4)


def _blocks(body: dict[str, Any]) -> list[tuple[str, Any]]:
    """(where, block) in the API's prefix order: tools, then system, then messages."""
    system = body.get("system")
    found = [("tool", t) for t in body.get("tools") or []]
    found += [("system", b) for b in ([{"type": "text", "text": system}] if isinstance(system, str) else system or [])]
    for message in body["messages"]:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        found += [(message["role"], block) for block in blocks]
    return found


def validate(body: Any) -> None:
    """The checks the real API makes that our code could get wrong."""
    if not isinstance(body, dict):
        raise InvalidRequest("body: expected a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise InvalidRequest("model: Field required")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise InvalidRequest("max_tokens: Field required (an integer >= 1)")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages: at least one message is required")
    if messages[0].get("role") != "user":
        raise InvalidRequest('messages: first message must use the "user" role')
    for index, message in enumerate(messages):
        content = message.get("content")
        if message.get("role") not in ("user", "assistant") or not content or not isinstance(content, (str, list)):
            raise InvalidRequest(f"messages.{index}: needs a role of user or assistant and non-empty content")
    system = body.get("system")
    if system is not None and not isinstance(system, (str, list)):
        raise InvalidRequest("system: expected a string or a list of text blocks")
    for where, block in _blocks(body):
        if where != "tool" and block.get("type") == "text" and not str(block.get("text") or "").strip():
            raise InvalidRequest(f"{where}: text content blocks must contain non-whitespace text")
    names = {t["name"] for t in body.get("tools") or [] if (t.get("input_schema") or {}).get("type") == "object"}
    if len(names) != len(body.get("tools") or []):
        raise InvalidRequest("tools: each tool needs a unique name and an object input_schema")
    choice = body.get("tool_choice")
    if choice is not None and choice.get("type") not in ("auto", "any", "tool", "none"):
        raise InvalidRequest("tool_choice.type: invalid")
    if choice is not None and choice["type"] == "tool" and choice.get("name") not in names:
        raise InvalidRequest(f"tool_choice: tool {choice.get('name')!r} not found in tools")
    marks = [block["cache_control"] for _, block in _blocks(body) if "cache_control" in block]
    if len(marks) > MAX_BREAKPOINTS:
        raise InvalidRequest(f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided.")
    if any(not isinstance(cc, dict) or cc.get("type") != "ephemeral" or cc.get("ttl", "5m") not in ("5m", "1h")
           for cc in marks):  # fmt: skip
        raise InvalidRequest("cache_control: expected {type: ephemeral, ttl?: 5m|1h}")


class PromptCache:
    """Prefix hashes written at breakpoints, per model. No TTL: tests run within minutes."""

    def __init__(self, min_tokens: int) -> None:
        self.min_tokens = min_tokens
        self.written: set[str] = set()

    def usage(self, body: dict[str, Any]) -> dict[str, int]:
        blocks = _blocks(body)
        digest = hashlib.sha256(body["model"].encode())
        hashes, cumulative, total = [], [], 0
        for where, block in blocks:
            plain = {k: v for k, v in block.items() if k != "cache_control"}  # markers are not content
            digest.update(json.dumps([where, plain], sort_keys=True).encode())
            hashes.append(digest.hexdigest())
            total += _tokens(plain)
            cumulative.append(total)
        breakpoints = [i for i, (_, block) in enumerate(blocks) if "cache_control" in block]
        if isinstance(body.get("cache_control"), dict):  # automatic caching: the last block
            breakpoints.append(len(blocks) - 1)
        read_at = max(
            (j for bp in breakpoints for j in range(max(0, bp - LOOKBACK_BLOCKS + 1), bp + 1) if hashes[j] in self.written),
            default=-1,
        )
        read = cumulative[read_at] if read_at >= 0 else 0
        created_at = read_at
        for bp in breakpoints:
            if bp > read_at and cumulative[bp] >= self.min_tokens:
                self.written.add(hashes[bp])
                created_at = bp
        creation = cumulative[created_at] - read if created_at > read_at else 0
        return {"input_tokens": total - read - creation, "cache_creation_input_tokens": creation,
                "cache_read_input_tokens": read}  # fmt: skip


# ---- the server ------------------------------------------------------------------------------
@dataclass
class RecordedRequest:
    """Recorded on arrival; `status` stays None while a request hangs."""

    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any
    status: int | None = None
    usage: dict[str, int] | None = field(default=None)


class FakeAnthropic:
    def __init__(self, *, min_cacheable_tokens: int = DEFAULT_MIN_CACHEABLE_TOKENS) -> None:
        self.queue: list[Reply] = []
        self.default_responder: Callable[[dict[str, Any]], Reply] = default_reply
        self.requests: list[RecordedRequest] = []
        self.cache = PromptCache(min_cacheable_tokens)
        self._ids = itertools.count(1)
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeAnthropic:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()  # ends any hang at once
        if self._runner is not None:
            await self._runner.cleanup()

    # scripting
    def push(self, *replies: Reply) -> None:
        self.queue.extend(replies)

    def push_update(self, reply: str = "Noted.", **fields: Any) -> None:
        """`update_session` with a full input: `push_update("...", questions=[...], fixes=[...])`."""
        self.push(ToolUseReply("update_session", update_session_input(reply, **fields)))

    def push_tool_use(self, name: str, input: dict[str, Any], *, text_before: str | None = None) -> None:
        self.push(ToolUseReply(name, input, text_before=text_before))

    def push_malformed_tool_use(self, name: str, raw_json: str = '{"reply": "ok",, }') -> None:
        self.push(ToolUseReply(name, raw_json=raw_json))

    def push_text(self, text: str) -> None:
        self.push(TextReply(text))

    def push_error(self, status: int, type: str | None = None, *, message: str = "fake error",
                   retry_after: float | None = None, mid_stream: bool = False) -> None:  # fmt: skip
        self.push(ErrorReply(status, type or ERROR_TYPES.get(status, "api_error"), message, retry_after, mid_stream))

    def push_hang(self, seconds: float, *, mid_stream: bool = False) -> None:
        self.push(HangReply(seconds, mid_stream))

    def push_drop(self, *, mid_stream: bool = True) -> None:
        self.push(HangReply(0, mid_stream, drop=True))

    def push_raw(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.push(RawReply(status, body, content_type))

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
            self._record(request, None).status = 400
            return self._error(400, "invalid_request_error", "body: invalid JSON")
        record = self._record(request, body)
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
        reply = self.queue.pop(0) if self.queue else self.default_responder(body)
        streaming = body.get("stream") is True
        if isinstance(reply, HangReply) and not (reply.mid_stream and streaming):
            if reply.drop and request.transport is not None:
                request.transport.close()
                return web.Response()
            await self._wait(reply.seconds)  # then answered by the next reply, if still connected
            reply = self.queue.pop(0) if self.queue else self.default_responder(body)
        if isinstance(reply, RawReply):
            record.status = reply.status
            return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)
        if isinstance(reply, ErrorReply) and not (reply.mid_stream and streaming):
            record.status = reply.status
            return self._error(reply.status, reply.type, reply.message, reply.retry_after)
        record.status, record.usage = 200, self.cache.usage(body)
        message = self._message(body, reply, record.usage)
        if streaming:
            return await self._stream(request, message, reply)
        return web.json_response(message, headers={"request-id": f"req_fake_{next(self._ids)}"})

    async def _wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            pass

    def _message(self, body: dict[str, Any], reply: Reply, usage: dict[str, int]) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if isinstance(reply, TextReply):
            content.append({"type": "text", "text": reply.text})
        if isinstance(reply, ToolUseReply):
            if reply.text_before:
                content.append({"type": "text", "text": reply.text_before})
            tool_input = reply.raw_json if reply.raw_json is not None else reply.input
            content.append({"type": "tool_use", "id": f"toolu_fake_{next(self._ids)}", "name": reply.name,
                            "input": tool_input})  # fmt: skip
        stop = reply.stop_reason if isinstance(reply, ToolUseReply) else "end_turn"
        return {"id": f"msg_fake_{next(self._ids)}", "type": "message", "role": "assistant",
                "model": body["model"], "content": content, "stop_reason": stop, "stop_sequence": None,
                "usage": {**usage, "output_tokens": _tokens(content)}}  # fmt: skip

    async def _stream(self, request: web.Request, message: dict[str, Any], reply: Reply) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
        await response.prepare(request)

        async def send(event: str, data: dict[str, Any]) -> None:
            await response.write(f"event: {event}\ndata: {json.dumps({'type': event, **data})}\n\n".encode())

        start = {**message, "content": [], "stop_reason": None, "usage": {**message["usage"], "output_tokens": 1}}
        await send("message_start", {"message": start})
        if isinstance(reply, HangReply):
            if reply.drop and request.transport is not None:
                request.transport.close()
            await self._wait(reply.seconds)
            return response
        if isinstance(reply, ErrorReply):
            await send("error", {"error": {"type": reply.type, "message": reply.message}})
            return response
        await send("ping", {})
        for index, block in enumerate(message["content"]):
            if block["type"] == "text":
                await send("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
                for chunk in _chunks(block["text"]):
                    await send("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": chunk}})
            else:
                raw = block["input"] if isinstance(block["input"], str) else json.dumps(block["input"])
                await send("content_block_start", {"index": index, "content_block": {**block, "input": {}}})
                for chunk in _chunks(raw):
                    delta = {"type": "input_json_delta", "partial_json": chunk}
                    await send("content_block_delta", {"index": index, "delta": delta})
            await send("content_block_stop", {"index": index})
        delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
        await send("message_delta", {"delta": delta, "usage": {"output_tokens": message["usage"]["output_tokens"]}})
        await send("message_stop", {})
        await response.write_eof()
        return response


def _chunks(text: str, size: int = 40) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
