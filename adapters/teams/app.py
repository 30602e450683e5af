"""The Teams surface assembled: `POST /api/messages` (token checked before any work), the inbox
handler for the work after the answer, the notifier for engine events, and proactive sends through
one Agents SDK adapter. `bot/` builds one of these when Teams is configured."""

from __future__ import annotations

import logging

from aiohttp import web

from adapters.teams.auth import TeamsAuthSettings
from adapters.teams.clicks import DEADLINE_S, ClickHandlers
from adapters.teams.connector import build_cloud_adapter
from adapters.teams.handlers import MessageHandlers
from adapters.teams.notifier import TeamsNotifier
from adapters.teams.pacing import RetryPolicy
from adapters.teams.proactive import TeamsSender
from adapters.teams.processor import TeamsIngress, TeamsProcessor
from adapters.teams.search import TypeaheadSearch
from adapters.teams.settings import PsaSettingsCards
from adapters.teams.surface import MEMBER_TTL_S, TeamsSurface
from adapters.teams.transport import TeamsTransport
from core.engine import Engine
from core.platform import TEAMS

log = logging.getLogger("rflow.teams")
MESSAGES_PATH = "/api/messages"


class TeamsAdapter:
    def __init__(self, engine: Engine, settings: TeamsAuthSettings, *, retry: RetryPolicy | None = None,
                 invoke_deadline_s: float = DEADLINE_S, member_ttl_s: float = MEMBER_TTL_S) -> None:
        self.engine = engine
        self.settings = settings
        cloud = build_cloud_adapter(settings)  # one SDK adapter for inbound turns and proactive sends
        self.sender = TeamsSender(settings, adapter=cloud, retry=retry)
        self.surface = TeamsSurface(engine, self.sender, member_ttl_s=member_ttl_s)
        self.clicks = ClickHandlers(self.surface, engine.inbox.accept, deadline_s=invoke_deadline_s)
        self.psa_settings = PsaSettingsCards(self.surface, deadline_s=invoke_deadline_s)
        self.search = TypeaheadSearch(self.surface, deadline_s=invoke_deadline_s)
        self.processor = TeamsProcessor(self.surface, MessageHandlers(self.surface, self.psa_settings),
                                        self.clicks, self.psa_settings)
        self.ingress = TeamsIngress(accept=engine.inbox.accept, clicks=self.clicks, settings=self.psa_settings,
                                    search=self.search)
        self.transport = TeamsTransport(settings, self.ingress.on_activity, adapter=cloud)
        self.notifier = TeamsNotifier(self.surface)
        engine.inbox.register(TEAMS, self.processor.handle)

    def add_routes(self, web_app: web.Application) -> None:
        web_app.router.add_post(MESSAGES_PATH, self.transport.handle)

    async def drain(self) -> None:
        """Wait for clicks still finishing after their invoke was answered, and answers being posted."""
        await self.clicks.drain()
        await self.psa_settings.drain()
        await self.notifier.drain()

    async def close(self) -> None:
        await self.drain()
        await self.notifier.close()
        await self.transport.close()
