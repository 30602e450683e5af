"""Slack's requests, acknowledged fast: Bolt verifies the signature (5-minute window, R36) before any
of this runs, then each listener stores the request in the core's durable inbox and returns; the
HTTP answer goes out once it is stored (`process_before_response`), so a crash after the ack loses
nothing. Work that changes nothing (opening a modal, the help) is done here directly."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from adapters.slack import inbound, views
from adapters.slack.actions import (
    SETTINGS_CALLBACK,
    decode_metadata,
    form_action,
    read_submission,
)
from adapters.slack.caller import team_of
from adapters.slack.commands import HELP, parse_command
from adapters.slack.text import escape
from core.platform import SLACK

log = logging.getLogger("rflow.slack")

Accept = Callable[..., Awaitable[bool]]
Spawn = Callable[[dict[str, Any]], None]

ALLOWED_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


def event_key(body: dict[str, Any]) -> str:
    """A message reaches us as `message` and, when it mentions the bot, also as `app_mention`, each
    with its own event_id and each possibly retried: keying on the message itself processes it once."""
    event = body.get("event") or {}
    if event.get("type") in ("message", "app_mention") and event.get("ts"):
        return f"msg:{team_of(body)}:{event.get('channel')}:{event['ts']}"
    return f"evt:{body.get('event_id') or event.get('event_ts')}"


def wanted_event(event: dict[str, Any]) -> bool:
    """People's messages only: not the bot's own or other bots', not edits or deletions."""
    if event.get("bot_id") or event.get("subtype") not in ALLOWED_SUBTYPES:
        return False
    if event.get("type") == "message" and event.get("channel_type") not in ("im",) and not event.get("thread_ts"):
        return False  # a top-level channel message without a mention is not for us
    return event.get("type") in ("message", "app_mention", "app_home_opened")


def thread_key(body: dict[str, Any]) -> str | None:
    """The Slack thread a request belongs to: its deliveries are handled one at a time, in order,
    while other threads go alongside (R37). Top-level messages start their own thread."""
    event = body.get("event") or {}
    if event.get("channel") and (event.get("thread_ts") or event.get("ts")):
        return f"{team_of(body)}:{event['channel']}:{event.get('thread_ts') or event['ts']}"
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    thread = message.get("thread_ts") or (body.get("container") or {}).get("thread_ts")
    return f"{team_of(body)}:{channel}:{thread}" if channel and thread else None


class SlackIngress:
    def __init__(self, *, accept: Accept, open_modal: Spawn, open_settings: Spawn) -> None:
        self.accept = accept
        self.open_modal = open_modal
        self.open_settings = open_settings

    def attach(self, app: AsyncApp) -> None:
        app.event("app_mention")(self.on_event)
        app.event("message")(self.on_event)
        app.event("app_home_opened")(self.on_event)
        app.action(re.compile(r"^rf_(?!psa_)"))(self.on_action)  # rf_psa_…: on_psa.py answers those
        app.view(re.compile(r"^rf_(?!psa_)"))(self.on_view)
        app.command("/rf")(self.on_command)

    async def _store(self, kind: str, key: str, body: dict[str, Any]) -> None:
        await self.accept(platform=SLACK, key=key, payload={"kind": kind, "body": body}, thread_key=thread_key(body))

    async def on_event(self, body: dict[str, Any], ack: AsyncAck) -> None:
        if wanted_event(body.get("event") or {}):
            await self._store("event", event_key(body), body)
        await ack()

    async def on_action(self, body: dict[str, Any], ack: AsyncAck) -> None:
        action = (body.get("actions") or [{}])[0]
        action_id = str(action.get("action_id", ""))
        if form_action(action_id) is not None:  # it only opens a form: no inbox (a trigger_id lasts 3 s)
            await ack()
            self.open_modal(body)
            return
        key = f"act:{team_of(body)}:{body.get('trigger_id') or action.get('action_ts')}"
        await self._store("action", key, body)
        await ack()

    async def on_view(self, body: dict[str, Any], ack: AsyncAck) -> None:
        view = body.get("view") or {}
        try:
            joins = () if view.get("callback_id") == SETTINGS_CALLBACK else decode_metadata(
                str(view.get("private_metadata", ""))).joins
            values = read_submission(((view.get("state") or {}).get("values")) or {}, joins=joins)
            errors = views.submission_errors(str(view.get("callback_id", "")), values)
        except ValueError:
            errors = {}  # unreadable: stored anyway, and the processor tells the person it is out of date
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await self._store("view", f"view:{team_of(body)}:{view.get('id')}:{view.get('hash')}", body)
        await ack()

    async def on_command(self, body: dict[str, Any], ack: AsyncAck) -> None:
        command = parse_command(str(body.get("text", "")))
        if command.name == "help":
            # Shown back decoded then escaped once (R38): no lookups inside the 3-second ack, so
            # a mention reads as its id, and `<!channel>` as the words, never as a ping.
            prefix = f"I don't know `{escape(inbound.decode(command.args))}`.\n" if command.unknown else ""
            await ack(text=prefix + HELP)
            return
        if command.name == "settings":
            await ack()
            self.open_settings(body)
            return
        await self._store("command", f"cmd:{team_of(body)}:{body.get('trigger_id')}", body)
        await ack()

