"""A fake Slack Web API (aiohttp, 127.0.0.1, port 0) for the Slack adapter and end-to-end tests.

`async with FakeSlack() as fake:` then `AsyncWebClient(token="xoxb-test", base_url=fake.base_url)`
(also our RF_SLACK_API_URL). It answers `GET|POST /api/<method>` the way slack_sdk sends them: query
string, form or JSON bodies (form-borne `blocks`/`view`/`files` JSON-decoded), the token in
`Authorization: Bearer …` or a `token` field. Unknown tokens get `invalid_auth`, unknown methods
`unknown_method`. The methods and their answers live in `slack_api_methods.py`, the workspace in
`slack_api_state.py`; `upload_url`s point back here (`POST /upload/v1/<file id>`).

Every call is recorded in order (`all_calls`, `calls(method)`, `count(method)`) with its arrival time
(monotonic), so tests can assert pacing. Faults: `fail_next`, `rate_limit_next` (429 + Retry-After,
for a method and optionally one channel, as Slack limits chat.postMessage per channel:
api.slack.com/docs/rate-limits), `server_error_next` (an HTML 5xx), `delay`. The thread status and
streamed messages live in `slack_api_streams.py`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections import defaultdict
from typing import Any

from aiohttp import web

from tests.fakes.slack_api_methods import SlackMethods
from tests.fakes.slack_api_state import SlackCall, SlackError, SlackState, Upload

__all__ = ["FakeSlack", "SlackCall", "SlackError", "SlackState", "Upload"]

JSON_FIELDS = ("blocks", "view", "attachments", "files", "metadata", "user_auth_blocks")
NO_TOKEN_METHODS = frozenset({"oauth.v2.access"})  # authenticated by client id and secret instead


class FakeSlack(SlackMethods):
    """The Slack Web API as one workspace (T1, bot UBOT) sees it; seed it with add_user/add_channel."""

    def __init__(self, **workspace: Any) -> None:
        super().__init__(**workspace)
        self.all_calls: list[SlackCall] = []
        self._failures: dict[str, list[str]] = defaultdict(list)
        self._rate_limits: dict[tuple[str, str | None], list[int]] = defaultdict(list)
        self._server_errors: dict[tuple[str, str | None], list[int]] = defaultdict(list)
        self._delays: dict[str, float] = {}
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.responses: list[dict[str, Any]] = []  # what was POSTed to response_urls, in order

    async def __aenter__(self) -> FakeSlack:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        app.router.add_post("/hooks/{path:.*}", self._response_url)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.root_url = f"http://{host}:{port}/"
        self.base_url = f"{self.root_url}api/"
        return self

    def response_url(self, name: str = "cmd") -> str:
        """A response_url as Slack hands them out with commands and clicks, served by this fake."""
        return f"{self.root_url}hooks/{name}/{len(self.responses)}"

    async def _response_url(self, request: web.Request) -> web.Response:
        """Slack answers a response_url POST with plain `ok` (or 404 `no_text` when empty)."""
        body = await request.json()
        self.responses.append({"path": request.path, **body})
        if not body.get("text") and not body.get("blocks"):
            return web.Response(status=400, text="no_text")
        return web.Response(text="ok")

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- what was called --------------------------------------------------------------------

    def calls(self, method: str) -> list[dict[str, Any]]:
        """The parsed arguments of every `method` call, failed ones included, oldest first."""
        return [call.args for call in self.all_calls if call.method == method]

    def count(self, method: str) -> int:
        return sum(1 for call in self.all_calls if call.method == method)

    def call_times(self, method: str, channel: str | None = None) -> list[float]:
        """Monotonic arrival times of `method` calls (to one channel if given): pacing assertions."""
        return [call.at for call in self.all_calls
                if call.method == method and (channel is None or call.args.get("channel") == channel)]  # fmt: skip

    def reset(self) -> None:
        """Forget the recorded calls and pending faults; the workspace and its messages stay."""
        self.all_calls.clear()
        self._failures.clear()
        self._rate_limits.clear()
        self._server_errors.clear()
        self._delays.clear()

    # ---- faults -----------------------------------------------------------------------------

    def fail_next(self, method: str, error: str = "channel_not_found", times: int = 1) -> None:
        """The next `times` calls of `method` answer 200 `{"ok": false, "error": error}`, unapplied."""
        self._failures[method].extend([error] * times)

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1, *, channel: str | None = None) -> None:
        """The next `times` calls of `method` (to `channel` only, if given) answer 429 with
        `Retry-After` and `ratelimited`, unapplied."""
        self._rate_limits[(method, channel)].extend([retry_after] * times)

    def server_error_next(self, method: str, status: int = 503, times: int = 1, *, channel: str | None = None) -> None:
        """The next `times` calls of `method` answer an HTML `status` page (Slack's edge, not the API), unapplied."""
        self._server_errors[(method, channel)].extend([status] * times)

    def delay(self, method: str, seconds: float) -> None:
        """Every call of `method` waits `seconds` before answering, until set back to 0."""
        if seconds > 0:
            self._delays[method] = seconds
        else:
            self._delays.pop(method, None)

    # ---- the wire ---------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await _arguments(request)
        token = _bearer(request) or args.pop("token", None)
        if method in NO_TOKEN_METHODS:
            args.update(_basic(request))
        call = SlackCall(method, args, token, time.monotonic())
        self.all_calls.append(call)
        if method in self._delays:
            await asyncio.sleep(self._delays[method])
        headers: dict[str, str] = {}
        channel = args.get("channel") or args.get("channel_id")
        if (limits := _pending(self._rate_limits, method, channel)) is not None:
            retry_after = limits.pop(0)
            call.status, headers["Retry-After"] = 429, str(retry_after)
            call.response = {"ok": False, "error": "ratelimited"}
        elif (errors := _pending(self._server_errors, method, channel)) is not None:
            call.status, call.response = errors.pop(0), {"ok": False, "error": "server_error"}
            return web.Response(status=call.status, text="<html><body>Service Unavailable</body></html>",
                                content_type="text/html")
        else:
            call.response = self._answer(method, args, token)
        return web.json_response(call.response, status=call.status, headers=headers)

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        handler = self.methods().get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method", "req_method": method}
        if method not in NO_TOKEN_METHODS and not token:
            return {"ok": False, "error": "not_authed"}
        if method not in NO_TOKEN_METHODS and token not in self.tokens:
            return {"ok": False, "error": "invalid_auth"}
        if self._failures.get(method):
            return {"ok": False, "error": self._failures[method].pop(0)}
        try:
            return handler(args, token)
        except SlackError as exc:
            return {"ok": False, "error": exc.error, **exc.extra}

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        """files.slack.com's upload endpoint: raw bytes in, `OK - <size>` as text/plain out."""
        file_id = request.match_info["file_id"]
        content = await request.read()
        call = SlackCall("upload", {"file_id": file_id, "size": len(content)}, None, time.monotonic())
        self.all_calls.append(call)
        upload = self.uploads.get(file_id)
        if upload is None:
            call.status, call.response = 404, {"ok": False, "error": "file_not_found"}
            return web.Response(status=404, text="Not Found")
        upload.content = content
        call.response = {"ok": True}
        return web.Response(text=f"OK - {len(content)}")


def _pending(faults: dict[tuple[str, str | None], list[int]], method: str, channel: Any) -> list[int] | None:
    """The queue of faults that applies to this call: the channel's own first, then the method's."""
    for key in ((method, str(channel)) if channel else None, (method, None)):
        if key is not None and faults.get(key):
            return faults[key]
    return None


async def _arguments(request: web.Request) -> dict[str, Any]:
    """Query string plus body, as Slack merges them; JSON fields sent as form strings decoded."""
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        raw = await request.read()
        body = json.loads(raw) if raw else {}
        if isinstance(body, dict):
            args.update(body)
    elif request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        args.update({k: v if isinstance(v, str) else getattr(v, "filename", "(file)") for k, v in form.items()})
    for name in JSON_FIELDS:
        if isinstance(args.get(name), str):
            try:
                args[name] = json.loads(args[name])
            except ValueError:
                pass  # left as sent: the method will call it malformed
    return args


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:] if header.startswith("Bearer ") else None


def _basic(request: web.Request) -> dict[str, str]:
    """oauth.v2.access credentials from HTTP Basic auth (slack_sdk's way), if present."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return {}
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return {}
    return {"client_id": client_id, "client_secret": secret}
