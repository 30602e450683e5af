"""A fake Bot Connector (Teams' `serviceUrl`) on 127.0.0.1, port 0, speaking the v3 REST API.

Routes: create a conversation (a channel reply chain named `<channel>;messageid=<id>` as Teams does,
or a 1:1 chat, the same id for the same user), send, reply, update, one member, all members.
Everything is recorded (`sent`, `updated`, `created`, `requests` with their Authorization header).
`fail_next(n, status, retry_after=...)` answers the next n calls with an error; `expect_token`
makes a call without `Authorization: Bearer <token>` answer 401.
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
    base_url: str = ""

    def __post_init__(self) -> None:
        self._ids = itertools.count(1_700_000_000_001)
        self._chats = itertools.count(1)
        self._activities: dict[tuple[str, str], dict[str, Any]] = {}
        self._members: dict[str, dict[str, dict[str, Any]]] = {}
        self._personal: dict[str, str] = {}
        self._failures: list[_Failure] = []
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

    def calls(self, method: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if method is None or r.method == method]

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
        if activity.get("type") != "message" or not (activity.get("text") or activity.get("attachments")):
            return _error(400, "BadArgument", "a message needs text or attachments")
        activity_id = str(next(self._ids))
        self._activities[(conversation_id, activity_id)] = activity
        self.sent.append(Sent(conversation_id, activity_id, activity, reply_to))
        return web.json_response({"id": activity_id}, status=201)

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


def _error(status: int, code: str, message: str) -> web.Response:
    return web.Response(status=status, content_type="application/json",
                        text=json.dumps({"error": {"code": code, "message": message}}))
