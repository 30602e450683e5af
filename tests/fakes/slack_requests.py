"""Drive our bot's `/slack/events` endpoint exactly as Slack does: signed bodies, Slack's encodings
(JSON events, `payload=<json>` form for interactivity, plain form for slash commands), retry headers.

`sign` is written from Slack's spec rather than borrowed from slack_sdk, so a test of our signature
check does not pass merely because both sides share one implementation.

Text goes on the wire as Slack sends it: what a person typed has `&`, `<` and `>` as `&amp;`,
`&lt;`, `&gt;` (only those three: "Escaping text", api.slack.com/docs/message-formatting and
docs.slack.dev "Formatting message text"; "all text in Slack uses the same system of escaping", so
slash-command text too), and references are angle syntax: `<@U…>`, `<#C…|name>`, `<!here>`,
`<!subteam^S…|@team>`, `<https://…|label>`. Build it with `wire(...)` from typed strings and the
`user_ref` / `channel_ref` / `link` / `special` tokens; the event and command builders take wire text.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any, NamedTuple
from urllib.parse import urlencode

import aiohttp

SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
FORM = "application/x-www-form-urlencoded"
_event_ids = itertools.count(1)


def sign(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """Slack's v0 signature: `v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{raw body}`)."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def new_trigger_id() -> str:
    return f"{int(time.time())}.{int(time.time() * 1000) % 10**10}.{uuid.uuid4().hex}"


# ---- text as Slack encodes it ------------------------------------------------------------------


class Wire(str):
    """Text already in Slack's wire form (encoded, with its angle syntax)."""


def encode(typed: str) -> str:
    """What Slack does to typed characters: `&`, `<`, `>` as entities, nothing else."""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def wire(*parts: str) -> Wire:
    """Wire text from typed strings (encoded) and `Wire` tokens (kept); `wire(wire(x)) == wire(x)`."""
    return Wire("".join(p if isinstance(p, Wire) else encode(p) for p in parts))


def user_ref(user_id: str, label: str | None = None) -> Wire:
    """A mention as a message carries it (`<@U…>`), or as an escaped slash command does (`<@U…|name>`)."""
    return Wire(f"<@{user_id}|{encode(label)}>" if label else f"<@{user_id}>")


def channel_ref(channel_id: str, name: str | None = None) -> Wire:
    return Wire(f"<#{channel_id}|{encode(name)}>" if name is not None else f"<#{channel_id}>")


def link(url: str, label: str | None = None) -> Wire:
    """A link: a typed URL becomes `<url>`, a formatted one `<url|label>`; `&` inside is encoded too."""
    return Wire(f"<{encode(url)}|{encode(label)}>" if label else f"<{encode(url)}>")


def special(command: str, label: str | None = None) -> Wire:
    """`<!here>`, `<!channel>`, `<!subteam^S…|@team>` and the other `<!…>` commands."""
    return Wire(f"<!{command}|{encode(label)}>" if label else f"<!{command}>")


# ---- Events API -------------------------------------------------------------------------------


