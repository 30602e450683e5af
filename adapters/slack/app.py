"""The Slack surface assembled: a Bolt `AsyncApp` for the request path (signature check, OAuth), the
inbox handler for the work after the ack, the notifier for engine events, and the HTTP routes on
the bot's aiohttp server. `bot/` builds one of these when Slack credentials are configured."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.installation import Installation

from adapters.slack.gateway import SlackGateway
from adapters.slack.ingress import SlackIngress
from adapters.slack.modals import ModalOpener
from adapters.slack.notifier import SlackNotifier
from adapters.slack.on_psa import PsaSettingsFlow
from adapters.slack.processor import SlackProcessor
from adapters.slack.surface import SlackSurface
from core.engine import Engine
from core.platform import SLACK
from core.tenants import PlatformUser

log = logging.getLogger("rflow.slack")
EVENTS_PATH = "/slack/events"


@dataclass(frozen=True, kw_only=True)
class SlackConfig:
    signing_secret: str
    bot_token: str | None = None
    api_url: str | None = None
    post_interval: float = 1.0


class SlackAdapter:
    def __init__(self, engine: Engine, config: SlackConfig, *, oauth_settings: AsyncOAuthSettings | None = None) -> None:
        self.engine = engine
        self.config = config
        self.installation_store: AsyncInstallationStore | None = oauth_settings.installation_store if oauth_settings else None
        self.gateway = SlackGateway(token_for=self._token_for, api_url=config.api_url, post_interval=config.post_interval)
        self.surface = SlackSurface(engine, self.gateway)
        self.processor = SlackProcessor(self.surface)
        self.notifier = SlackNotifier(self.surface)
        self.modals = ModalOpener(self.surface)
        self.bolt = AsyncApp(
            signing_secret=config.signing_secret,
            client=self.gateway.client_for_token(None if oauth_settings else config.bot_token),
            oauth_settings=oauth_settings,
            process_before_response=True,  # the answer leaves once the delivery is stored
            raise_error_for_unhandled_request=False,
        )
        self.psa_settings = PsaSettingsFlow(self.surface, self.modals)
        self.psa_settings.attach(self.bolt)  # first: its rf_psa_ requests are answered in the ack
        SlackIngress(accept=engine.inbox.accept, open_modal=self.modals.spawn,
                     open_settings=self.modals.spawn_settings).attach(self.bolt)
        engine.inbox.register(SLACK, self.processor.handle)

    async def installed(self, installation: Installation) -> None:
        """OAuth success: the workspace's account is created (installer as owner) or joined."""
        team = installation.team_id or ""
        profile = await self.gateway.user(team, installation.user_id)
        await self.engine.tenants.install(PlatformUser(
            platform=SLACK, tenant_id=team, tenant_name=installation.team_name or team, user_id=installation.user_id,
            name=profile.name, email=profile.email, platform_admin=True))

    async def _token_for(self, team_id: str) -> str | None:
        if self.installation_store is None:
            return self.config.bot_token
        bot = await self.installation_store.async_find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot else None

    def add_routes(self, web_app: web.Application) -> None:
        web_app.router.add_post(EVENTS_PATH, self.handle_events)
        flow = self.bolt.oauth_flow
        if flow is not None:
            web_app.router.add_get(flow.install_path, self.handle_install)
            web_app.router.add_get(flow.redirect_uri_path, self.handle_oauth_redirect)

    async def handle_events(self, request: web.Request) -> web.Response:
        """Events, interactivity, slash commands and options all arrive here, signed by Slack."""
        return await to_aiohttp_response(await self.bolt.async_dispatch(await to_bolt_request(request)))

    async def handle_install(self, request: web.Request) -> web.Response:
        assert self.bolt.oauth_flow is not None
        return await to_aiohttp_response(await self.bolt.oauth_flow.handle_installation(await to_bolt_request(request)))

    async def handle_oauth_redirect(self, request: web.Request) -> web.Response:
        assert self.bolt.oauth_flow is not None
        return await to_aiohttp_response(await self.bolt.oauth_flow.handle_callback(await to_bolt_request(request)))

    async def close(self) -> None:
        await self.modals.drain()
        await self.notifier.close()
        await self.gateway.close()
