"""Every Slack Web API call the adapter makes, in one place: a client per workspace token, posts paced
to about one message per second per channel, and rate limits honoured per method and channel
without holding up any other channel (delivery.RateGates). Posts are retried on 429, 5xx and
network errors until delivered or clearly undeliverable; other failures are logged and reported
instead of raised where a later change re-renders anyway (R22: a failing channel never undoes
anything)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.delivery import Outcome, RateGates, backoff, failed

log = logging.getLogger("rflow.slack")

TokenLookup = Callable[[str], Awaitable[str | None]]
Call = Callable[[AsyncWebClient], Awaitable[Any]]
PROFILE_TTL_SECONDS = 600.0
STATUS_TIMEOUT = 3.0  # a thread status is a hint: never wait long for it
NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


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
                 max_rate_limit_retries: int = 5, max_retries: int = 4) -> None:
        self.token_for = token_for
        self.api_url = api_url
        self.pacer = ChannelPacer(post_interval)
        self.gates = RateGates()
        self.max_rate_limit_retries = max_rate_limit_retries  # 429s before a call counts as undeliverable
        self.max_retries = max_retries  # 5xx and network errors before the same
        self._clients: dict[str, AsyncWebClient] = {}
        self._profiles: dict[tuple[str, str], tuple[float, SlackUser]] = {}

    def client_for_token(self, token: str | None) -> AsyncWebClient:
        key = token or ""
        client = self._clients.get(key)
        if client is None:
            kwargs: dict[str, Any] = {"token": token}
            if self.api_url:
                kwargs["base_url"] = self.api_url
            # No rate-limit handler: it sleeps inside the call; our gates wait per method and channel.
            client = AsyncWebClient(**kwargs, retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1)])
            self._clients[key] = client
        return client

    async def client(self, team_id: str) -> AsyncWebClient:
        token = await self.token_for(team_id)
        if not token:
            raise LookupError(f"no Slack token for workspace {team_id}")
        return self.client_for_token(token)

    # ---- one call, and a call retried ---------------------------------------------------------

    async def attempt(self, team_id: str, method: str, channel: str | None, call: Call, *,
                      wait: bool = True) -> Outcome:
        """One call once its gate is open (with wait=False: refused at once while it is closed)."""
        key = (team_id, method, channel or "")
        if wait:
            await self.gates.wait(key)
        elif (left := self.gates.remaining(key)) > 0:
            return Outcome(error="ratelimited", retry_after=left, transient=True)
        try:
            client = await self.client(team_id)
        except LookupError as exc:
            return Outcome(error=str(exc))
        try:
            return Outcome(response=await call(client))
        except (SlackApiError, *NETWORK_ERRORS) as exc:
            outcome = failed(exc)
        if outcome.retry_after is not None:
            self.gates.hold(key, outcome.retry_after)
        return outcome

    async def deliver(self, team_id: str, method: str, channel: str | None, what: str, call: Call) -> Outcome:
        """The call retried after 429s (waiting out Retry-After), 5xx and network errors (with
        backoff), a bounded number of times; a final failure is logged."""
        limited = failures = 0
        while True:
            outcome = await self.attempt(team_id, method, channel, call)
            if outcome.ok or not outcome.transient:
                break
            if outcome.retry_after is not None:
                limited += 1
                if limited > self.max_rate_limit_retries:
                    break
                continue  # the gate holds the wait now, for every call of this kind
            failures += 1
            if failures > self.max_retries:
                break
            await asyncio.sleep(backoff(failures))
        if not outcome.ok:
            log.warning("%s failed: %s", what, outcome.error)
        return outcome

    async def _call(self, team_id: str, method: str, channel: str | None, what: str, call: Call) -> Any:
        """A delivered call's response, or None (logged) on failure."""
        outcome = await self.deliver(team_id, method, channel, what, call)
        return outcome.response if outcome.ok else None

    # ---- messages -----------------------------------------------------------------------------

    async def post_outcome(self, team_id: str, channel: str, text: str, *, blocks: list[dict[str, Any]] | None = None,
                           thread_ts: str | None = None) -> Outcome:
        """chat.postMessage, paced per channel, retried until delivered or clearly not."""
        await self.pacer.wait(channel)
        return await self.deliver(team_id, "chat.postMessage", channel, f"chat.postMessage to {channel}",
                                  lambda c: c.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                                               thread_ts=thread_ts, unfurl_links=False, unfurl_media=False))

    async def post(self, team_id: str, channel: str, text: str, *, blocks: list[dict[str, Any]] | None = None,
                   thread_ts: str | None = None) -> str | None:
        """The new message's ts, or None (logged) when it could not be delivered."""
        outcome = await self.post_outcome(team_id, channel, text, blocks=blocks, thread_ts=thread_ts)
        ts = outcome.get("ts") if outcome.ok else None
        return str(ts) if ts else None

    async def update_outcome(self, team_id: str, channel: str, ts: str, text: str, *,
                             blocks: list[dict[str, Any]] | None = None) -> Outcome:
        return await self.deliver(team_id, "chat.update", channel, f"chat.update of {channel}/{ts}",
                                  lambda c: c.chat_update(channel=channel, ts=ts, text=text, blocks=blocks))

    async def update(self, team_id: str, channel: str, ts: str, text: str, *,
                     blocks: list[dict[str, Any]] | None = None) -> bool:
        """chat.update; False on failure (the next change re-renders the message from the database)."""
        return (await self.update_outcome(team_id, channel, ts, text, blocks=blocks)).ok

    # ---- the thread status and streamed replies (R37) -----------------------------------------

    async def set_status(self, team_id: str, channel: str, thread_ts: str, status: str) -> Outcome:
        """assistant.threads.setStatus, once and briefly: a hint is skipped rather than waited for."""
        try:
            async with asyncio.timeout(STATUS_TIMEOUT):
                return await self.attempt(team_id, "assistant.threads.setStatus", channel,
                                          lambda c: c.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts,
                                                                                  status=status), wait=False)
        except TimeoutError:
            return Outcome(error="timed out", transient=True)

    async def start_stream(self, team_id: str, channel: str, thread_ts: str, markdown: str, *,
                           recipient_user: str | None) -> Outcome:
        """chat.startStream (once; the stream's owner retries). Outside DMs Slack needs the
        recipient, whose view of the thread shows the text as it arrives."""
        return await self.attempt(team_id, "chat.startStream", channel, lambda c: c.chat_startStream(
            channel=channel, thread_ts=thread_ts, markdown_text=markdown or None, recipient_team_id=team_id,
            recipient_user_id=recipient_user), wait=False)

    async def append_stream(self, team_id: str, channel: str, ts: str, markdown: str) -> Outcome:
        return await self.attempt(team_id, "chat.appendStream", channel, lambda c: c.chat_appendStream(
            channel=channel, ts=ts, markdown_text=markdown), wait=False)

    async def stop_stream(self, team_id: str, channel: str, ts: str, markdown: str | None = None) -> Outcome:
        """chat.stopStream with the rest of the text, retried like a post."""
        return await self.deliver(team_id, "chat.stopStream", channel, f"chat.stopStream of {channel}/{ts}",
                                  lambda c: c.chat_stopStream(channel=channel, ts=ts, markdown_text=markdown or None))

    # ---- the rest -----------------------------------------------------------------------------

    async def ephemeral(self, team_id: str, channel: str, user: str, text: str, *,
                        thread_ts: str | None = None, blocks: list[dict[str, Any]] | None = None) -> bool:
        return await self._call(team_id, "chat.postEphemeral", channel, f"chat.postEphemeral to {user} in {channel}",
                                lambda c: c.chat_postEphemeral(
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
        opened = await self._call(team_id, "conversations.open", None, f"conversations.open with {user}",
                                  lambda c: c.conversations_open(users=user))
        return None if opened is None else str(opened["channel"]["id"])

    async def dm(self, team_id: str, user: str, text: str, *, blocks: list[dict[str, Any]] | None = None) -> str | None:
        """A direct message from the bot (conversations.open, then a paced post)."""
        channel = await self.dm_channel(team_id, user)
        return None if channel is None else await self.post(team_id, channel, text, blocks=blocks)

    async def open_view(self, team_id: str, trigger_id: str, view: dict[str, Any]) -> str | None:
        response = await self._call(team_id, "views.open", None, "views.open",
                                    lambda c: c.views_open(trigger_id=trigger_id, view=view))
        return None if response is None else str(response["view"]["id"])

    async def push_view(self, team_id: str, trigger_id: str, view: dict[str, Any]) -> str | None:
        """A modal on top of the open one (a button inside a modal); Slack keeps at most three."""
        response = await self._call(team_id, "views.push", None, "views.push",
                                    lambda c: c.views_push(trigger_id=trigger_id, view=view))
        return None if response is None else str(response["view"]["id"])

    async def update_view(self, team_id: str, view_id: str, view: dict[str, Any]) -> bool:
        return await self._call(team_id, "views.update", None, f"views.update of {view_id}",
                                lambda c: c.views_update(view_id=view_id, view=view)) is not None

    async def publish_home(self, team_id: str, user: str, view: dict[str, Any]) -> bool:
        return await self._call(team_id, "views.publish", None, f"views.publish for {user}",
                                lambda c: c.views_publish(user_id=user, view=view)) is not None

    async def snippet(self, team_id: str, channel: str, *, thread_ts: str | None, title: str, content: str) -> bool:
        """A long note as a file in the thread, when it would take too many messages."""
        filename = f"{title.lower().replace(' ', '-')}.md"
        return await self._call(team_id, "files.upload", channel, f"files upload to {channel}", lambda c: c.files_upload_v2(
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

    async def channel_name(self, team_id: str, channel: str) -> str | None:
        """conversations.info's name of a channel (a `<#C…>` without a label); None when Slack
        will not say (a DM, no access): the id is shown instead."""
        try:
            client = await self.client(team_id)
            info = (await client.conversations_info(channel=channel))["channel"]
        except (SlackApiError, LookupError, *NETWORK_ERRORS) as exc:
            log.warning("conversations.info for %s failed: %s", channel, _reason(exc))
            return None
        name = info.get("name")
        return str(name) if name else None

    async def close(self) -> None:
        for client in self._clients.values():
            session = getattr(client, "session", None)
            if session is not None and not session.closed:
                await session.close()


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", exc))
    return str(exc)
