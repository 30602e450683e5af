"""Every Slack Web API call the adapter makes, in one place: a client per workspace token with
slack_sdk's 429 retry handler (Retry-After honoured), posts paced to about one message per second
per channel, and failures that are logged and reported instead of raised where a later change
re-renders anyway (R22: a failing channel never undoes anything)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

log = logging.getLogger("rflow.slack")

TokenLookup = Callable[[str], Awaitable[str | None]]
PROFILE_TTL_SECONDS = 600.0


@dataclass(frozen=True, kw_only=True)
class SlackUser:
    id: str
    team_id: str
    name: str
    email: str | None
    is_admin: bool
    is_bot: bool


class ChannelPacer:
    """At most one post per `interval` per channel (Slack: about 1 message/s per channel)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, channel: str) -> None:
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            now = time.monotonic()
            ready = self._next.get(channel, now)
            if ready > now:
                await asyncio.sleep(ready - now)
            self._next[channel] = max(ready, now) + self.interval


class SlackGateway:
    def __init__(self, *, token_for: TokenLookup, api_url: str | None = None, post_interval: float = 1.0,
                 max_rate_limit_retries: int = 3) -> None:
        self.token_for = token_for
        self.api_url = api_url
        self.pacer = ChannelPacer(post_interval)
        self.max_rate_limit_retries = max_rate_limit_retries
        self._clients: dict[str, AsyncWebClient] = {}
        self._profiles: dict[tuple[str, str], tuple[float, SlackUser]] = {}

    def client_for_token(self, token: str | None) -> AsyncWebClient:
        key = token or ""
        client = self._clients.get(key)
        if client is None:
            kwargs: dict[str, Any] = {"token": token}
            if self.api_url:
                kwargs["base_url"] = self.api_url
            client = AsyncWebClient(**kwargs, retry_handlers=[
                AsyncConnectionErrorRetryHandler(max_retry_count=1),
                AsyncRateLimitErrorRetryHandler(max_retry_count=self.max_rate_limit_retries)])
            self._clients[key] = client
        return client

    async def client(self, team_id: str) -> AsyncWebClient:
        token = await self.token_for(team_id)
        if not token:
            raise LookupError(f"no Slack token for workspace {team_id}")
        return self.client_for_token(token)

    async def _call(self, team_id: str, what: str, call: Callable[[AsyncWebClient], Awaitable[Any]]) -> Any:
        """One Web API call for a workspace; a refusal or a missing token is logged and gives None."""
        try:
            return await call(await self.client(team_id))
        except (SlackApiError, LookupError) as exc:
            log.warning("%s failed: %s", what, _reason(exc))
            return None

    async def post(self, team_id: str, channel: str, text: str, *, blocks: list[dict[str, Any]] | None = None,
                   thread_ts: str | None = None) -> str | None:
        """chat.postMessage, paced per channel; the new message's ts, or None (logged) on failure."""
        await self.pacer.wait(channel)
        response = await self._call(team_id, f"chat.postMessage to {channel}", lambda c: c.chat_postMessage(
            channel=channel, text=text, blocks=blocks, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False))
        return None if response is None else response.get("ts")

    async def update(self, team_id: str, channel: str, ts: str, text: str, *,
                     blocks: list[dict[str, Any]] | None = None) -> bool:
        """chat.update; False on failure (the next change re-renders the message from the database)."""
        return await self._call(team_id, f"chat.update of {channel}/{ts}",
                                lambda c: c.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)) is not None

    async def ephemeral(self, team_id: str, channel: str, user: str, text: str, *,
                        thread_ts: str | None = None, blocks: list[dict[str, Any]] | None = None) -> bool:
        return await self._call(team_id, f"chat.postEphemeral to {user} in {channel}", lambda c: c.chat_postEphemeral(
            channel=channel, user=user, text=text, thread_ts=thread_ts, blocks=blocks)) is not None

    async def respond(self, response_url: str, text: str, *, blocks: list[dict[str, Any]] | None = None) -> bool:
        """An ephemeral answer through a slash command's or button's response_url."""
        try:
            response = await AsyncWebhookClient(response_url).send(text=text, blocks=blocks, response_type="ephemeral",
                                                                    replace_original=False)
        except Exception as exc:  # network errors of any kind: fall back to chat.postEphemeral
            log.warning("response_url answer failed: %s", exc)
            return False
        if response.status_code != 200:
            log.warning("response_url answer refused: %s %s", response.status_code, response.body)
            return False
        return True

    async def dm_channel(self, team_id: str, user: str) -> str | None:
        opened = await self._call(team_id, f"conversations.open with {user}", lambda c: c.conversations_open(users=user))
        return None if opened is None else str(opened["channel"]["id"])

    async def dm(self, team_id: str, user: str, text: str, *, blocks: list[dict[str, Any]] | None = None) -> str | None:
        """A direct message from the bot (conversations.open, then a paced post)."""
        channel = await self.dm_channel(team_id, user)
        return None if channel is None else await self.post(team_id, channel, text, blocks=blocks)

    async def open_view(self, team_id: str, trigger_id: str, view: dict[str, Any]) -> str | None:
        response = await self._call(team_id, "views.open", lambda c: c.views_open(trigger_id=trigger_id, view=view))
        return None if response is None else str(response["view"]["id"])

    async def update_view(self, team_id: str, view_id: str, view: dict[str, Any]) -> bool:
        return await self._call(team_id, f"views.update of {view_id}",
                                lambda c: c.views_update(view_id=view_id, view=view)) is not None

    async def publish_home(self, team_id: str, user: str, view: dict[str, Any]) -> bool:
        return await self._call(team_id, f"views.publish for {user}",
                                lambda c: c.views_publish(user_id=user, view=view)) is not None

    async def snippet(self, team_id: str, channel: str, *, thread_ts: str | None, title: str, content: str) -> bool:
        """A long note as a file in the thread, when it would take too many messages."""
        filename = f"{title.lower().replace(' ', '-')}.md"
        return await self._call(team_id, f"files upload to {channel}", lambda c: c.files_upload_v2(
            channel=channel, thread_ts=thread_ts, title=title, filename=filename, content=content)) is not None

    async def user(self, team_id: str, user_id: str) -> SlackUser:
        """users.info, cached for a few minutes. The email is there only when Slack verified it and
        the app has users:read.email; without it the member is simply not matched across platforms."""
        cached = self._profiles.get((team_id, user_id))
        if cached and time.monotonic() - cached[0] < PROFILE_TTL_SECONDS:
            return cached[1]
        try:
            client = await self.client(team_id)
            info = (await client.users_info(user=user_id))["user"]
        except (SlackApiError, LookupError) as exc:
            log.warning("users.info for %s failed: %s; using the id as the name", user_id, _reason(exc))
            return SlackUser(id=user_id, team_id=team_id, name=user_id, email=None, is_admin=False, is_bot=False)
        profile = info.get("profile") or {}
        name = (profile.get("display_name") or profile.get("real_name") or info.get("real_name")
                or info.get("name") or user_id)
        user = SlackUser(id=user_id, team_id=team_id, name=name, email=profile.get("email") or None,
                         is_admin=bool(info.get("is_admin") or info.get("is_owner")), is_bot=bool(info.get("is_bot")))
        self._profiles[(team_id, user_id)] = (time.monotonic(), user)
        return user

    async def close(self) -> None:
        for client in self._clients.values():
            session = getattr(client, "session", None)
            if session is not None and not session.closed:
                await session.close()


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", exc))
    return str(exc)
