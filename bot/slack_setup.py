"""Builds the Slack surface from settings: one workspace with SLACK_BOT_TOKEN, or any number through
Bolt's OAuth flow (SLACK_CLIENT_ID/SECRET) with slack_sdk's SQLAlchemy stores in our database."""

from __future__ import annotations

from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.app import SlackAdapter, SlackConfig
from adapters.slack.oauth import make_oauth_settings
from bot.settings import Settings
from core.engine import Engine

STATE_SECONDS = 600


async def build_slack(settings: Settings, engine: Engine, db: AsyncEngine) -> SlackAdapter | None:
    if not settings.slack_configured or settings.slack_signing_secret is None:
        return None
    config = SlackConfig(signing_secret=settings.slack_signing_secret.get_secret_value(),
                         bot_token=settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None,
                         api_url=settings.slack_api_url, post_interval=settings.slack_post_interval)
    if not settings.slack_oauth or settings.slack_client_secret is None or settings.slack_client_id is None:
        return SlackAdapter(engine, config)
    installations = AsyncSQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=db)
    states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=db)
    await installations.create_tables()
    await states.create_tables()
    built: list[SlackAdapter] = []

    async def on_installed(installation: Installation) -> None:
        await built[0].installed(installation)

    oauth = make_oauth_settings(client_id=settings.slack_client_id,
                                client_secret=settings.slack_client_secret.get_secret_value(),
                                installation_store=installations, state_store=states, on_installed=on_installed,
                                redirect_uri=settings.slack_redirect_uri)
    built.append(SlackAdapter(engine, config, oauth_settings=oauth))
    return built[0]
