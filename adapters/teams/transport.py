"""`POST /api/messages`: authenticate, parse, hand the activity to our callback, answer the connector.

The Agents SDK's `CloudAdapter` runs the turn (`process_activity`: turn context, connector client,
invoke responses); we put our own token check in front of it (see `auth.py`) and call
`process_activity` ourselves rather than `CloudAdapter.process`, which would parse the body a second
time and wants the verified claims under a plain string key on the request. The connector gives up
after 15 s, so the callback is expected to enqueue slow work and return; a slow turn is logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from microsoft_agents.activity import Activity, ActivityTypes, ChannelId, InvokeResponse
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ClaimsIdentity, TurnContext
from pydantic import ValidationError

from adapters.teams.auth import AuthError, Caller, InboundAuthenticator, TeamsAuthSettings
from adapters.teams.connector import build_cloud_adapter
from adapters.teams.references import conversation_reference, reference_from_dict, reference_to_dict

__all__ = [
    "ADAPTIVE_CARD_CONTENT_TYPE", "IncomingActivity", "OnActivity", "TeamsTransport",
    "card_invoke_response", "conversation_reference", "message_invoke_response", "reference_from_dict",
    "reference_to_dict",
]

log = logging.getLogger(__name__)

ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_CONTENT_TYPE = "application/vnd.microsoft.activity.message"
_UNAUTHORIZED = {"error": "Unauthorized"}


@dataclass(frozen=True)
class IncomingActivity:
    """One inbound activity and the SDK turn it arrived in (to reply inside the turn if needed)."""

    activity: Activity
    context: TurnContext

    @property
    def type(self) -> str:
        return str(self.activity.type)

    @property
    def name(self) -> str | None:
        return self.activity.name

    @property
    def is_invoke(self) -> bool:
        return self.activity.type == ActivityTypes.invoke

    @property
    def value(self) -> Any:
        return self.activity.value

    def reference(self) -> dict[str, Any]:
        return conversation_reference(self.activity)


OnActivity = Callable[[IncomingActivity], Awaitable[InvokeResponse | None]]


def card_invoke_response(card: dict[str, Any]) -> InvokeResponse:
    """The answer to `adaptiveCard/action` that replaces the card the user clicked."""
    return InvokeResponse(status=200, body={"statusCode": 200, "type": ADAPTIVE_CARD_CONTENT_TYPE, "value": card})


def message_invoke_response(text: str) -> InvokeResponse:
    """The answer to `adaptiveCard/action` that shows `text` to the clicking user and keeps the card."""
    return InvokeResponse(status=200, body={"statusCode": 200, "type": MESSAGE_CONTENT_TYPE, "value": text})


class _Agent:
    """The SDK's `Agent` protocol around our plain callback."""

    def __init__(self, on_activity: OnActivity) -> None:
        self._on_activity = on_activity

    async def on_turn(self, context: TurnContext) -> None:
        incoming = IncomingActivity(activity=context.activity, context=context)
        result = await self._on_activity(incoming)
        if incoming.is_invoke:
            # An invoke must be answered in the HTTP response; without our answer the SDK says 501.
            await context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                                 value=result or InvokeResponse(status=200)))


class TeamsTransport:
    """The `/api/messages` handler; mount `handle` on the bot's aiohttp app."""

    def __init__(self, settings: TeamsAuthSettings, on_activity: OnActivity, *,
                 adapter: CloudAdapter | None = None, authenticator: InboundAuthenticator | None = None,
                 slow_turn_s: float = 5.0) -> None:
        self.settings = settings
        self.adapter = adapter or build_cloud_adapter(settings)
        self._auth = authenticator or InboundAuthenticator(settings)
        self._agent = _Agent(on_activity)
        self._slow_turn_s = slow_turn_s

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            caller = await self._auth.authenticate(request.headers.get("Authorization"))
        except AuthError as exc:
            log.warning("rejected /api/messages from %s: %s", request.remote, exc)
            return web.json_response(_UNAUTHORIZED, status=401)
        if "json" not in request.content_type:
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            activity = Activity.model_validate(await request.json())
        except (ValueError, ValidationError):
            return web.json_response({"error": "not an activity"}, status=400)
        if not activity.type or not activity.conversation or not activity.conversation.id:
            return web.json_response({"error": "activity needs type and conversation.id"}, status=400)
        if not caller.anonymous and (problem := _caller_mismatch(caller, activity)):
            log.warning("rejected /api/messages: %s", problem)
            return web.json_response(_UNAUTHORIZED, status=401)
        identity = (ClaimsIdentity() if caller.anonymous else
                    ClaimsIdentity(dict(caller.claims), authentication_type="Bearer"))
        started = time.monotonic()
        try:
            invoke = await self.adapter.process_activity(identity, activity, self._agent.on_turn)
        except Exception:
            log.exception("Teams turn failed (%s %s)", activity.type, activity.name or "")
            return web.json_response({"error": "turn failed"}, status=500)
        elapsed = time.monotonic() - started
        if elapsed > self._slow_turn_s:
            log.warning("Teams turn took %.1fs (%s %s); the connector gives up at 15s, enqueue slow work",
                        elapsed, activity.type, activity.name or "")
        if activity.type != ActivityTypes.invoke:
            return web.Response(status=202)
        if invoke is None:
            return web.Response(status=501)
        if invoke.body is None:
            return web.Response(status=invoke.status or 200)
        return web.json_response(invoke.body, status=invoke.status or 200)

    async def close(self) -> None:
        await self._auth.close()


def _caller_mismatch(caller: Caller, activity: Activity) -> str | None:
    """A valid token still only speaks for the service URL and channels it names (Bot Framework rule):
    otherwise a replayed token could make us send our outbound token to a host of the caller's choosing."""
    claimed = caller.service_url
    if claimed is not None and _norm_url(claimed) != _norm_url(activity.service_url or ""):
        return "serviceUrl does not match the token's serviceurl claim"
    if caller.endorsements is not None:
        channel = ChannelId.get_channel(activity.channel_id) if activity.channel_id else None
        if channel not in caller.endorsements:
            return f"signing key is not endorsed for channel {channel!r}"
    return None


def _norm_url(url: str) -> str:
    return url.strip().rstrip("/").lower()
