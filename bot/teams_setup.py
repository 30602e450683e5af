"""Builds the Teams surface from settings: the Azure Bot registration (MICROSOFT_APP_ID, _PASSWORD,
_TENANT_ID for single-tenant) validates every inbound token; without an app id Teams stays off,
unless anonymous local testing is asked for explicitly (RF_TEAMS_ANONYMOUS=true)."""

from __future__ import annotations

import logging

from adapters.teams.app import TeamsAdapter
from adapters.teams.auth import TeamsAuthSettings
from bot.settings import Settings
from core.engine import Engine

log = logging.getLogger("rflow.teams")
ANONYMOUS = ("RF_TEAMS_ANONYMOUS=true and no MICROSOFT_APP_ID: /api/messages accepts UNAUTHENTICATED requests. "
             "Anyone who can reach this server can act as any Teams user. Never run this way in production.")


def teams_auth(settings: Settings) -> TeamsAuthSettings | None:
    if settings.microsoft_app_id:
        password = settings.microsoft_app_password.get_secret_value() if settings.microsoft_app_password else None
        return TeamsAuthSettings(app_id=settings.microsoft_app_id, app_password=password or None,
                                 tenant_id=settings.microsoft_app_tenant_id or None,
                                 openid_metadata_url=settings.teams_openid_url or None)
    if settings.teams_anonymous:
        log.warning("!" * 20 + " " + ANONYMOUS + " " + "!" * 20)
        return TeamsAuthSettings()
    return None


async def build_teams(settings: Settings, engine: Engine) -> TeamsAdapter | None:
    auth = teams_auth(settings)
    return TeamsAdapter(engine, auth) if auth is not None else None
