"""A fake Bot Connector (Teams' `serviceUrl`) on 127.0.0.1, port 0, speaking the v3 REST API.

Routes: create a conversation (a channel reply chain named `<channel>;messageid=<id>` as Teams does,
or a 1:1 chat, the same id for the same user), send, reply, update, one member, all members.
Everything is recorded (`sent`, `updated`, `created`, `requests` with their Authorization header);
`activities` holds every activity posted (messages and typing, stream updates included) with its
time, in arrival order. `fail_next(n, status, retry_after=...)` answers the next n calls with an
error; `expect_token` makes a call without `Authorization: Bearer <token>` answer 401.

Typing and streaming follow learn.microsoft.com/microsoftteams/platform/bots/streaming-ux ("Stream
message through REST API", "Response codes"): a `typing` activity with a `streaminfo` entity and no
streamId starts a stream (personal chats only, one at a time per chat, streamSequence 1, text
required) and answers 201 with the stream's id; later requests name it, with an increasing
streamSequence (an older one is dropped with 202 ContentStreamSequenceOrderPreConditionFailed) and,
for `streaming`, text that contains what was streamed before; the final `message` (streamType
`final`, no streamSequence) ends it and answers 202. A stream ends after two minutes
(`stream_time_limit`); a request on an ended stream answers 403 ContentStreamNotAllowed. The
streamed message is in `sent` (with the stream's id) from its first streamed text, or from the
final message, and holds the newest text; an informative update alone shows no message.
`fail_streams(after=n)` refuses stream requests (403 ContentStreamNotAllowed by default) once n
more have gone through, ending the open stream as Teams does; every request that broke a rule above
is also listed in `protocol_errors`.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

THREAD_MARKER = ";messageid="


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str | None
    status: int
    at: float


@dataclass
class Sent:
    conversation_id: str
    activity_id: str
    activity: dict[str, Any]
    reply_to: str | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Posted:
    """One activity as it reached the connector (typing or message), with its answer."""

    conversation_id: str
    activity: dict[str, Any]
    status: int
    at: float
    activity_id: str | None = None  # for a stream request: the stream's id

    @property
    def type(self) -> str:
        return str(self.activity.get("type"))

    @property
    def text(self) -> str:
        return str(self.activity.get("text") or "")

    @property
    def stream_info(self) -> dict[str, Any] | None:
        return stream_info(self.activity)


@dataclass
class FakeStream:
    conversation_id: str
    stream_id: str
    started: float
    sequence: int = 1
    text: str = ""  # the streamed text so far ("" while only informative updates came)
    ended: bool = False
    final: bool = False
    message: Sent | None = None  # the message Teams shows for it, once there is text


@dataclass
class _StreamFailure:
    after: int
    status: int
    code: str
    message: str
    times: int | None


@dataclass
class Updated:
    conversation_id: str
    activity_id: str
    activity: dict[str, Any]


@dataclass
class Created:
    conversation_id: str
    activity_id: str | None
    params: dict[str, Any]


@dataclass
class _Failure:
    status: int
    retry_after: str | None
    code: str


@dataclass
class FakeBotConnector:
    expect_token: str | None = None
    sent: list[Sent] = field(default_factory=list)
    updated: list[Updated] = field(default_factory=list)
    created: list[Created] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    activities: list[Posted] = field(default_factory=list)
    streams: dict[str, FakeStream] = field(default_factory=dict)
    protocol_errors: list[str] = field(default_factory=list)
    stream_time_limit: float = 120.0
    base_url: str = ""

    def __post_init__(self) -> None:
        self._ids = itertools.count(1_700_000_000_001)
        self._chats = itertools.count(1)
        self._activities: dict[tuple[str, str], dict[str, Any]] = {}
        self._members: dict[str, dict[str, dict[str, Any]]] = {}
        self._personal: dict[str, str] = {}
        self._failures: list[_Failure] = []
        self._stream_failure: _StreamFailure | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application(middlewares=[self._middleware])
        base = "/v3/conversations"
        app.router.add_post(base, self._create)
        app.router.add_post(base + "/{cid}/activities", self._send)
        app.router.add_post(base + "/{cid}/activities/{aid}", self._reply)
        app.router.add_put(base + "/{cid}/activities/{aid}", self._update)
        app.router.add_get(base + "/{cid}/members/{uid}", self._member)
        app.router.add_get(base + "/{cid}/members", self._members_list)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- seeding and fault injection ---------------------------------------------------------

    def add_member(self, conversation_id: str, *, id: str, name: str, email: str | None = None,
                   user_principal_name: str | None = None, aad_object_id: str | None = None,
                   tenant_id: str | None = None) -> None:
        member = {"id": id, "name": name, "email": email, "userPrincipalName": user_principal_name,
                  "aadObjectId": aad_object_id, "tenantId": tenant_id, "userRole": "user"}
        self._members.setdefault(conversation_id, {})[id] = {k: v for k, v in member.items() if v is not None}

    def fail_next(self, n: int, status: int = 429, *, retry_after: str | None = None) -> None:
        code = {429: "TooManyRequests", 412: "PreconditionFailed", 502: "BadGateway",
                504: "GatewayTimeout"}.get(status, "ServiceError")
        self._failures.extend(_Failure(status, retry_after, code) for _ in range(n))

    def fail_streams(self, *, after: int = 0, status: int = 403, code: str = "ContentStreamNotAllowed",
                     message: str = "Content stream is not allowed", times: int | None = None) -> None:
        """Refuse stream requests (those with a streaminfo entity) once `after` more went through:
        all of them, or the next `times`. The default is what Teams answers when streaming is not
        allowed for the user or bot."""
        self._stream_failure = _StreamFailure(after, status, code, message, times)

    def calls(self, method: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if method is None or r.method == method]

    def posted(self, conversation_id: str, *, type: str | None = None) -> list[Posted]:
        """The activities posted into a conversation, oldest first, optionally of one type."""
        return [p for p in self.activities
                if p.conversation_id == conversation_id and (type is None or p.type == type)]

    # -- wire --------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        auth = request.headers.get("Authorization")
        if self.expect_token is not None and auth != f"Bearer {self.expect_token}":
            response: web.StreamResponse = _error(401, "Unauthorized", "Authorization has been denied")
        elif self._failures:
            failure = self._failures.pop(0)
            response = _error(failure.status, failure.code, "injected failure")
            if failure.retry_after is not None:
                response.headers["Retry-After"] = failure.retry_after
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:  # an unknown route: answer as the connector would
                response = _error(exc.status, "NotFound" if exc.status == 404 else "BadRequest", exc.reason)
        self.requests.append(Recorded(request.method, request.path, auth, response.status, time.monotonic()))
        return response

    async def _create(self, request: web.Request) -> web.Response:
        params = await request.json()
        activity = params.get("activity")
        channel = ((params.get("channelData") or {}).get("channel") or {}).get("id")
        if params.get("isGroup") and channel:
            if not activity:
                return _error(400, "BadArgument", "a channel conversation starts with a message")
            activity_id = str(next(self._ids))
            conversation_id = f"{channel}{THREAD_MARKER}{activity_id}"
            self._activities[(conversation_id, activity_id)] = activity
            self.sent.append(Sent(conversation_id, activity_id, activity))
        else:
            members = params.get("members") or []
            if len(members) != 1 or not params.get("tenantId"):
                return _error(400, "BadArgument", "a 1:1 chat needs one member and a tenantId")
            user = members[0]["id"]
            conversation_id = self._personal.setdefault(user, f"a:personal-{next(self._chats)}")
            activity_id = None
            if activity:
                activity_id = str(next(self._ids))
                self._activities[(conversation_id, activity_id)] = activity
                self.sent.append(Sent(conversation_id, activity_id, activity))
        self.created.append(Created(conversation_id, activity_id, params))
        body: dict[str, Any] = {"id": conversation_id, "serviceUrl": self.base_url}
        if activity_id:
            body["activityId"] = activity_id
        return web.json_response(body, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        return await self._post(request, reply_to=None)

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._post(request, reply_to=request.match_info["aid"])

    async def _post(self, request: web.Request, reply_to: str | None) -> web.Response:
        conversation_id = request.match_info["cid"]
        activity = await request.json()
        if stream_info(activity) is not None:
            response, stream_id = self._stream(conversation_id, activity)
            self.activities.append(Posted(conversation_id, activity, response.status, time.monotonic(), stream_id))
            return response
        kind = activity.get("type")
        if kind == "typing":
            activity_id = str(next(self._ids))
            self.activities.append(Posted(conversation_id, activity, 201, time.monotonic(), activity_id))
            return web.json_response({"id": activity_id}, status=201)
        if kind != "message" or not (activity.get("text") or activity.get("attachments")):
            return _error(400, "BadArgument", "a message needs text or attachments")
        activity_id = str(next(self._ids))
        self._activities[(conversation_id, activity_id)] = activity
        self.sent.append(Sent(conversation_id, activity_id, activity, reply_to))
        self.activities.append(Posted(conversation_id, activity, 201, time.monotonic(), activity_id))
        return web.json_response({"id": activity_id}, status=201)

    # -- streaming (learn.microsoft.com/microsoftteams/platform/bots/streaming-ux) -----------------

    def _stream(self, conversation_id: str, activity: dict[str, Any]) -> tuple[web.Response, str | None]:
        info = stream_info(activity) or {}
        stream_id = info.get("streamId") or None
        stream = self.streams.get(stream_id) if stream_id else None
        if stream is not None and not stream.ended and time.monotonic() - stream.started > self.stream_time_limit:
            stream.ended = True
            return _error(403, "ContentStreamNotAllowed", "Content stream finished due to exceeded streaming time."), stream_id
        if (refused := self._refuse_stream(stream)) is not None:
            return refused, stream_id
        kind, stream_type, sequence = activity.get("type"), info.get("streamType") or "streaming", info.get("streamSequence")
        if stream_id is None:
            return self._start(conversation_id, activity, kind, stream_type, sequence)
        if stream is None or stream.conversation_id != conversation_id:
            return self._bad(400, "BadRequest", f"unknown stream {stream_id}"), stream_id
        if stream.ended:
            return self._bad(403, "ContentStreamNotAllowed",
                             "Content stream is not allowed on an already completed streamed message"), stream_id
        if stream_type == "final":
            if kind != "message" or sequence is not None:
                return self._bad(400, "BadRequest", "the final message is a message without streamSequence"), stream_id
            stream.ended = stream.final = True
            self._show(stream, activity)
            return web.json_response({}, status=202), stream_id
        if kind != "typing" or not isinstance(sequence, int):
            return self._bad(400, "BadRequest", "stream updates are typing activities with a streamSequence"), stream_id
        if sequence <= stream.sequence:
            self.protocol_errors.append(f"stream {stream_id}: streamSequence {sequence} after {stream.sequence}")
            return web.json_response({"error": {"code": "ContentStreamSequenceOrderPreConditionFailed"}},
                                     status=202), stream_id
        text = str(activity.get("text") or "")
        if stream_type == "streaming":
            if not text.startswith(stream.text):
                return self._bad(400, "BadRequest", "a streaming update must contain the text streamed before"), stream_id
            stream.text = text
            self._show(stream, activity)
        stream.sequence = sequence
        return web.json_response({}, status=202), stream_id

    def _start(self, conversation_id: str, activity: dict[str, Any], kind: Any, stream_type: str,
               sequence: Any) -> tuple[web.Response, str | None]:
        conversation = activity.get("conversation") or {}
        if conversation.get("conversationType") != "personal":
            return self._bad(403, "ContentStreamNotAllowed", "Content stream is not allowed"), None
        if kind != "typing" or stream_type not in ("informative", "streaming") or sequence != 1:
            return self._bad(400, "BadRequest", "a stream starts with a typing activity, streamSequence 1"), None
        if not activity.get("text"):
            return self._bad(400, "BadRequest", "Start streaming activities should include text"), None
        if any(s.conversation_id == conversation_id and not s.ended for s in self.streams.values()):
            return self._bad(403, "ContentStreamNotAllowed", "Content stream is not allowed"), None
        stream_id = str(next(self._ids))
        stream = FakeStream(conversation_id, stream_id, started=time.monotonic())
        self.streams[stream_id] = stream
        if stream_type == "streaming":
            stream.text = str(activity["text"])
            self._show(stream, activity)
        return web.json_response({"id": stream_id}, status=201), stream_id

    def _show(self, stream: FakeStream, activity: dict[str, Any]) -> None:
        """The message Teams shows for the stream: its newest text, as a message (the final one's
        fields once it came)."""
        shown = activity if activity.get("type") == "message" else {**activity, "type": "message"}
        self._activities[(stream.conversation_id, stream.stream_id)] = shown
        if stream.message is None:
            stream.message = Sent(stream.conversation_id, stream.stream_id, shown)
            self.sent.append(stream.message)
        else:
            stream.message.activity = shown

    def _refuse_stream(self, stream: FakeStream | None) -> web.Response | None:
        failure = self._stream_failure
        if failure is None:
            return None
        if failure.after > 0:
            failure.after -= 1
            return None
        if failure.times is not None:
            failure.times -= 1
            if failure.times < 0:
                self._stream_failure = None
                return None
        if stream is not None:
            stream.ended = True  # what was streamed stays; the stream takes no more
        return _error(failure.status, failure.code, failure.message)

    def _bad(self, status: int, code: str, message: str) -> web.Response:
        self.protocol_errors.append(f"{status} {code}: {message}")
        return _error(status, code, message)

    async def _update(self, request: web.Request) -> web.Response:
        conversation_id, activity_id = request.match_info["cid"], request.match_info["aid"]
        if (conversation_id, activity_id) not in self._activities:
            return _error(404, "ActivityNotFoundInConversation", "unknown activity")
        activity = await request.json()
        self._activities[(conversation_id, activity_id)] = activity
        self.updated.append(Updated(conversation_id, activity_id, activity))
        return web.json_response({"id": activity_id})

    async def _member(self, request: web.Request) -> web.Response:
        members = self._members.get(request.match_info["cid"], {})
        uid = request.match_info["uid"]
        member = members.get(uid) or next((m for m in members.values() if m.get("aadObjectId") == uid), None)
        if member is None:
            return _error(404, "MemberNotFoundInConversation", "The member was not found in the conversation.")
        return web.json_response(member)

    async def _members_list(self, request: web.Request) -> web.Response:
        return web.json_response(list(self._members.get(request.match_info["cid"], {}).values()))


def stream_info(activity: dict[str, Any]) -> dict[str, Any] | None:
    for entity in activity.get("entities") or []:
        if isinstance(entity, dict) and str(entity.get("type", "")).lower() == "streaminfo":
            return entity
    return None


def _error(status: int, code: str, message: str) -> web.Response:
    return web.Response(status=status, content_type="application/json",
                        text=json.dumps({"error": {"code": code, "message": message}}))
