"""Runs stored Slack deliveries (from the core's inbox) after the ack: events, button clicks, modal
submissions and `/rf` commands become engine calls; a refusal reaches the user as an ephemeral
message and a log line, and changes nothing (each engine call is one transaction)."""

from __future__ import annotations

import logging
from typing import Any

from adapters.slack.caller import Caller, caller_of
from adapters.slack.on_clicks import ClickHandlers
from adapters.slack.on_commands import CommandHandlers
from adapters.slack.on_events import EventHandlers
from adapters.slack.surface import SlackSurface
from adapters.slack.wording import error_text
from core.errors import DomainError
from core.ordering import KeyedLocks
from core.platform import InboundDelivery

log = logging.getLogger("rflow.slack")


class SlackProcessor:
    def __init__(self, surface: SlackSurface) -> None:
        self.surface = surface
        self.events = EventHandlers(surface, self.tell)
        self.commands = CommandHandlers(surface, self.tell)
        self.clicks = ClickHandlers(surface, self.tell)
        self._ordering = KeyedLocks()

    async def handle(self, delivery: InboundDelivery) -> None:
        """The inbox handler for platform `slack`. Domain refusals are answered, not raised: the
        delivery is done. Anything else raises and the inbox retries it."""
        kind = str(delivery.payload.get("kind"))
        body: dict[str, Any] = delivery.payload.get("body") or {}
        caller = caller_of(kind, body)
        try:
            if kind == "event":
                event = body.get("event") or {}
                # One thread's messages one at a time, in order, although several workers run.
                async with self._ordering.hold(f"{event.get('channel')}:{event.get('thread_ts') or event.get('ts')}"):
                    await self.events.handle(body)
            elif kind == "command":
                await self.commands.handle(body)
            elif kind == "action":
                await self.clicks.action(body)
            elif kind == "view":
                await self.clicks.submission(body)
            else:
                log.warning("unknown Slack delivery kind %s", kind)
        except DomainError as exc:
            log.info("refused Slack %s: %s", kind, exc.message, extra={"code": exc.code})
            await self.tell(caller, error_text(exc))

    async def tell(self, caller: Caller, text: str, *, blocks: list[dict[str, Any]] | None = None) -> None:
        """An ephemeral answer: through the command's response_url when there is one (it works in
        channels the bot is not in), else chat.postEphemeral, else a DM."""
        if caller.response_url and await self.surface.gateway.respond(caller.response_url, text, blocks=blocks):
            return
        if caller.channel and await self.surface.gateway.ephemeral(caller.team, caller.channel, caller.user, text,
                                                                    thread_ts=caller.thread_ts, blocks=blocks):
            return
        await self.surface.gateway.dm(caller.team, caller.user, text, blocks=blocks)
