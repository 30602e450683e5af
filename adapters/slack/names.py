"""Names for the people and channels a Slack text refers to, so `<@U123>` reaches the engine as the
name the team knows (R38): first the member this account already knows by that Slack identity,
then users.info (display name), else nothing and the decoder shows `@U123`. A channel sent without
its label is asked of conversations.info. Answers, misses included, are kept a few minutes in a
small bounded cache, so a busy thread does not ask Slack for every message."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from adapters.slack import inbound
from adapters.slack.gateway import NETWORK_ERRORS, SlackGateway

log = logging.getLogger("rflow.slack")

KnownName = Callable[[str, str], Awaitable[str | None]]  # (team, user id) → a member's name, if known
TTL_SECONDS = 600.0
MAX_ENTRIES = 2000


class MentionNames:
    def __init__(self, *, known: KnownName, gateway: SlackGateway, ttl: float = TTL_SECONDS,
                 max_entries: int = MAX_ENTRIES) -> None:
        self.known = known
        self.gateway = gateway
        self.ttl = ttl
        self.max_entries = max_entries
        self._cache: OrderedDict[tuple[str, str, str], tuple[float, str | None]] = OrderedDict()

    async def decode(self, team: str, text: str) -> str:
        """Slack wire text from workspace `team` as the person saw it, names looked up."""
        return inbound.decode(text, await self.names_for(team, text))

    async def names_for(self, team: str, text: str) -> inbound.Names:
        users, channels = inbound.referenced(text)
        found_users = {uid: name for uid in sorted(users) if (name := await self._lookup(team, "user", uid))}
        found_channels = {cid: name for cid in sorted(channels) if (name := await self._lookup(team, "channel", cid))}
        return inbound.Names(users=found_users, channels=found_channels)

    async def _lookup(self, team: str, kind: str, ref: str) -> str | None:
        key = (team, kind, ref)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            self._cache.move_to_end(key)
            return cached[1]
        try:
            name = await (self._user(team, ref) if kind == "user" else self.gateway.channel_name(team, ref))
        except NETWORK_ERRORS as exc:  # a name is nice to have: the id will do, and is not remembered
            log.warning("looking up Slack %s %s failed: %s", kind, ref, exc)
            return None
        self._cache[key] = (time.monotonic(), name)
        self._cache.move_to_end(key)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return name

    async def _user(self, team: str, user_id: str) -> str | None:
        if name := await self.known(team, user_id):
            return name
        profile = await self.gateway.user(team, user_id)  # users.info; on failure its name is the id
        return profile.name if profile.name and profile.name != user_id else None
