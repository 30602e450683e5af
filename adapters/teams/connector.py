"""The one `CloudAdapter` we run, and how it builds connector clients.

We replace the SDK's `RestChannelServiceClientFactory` with a small factory because the SDK's
refuses to build a client without a token for any non-anonymous identity (and the identity
`continue_conversation` makes is never anonymous), so a bot with an app id but no password (the fake
connector in tests) or no app id at all could not send proactively. Ours asks MSAL (the SDK's
`MsalAuth`) for the token when there is a password and sends none otherwise; the clients themselves
are the SDK's `TeamsConnectorClient` and `UserTokenClient`.
"""

from __future__ import annotations

from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    AccessTokenProviderBase,
    AgentAuthConfiguration,
    AuthenticationConstants,
    ClaimsIdentity,
    TurnContext,
)
from microsoft_agents.hosting.core.authorization import AuthTypes
from microsoft_agents.hosting.core.connector import ConnectorClientBase, UserTokenClientBase
from microsoft_agents.hosting.core.connector.client import UserTokenClient
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from adapters.teams.auth import TeamsAuthSettings

# The Bot Framework's own tenant: where a multi-tenant bot gets its outbound tokens.
BOTFRAMEWORK_TENANT = "botframework.com"


def token_provider(settings: TeamsAuthSettings) -> AccessTokenProviderBase | None:
    """MSAL client credentials for the Azure Bot registration; None means unauthenticated calls."""
    if not (settings.app_id and settings.app_password):
        return None
    return MsalAuth(AgentAuthConfiguration(auth_type=AuthTypes.client_secret, client_id=settings.app_id,
                                           tenant_id=settings.tenant_id or BOTFRAMEWORK_TENANT,
                                           client_secret=settings.app_password))


class ConnectorFactory:
    """The SDK's `ChannelServiceClientFactoryBase`: a Teams connector client per turn."""

    def __init__(self, settings: TeamsAuthSettings) -> None:
        self._app_id = settings.app_id
        self._provider = token_provider(settings)

    async def create_connector_client(self, context: TurnContext | None, claims_identity: ClaimsIdentity,
                                      service_url: str, audience: str, scopes: list[str] | None = None,
                                      use_anonymous: bool = False) -> ConnectorClientBase:
        if not service_url:
            raise TypeError("a connector client needs the activity's serviceUrl")
        token = ""
        if self._provider is not None:
            token = await self._provider.get_access_token(
                audience or AuthenticationConstants.AGENTS_SDK_SCOPE,
                scopes or claims_identity.get_token_scope())
        return TeamsConnectorClient(endpoint=service_url, token=token)

    async def create_user_token_client(self, context: TurnContext, claims_identity: ClaimsIdentity,
                                       use_anonymous: bool = False) -> UserTokenClientBase:
        # We use no user sign-in (OAuth cards, SSO); the SDK still wants a client on every turn, so it
        # gets an unauthenticated one that is never called, rather than a token fetched per turn.
        return UserTokenClient(endpoint=AuthenticationConstants.AGENTS_SDK_OAUTH_URL, token="",
                               app_id=self._app_id or "anonymous")


async def _raise_turn_error(context: TurnContext, error: Exception) -> None:
    # The SDK's default handler posts the exception text into the user's chat; we let it propagate
    # to the transport (a 500) or to the proactive sender (which retries or reports it).
    raise error


def build_cloud_adapter(settings: TeamsAuthSettings) -> CloudAdapter:
    """The one SDK adapter shared by inbound turns and proactive sends."""
    adapter = CloudAdapter(channel_service_client_factory=ConnectorFactory(settings))
    adapter.on_turn_error = _raise_turn_error
    return adapter
