"""Multi-workspace install with Bolt's OAuth flow. The installation and state stores are slack_sdk's
(SQLAlchemy, in our database; `bot/` builds them). A completed install creates or joins an account:
a new workspace gets an account whose owner is the installer (R35)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

log = logging.getLogger("rflow.slack")

BOT_SCOPES = ("app_mentions:read", "channels:history", "groups:history", "im:history", "mpim:history", "chat:write",
              "chat:write.public", "commands", "im:write", "users:read", "users:read.email", "files:write",
              "channels:read", "groups:read", "team:read")

OnInstalled = Callable[[Installation], Awaitable[None]]


def make_oauth_settings(*, client_id: str, client_secret: str, installation_store: AsyncInstallationStore,
                        state_store: AsyncOAuthStateStore, on_installed: OnInstalled,
                        redirect_uri: str | None = None) -> AsyncOAuthSettings:
    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        try:
            await on_installed(args.installation)
        except Exception:  # the install itself succeeded; the account is made on first contact then
            log.exception("mapping the Slack install of %s to an account failed", args.installation.team_id)
        return await args.default.success(args)

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        log.warning("Slack install failed: %s", args.reason)
        return await args.default.failure(args)

    return AsyncOAuthSettings(
        client_id=client_id, client_secret=client_secret, scopes=list(BOT_SCOPES), user_scopes=[],
        installation_store=installation_store, state_store=state_store, redirect_uri=redirect_uri,
        callback_options=AsyncCallbackOptions(success=success, failure=failure),
    )