def event_callback(team_id: str, event: dict[str, Any], event_id: str | None = None, api_app_id: str = "A1", *,
                   bot_user_id: str = "UBOT", enterprise_id: str | None = None,
                   event_time: int | None = None) -> dict[str, Any]:  # fmt: skip
    """The envelope Slack wraps every event in; a retry must reuse the same `event_id`."""
    return {
        "token": "legacy-verification-token", "team_id": team_id, "enterprise_id": enterprise_id,
        "api_app_id": api_app_id, "event": event, "type": "event_callback",
        "event_id": event_id or f"Ev0FAKE{next(_event_ids):06d}", "event_time": event_time or int(time.time()),
        "authorizations": [{"enterprise_id": enterprise_id, "team_id": team_id, "user_id": bot_user_id,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "event_context": f"4-fake-{uuid.uuid4().hex[:12]}",
    }  # fmt: skip


def app_mention(user: str, channel: str, text: str, ts: str, thread_ts: str | None = None) -> dict[str, Any]:
    """An `app_mention` event; `text` is wire text (`<@UBOT> …`, built with `wire`)."""
    event = {"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts,
             "client_msg_id": str(uuid.uuid4())}  # fmt: skip
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def message_event(user: str, channel: str, text: str, ts: str, thread_ts: str | None = None,
                  channel_type: str = "channel", bot_id: str | None = None,
                  subtype: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A `message` event (`text` as wire text); with `bot_id` it is a bot's post (ours or another
    app's), which we must ignore."""
    event: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts, "channel": channel,
                             "event_ts": ts, "channel_type": channel_type}  # fmt: skip
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    if bot_id is not None:
        event["bot_id"] = bot_id
    else:
        event["client_msg_id"] = str(uuid.uuid4())
    if subtype is not None:
        event["subtype"] = subtype
    return event


def app_home_opened(user: str, channel: str = "D0FAKEHOME", tab: str = "home") -> dict[str, Any]:
    return {"type": "app_home_opened", "user": user, "channel": channel, "tab": tab,
            "event_ts": f"{time.time():.6f}"}  # fmt: skip


def url_verification(challenge: str) -> dict[str, Any]:
    return {"token": "legacy-verification-token", "challenge": challenge, "type": "url_verification"}


# ---- interactivity and commands ----------------------------------------------------------------


def _user(team_id: str, user_id: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}


def block_action(team_id: str, user_id: str, action_id: str, value: str, channel: str | None = None,
                 message_ts: str | None = None, trigger_id: str | None = None,
                 container: dict[str, Any] | None = None, *, block_id: str = "actions",
                 message: dict[str, Any] | None = None, view: dict[str, Any] | None = None,
                 response_url: str | None = None, api_app_id: str = "A1") -> dict[str, Any]:  # fmt: skip
    """A button press: in a message (`channel` + `message_ts`) or in a view (pass `view`)."""
    if container is None:
        container = ({"type": "view", "view_id": view.get("id")} if view is not None else
                     {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False})  # fmt: skip
    payload: dict[str, Any] = {
        "type": "block_actions", "user": _user(team_id, user_id), "api_app_id": api_app_id,
        "token": "legacy-verification-token", "container": container, "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": team_id.lower()}, "enterprise": None, "is_enterprise_install": False,
        "actions": [{"action_id": action_id, "block_id": block_id, "value": value, "type": "button",
                     "text": {"type": "plain_text", "text": action_id, "emoji": True},
                     "action_ts": f"{time.time():.6f}"}],
        "state": {"values": {}},
    }  # fmt: skip
    if channel is not None:
        payload["channel"] = {"id": channel, "name": channel.lower()}
        payload["message"] = message or {"type": "message", "ts": message_ts, "text": "", "user": "UBOT"}
        payload["response_url"] = response_url or f"https://hooks.slack.com/actions/{team_id}/1/fake"
    if view is not None:
        payload["view"] = view
    return payload


def view_submission(team_id: str, user_id: str, callback_id: str, private_metadata: str,
                    state_values: dict[str, Any], view_id: str, *, api_app_id: str = "A1",
                    view_hash: str = "1700000000.fake") -> dict[str, Any]:  # fmt: skip
    """A modal's submit; `state_values` is {block_id: {action_id: {"type": ..., "value": ...}}}."""
    return {
        "type": "view_submission", "team": {"id": team_id, "domain": team_id.lower()},
        "user": _user(team_id, user_id), "api_app_id": api_app_id, "token": "legacy-verification-token",
        "trigger_id": new_trigger_id(), "enterprise": None, "is_enterprise_install": False, "response_urls": [],
        "view": {"id": view_id, "team_id": team_id, "type": "modal", "blocks": [], "callback_id": callback_id,
                 "private_metadata": private_metadata, "state": {"values": state_values}, "hash": view_hash,
                 "title": {"type": "plain_text", "text": "ResolutionFlow"}, "root_view_id": view_id,
                 "previous_view_id": None, "app_id": api_app_id, "external_id": "", "bot_id": "BBOT"},
    }  # fmt: skip


def slash_command(team_id: str, user_id: str, command: str = "/rf", text: str = "", channel_id: str = "C1",
                  trigger_id: str | None = None, response_url: str | None = None, *,
                  api_app_id: str = "A1") -> dict[str, str]:  # fmt: skip
    """The form fields of a slash command, all strings, as Slack posts them (`text` as wire text:
    our manifest's `should_escape: true` sends mentions as `<@U…|name>`)."""
    return {
        "token": "legacy-verification-token", "team_id": team_id, "team_domain": team_id.lower(),
        "channel_id": channel_id, "channel_name": channel_id.lower(), "user_id": user_id,
        "user_name": user_id.lower(), "command": command, "text": text, "api_app_id": api_app_id,
        "is_enterprise_install": "false", "trigger_id": trigger_id or new_trigger_id(),
        "response_url": response_url or f"https://hooks.slack.com/commands/{team_id}/1/fake",
    }  # fmt: skip


# ---- the sender --------------------------------------------------------------------------------


class SlackReply(NamedTuple):
    status: int
    body: str
    elapsed: float  # seconds until the whole answer was read (Slack gives up after 3)

    def json(self) -> Any:
        return json.loads(self.body)


class SlackClient:
    """Posts to our bot as Slack would. Use as `async with`, or bare (one session per request)."""

    def __init__(self, base_url: str, signing_secret: str, *, events_path: str = "/slack/events",
                 interactions_path: str | None = None, commands_path: str | None = None,
                 timeout: float = 10.0) -> None:  # fmt: skip
        self.base_url, self.signing_secret, self.timeout = base_url.rstrip("/"), signing_secret, timeout
        self.paths = {"event": events_path, "interaction": interactions_path or events_path,
                      "command": commands_path or events_path}  # fmt: skip
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackClient:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post_event(self, payload: dict[str, Any], retry_num: int | None = None, retry_reason: str | None = None,
                         timestamp: int | None = None, bad_signature: bool = False) -> SlackReply:  # fmt: skip
        body = json.dumps(payload, separators=(",", ":")).encode()
        return await self.post_raw(self.paths["event"], body, "application/json", retry_num=retry_num,
                                   retry_reason=retry_reason, timestamp=timestamp, bad_signature=bad_signature)  # fmt: skip

    async def post_interaction(self, payload: dict[str, Any], retry_num: int | None = None,
                               retry_reason: str | None = None, timestamp: int | None = None,
                               bad_signature: bool = False) -> SlackReply:  # fmt: skip
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
        return await self.post_raw(self.paths["interaction"], body, FORM, retry_num=retry_num,
                                   retry_reason=retry_reason, timestamp=timestamp, bad_signature=bad_signature)  # fmt: skip

    async def post_command(self, fields: dict[str, str], retry_num: int | None = None, retry_reason: str | None = None,
                           timestamp: int | None = None, bad_signature: bool = False) -> SlackReply:  # fmt: skip
        body = urlencode(fields).encode()
        return await self.post_raw(self.paths["command"], body, FORM, retry_num=retry_num,
                                   retry_reason=retry_reason, timestamp=timestamp, bad_signature=bad_signature)  # fmt: skip

    async def post_raw(self, path: str, body: bytes, content_type: str, *, retry_num: int | None = None,
                       retry_reason: str | None = None, timestamp: int | None = None, bad_signature: bool = False,
                       extra_headers: dict[str, str] | None = None) -> SlackReply:  # fmt: skip
        """Sign `body` (at `timestamp`, default now) and POST it; a bad signature flips one hex digit."""
        headers = {"Content-Type": content_type, "User-Agent": SLACK_USER_AGENT, "Accept": "*/*",
                   **sign(body, self.signing_secret, int(time.time()) if timestamp is None else timestamp)}  # fmt: skip
        if bad_signature:
            signature = headers["X-Slack-Signature"]
            headers["X-Slack-Signature"] = signature[:-1] + ("0" if signature[-1] != "0" else "1")
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        headers.update(extra_headers or {})
        session = self._session or aiohttp.ClientSession()
        started = time.monotonic()
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with session.post(self.base_url + path, data=body, headers=headers, timeout=timeout) as response:
                text = await response.text()
                return SlackReply(response.status, text, time.monotonic() - started)
        finally:
            if session is not self._session:
                await session.close()
