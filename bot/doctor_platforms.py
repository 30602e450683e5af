"""`rflow doctor`'s checks of the platforms: Slack (auth.test, Socket Mode), Teams (a token from the
Microsoft login, the signing keys) and Anthropic (the configured models). None posts anything."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from bot.doctor_rows import FAILED, OK, SKIPPED, Check
from bot.doctor_rows import http_words as _http_words
from bot.doctor_rows import quoted as _quoted
from bot.doctor_rows import secret as _secret
from bot.settings import Settings

SLACK_API = "https://slack.com/api/"
ANTHROPIC_API = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
MICROSOFT_LOGIN = "https://login.microsoftonline.com"
BOTFRAMEWORK_TENANT = "botframework.com"  # where a multi-tenant bot gets its tokens (adapters/teams/connector.py)
BOTFRAMEWORK_SCOPE = "https://api.botframework.com/.default"


# ---- Slack -----------------------------------------------------------------------------------------

SLACK_REFUSED = {
    "invalid_auth": "Slack does not accept {setting} (invalid_auth): copy it again from {where}, or reinstall the app",
    "not_authed": "Slack got no token from {setting}: copy it again from {where}",
    "token_revoked": "{setting} was revoked (the app was uninstalled?): reinstall the app and copy the new token",
    "token_expired": "{setting} has expired: reinstall the app, or turn token rotation off, and copy the new token",
    "account_inactive": "{setting} belongs to a deleted app or a deactivated workspace: reinstall the app",
    "not_allowed_token_type": "{setting} is the wrong kind of token: copy the one from {where}",
}


async def _slack_call(http: httpx.AsyncClient, settings: Settings, method: str, token: str) -> dict[str, Any]:
    base = (settings.slack_api_url or SLACK_API).rstrip("/") + "/"
    response = await http.post(base + method, headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 429:
        return {"ok": False, "error": f"rate limited (retry after {response.headers.get('Retry-After', '?')} s)"}
    if response.status_code != 200:
        return {"ok": False, "error": f"HTTP {response.status_code}"}
    try:
        body = response.json()
    except ValueError:
        return {"ok": False, "error": "an answer that is not JSON (is RF_SLACK_API_URL right?)"}
    return body if isinstance(body, dict) else {"ok": False, "error": "an unexpected answer"}


def _slack_refusal(error: str, setting: str, where: str) -> str:
    template = SLACK_REFUSED.get(error)
    return template.format(setting=setting, where=where) if template else f"Slack refused {setting} ({_quoted(error)})"


async def check_slack(settings: Settings, http: httpx.AsyncClient) -> list[Check]:
    token, app_token = _secret(settings.slack_bot_token), _secret(settings.slack_app_token)
    rows: list[Check] = []
    if token:
        body = await _slack_call(http, settings, "auth.test", token)
        if body.get("ok"):
            rows.append(Check("slack", OK, f"SLACK_BOT_TOKEN works: workspace {body.get('team')} "
                                           f"({body.get('team_id')}) as @{body.get('user')}"))
        else:
            rows.append(Check("slack", FAILED, _slack_refusal(str(body.get("error")), "SLACK_BOT_TOKEN",
                                                              "OAuth & Permissions → Bot User OAuth Token")))
    elif settings.slack_oauth:
        rows.append(Check("slack", SKIPPED, "OAuth install (SLACK_CLIENT_ID): each workspace's token is stored when "
                                            "it installs the app, and used as it is"))
    elif settings.slack_signing_secret or app_token:
        rows.append(Check("slack", FAILED, "no SLACK_BOT_TOKEN, nor SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: "
                                           "Slack cannot be answered (see configuration)"))
    else:
        rows.append(Check("slack", SKIPPED, "not configured (SLACK_SIGNING_SECRET with SLACK_BOT_TOKEN, or "
                                            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)"))
    if app_token:
        body = await _slack_call(http, settings, "apps.connections.open", app_token)
        rows.append(Check("slack socket mode", OK, "SLACK_APP_TOKEN works: Socket Mode can connect") if body.get("ok")
                    else Check("slack socket mode", FAILED, _slack_refusal(
                        str(body.get("error")), "SLACK_APP_TOKEN", "Basic Information → App-Level Tokens")))
    return rows


# ---- Teams -----------------------------------------------------------------------------------------

async def check_teams(settings: Settings, http: httpx.AsyncClient) -> list[Check]:
    app_id = (settings.microsoft_app_id or "").strip()
    if not app_id:
        if settings.teams_anonymous:
            return [Check("teams", SKIPPED, "RF_TEAMS_ANONYMOUS=true and no MICROSOFT_APP_ID: /api/messages accepts "
                                            "UNAUTHENTICATED requests (local testing only); no token to get")]
        return [Check("teams", SKIPPED, "not configured (MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD)")]
    token, keys = await asyncio.gather(_teams_token(settings, http, app_id), _teams_keys(settings, http, app_id),
                                       return_exceptions=True)
    rows = []
    for name, found in (("teams token", token), ("teams signing keys", keys)):
        if isinstance(found, httpx.HTTPError):
            rows.append(Check(name, FAILED, _http_words(found, "the Microsoft login" if name == "teams token"
                                                        else "the Bot Framework's key service")))
        elif isinstance(found, BaseException):
            raise found
        else:
            rows.append(found)
    return rows


TEAMS_REFUSED = {
    "AADSTS7000215": "MICROSOFT_APP_PASSWORD is not a valid client secret of the app: make a new one (Azure Bot → "
                     "Configuration → Manage Password) and copy its Value",
    "AADSTS7000222": "MICROSOFT_APP_PASSWORD has expired: make a new client secret and copy its Value",
    "AADSTS700016": "MICROSOFT_APP_ID is not an app in tenant {tenant}: check MICROSOFT_APP_ID, and set "
                    "MICROSOFT_APP_TENANT_ID only for a single-tenant bot",
    "AADSTS90002": "MICROSOFT_APP_TENANT_ID {tenant} is not a Microsoft Entra tenant: copy the Directory (tenant) ID",
    "AADSTS900023": "MICROSOFT_APP_TENANT_ID {tenant} is not a tenant ID: copy the Directory (tenant) ID",
}


async def _teams_token(settings: Settings, http: httpx.AsyncClient, app_id: str) -> Check:
    password = _secret(settings.microsoft_app_password)
    if not password:
        return Check("teams token", FAILED, "MICROSOFT_APP_PASSWORD is not set: the bot cannot get a token to reply "
                                            "(see configuration)")
    tenant = (settings.microsoft_app_tenant_id or "").strip() or BOTFRAMEWORK_TENANT
    login = (settings.teams_login_url or MICROSOFT_LOGIN).rstrip("/")
    response = await http.post(f"{login}/{quote(tenant)}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": app_id, "client_secret": password,
        "scope": BOTFRAMEWORK_SCOPE})
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code == 200 and body.get("access_token"):
        return Check("teams token", OK, f"the Microsoft login gave app {app_id} a token (tenant {tenant})")
    description = str(body.get("error_description") or body.get("error") or f"HTTP {response.status_code}")
    for code, words in TEAMS_REFUSED.items():
        if description.startswith(code + ":") or f" {code}:" in description:
            return Check("teams token", FAILED, f"{words.format(tenant=tenant)} ({code})")
    return Check("teams token", FAILED, f"the Microsoft login refused app {app_id}: {_quoted(description.splitlines()[0])}")


async def _teams_keys(settings: Settings, http: httpx.AsyncClient, app_id: str) -> Check:
    """The signing keys of the Bot Connector's tokens: without them every Teams request is refused."""
    from adapters.teams.auth import TeamsAuthSettings

    auth = TeamsAuthSettings(app_id=app_id, tenant_id=(settings.microsoft_app_tenant_id or None),
                             openid_metadata_url=settings.teams_openid_url or None)
    counts = []
    for url in auth.metadata_urls():
        metadata = await http.get(url)
        if metadata.status_code != 200:
            return Check("teams signing keys", FAILED, f"{url} answered HTTP {metadata.status_code}")
        jwks_uri = (metadata.json() or {}).get("jwks_uri")
        if not isinstance(jwks_uri, str):
            return Check("teams signing keys", FAILED, f"{url} names no jwks_uri")
        keys = await http.get(jwks_uri)
        found = (keys.json() or {}).get("keys") if keys.status_code == 200 else None
        if not isinstance(found, list) or not found:
            return Check("teams signing keys", FAILED, f"{jwks_uri} gave no signing keys (HTTP {keys.status_code})")
        counts.append(f"{len(found)} from {urlsplit(url).netloc}")
    return Check("teams signing keys", OK, f"inbound tokens can be checked: signing keys {', '.join(counts)}")


# ---- Anthropic -------------------------------------------------------------------------------------

async def check_anthropic(settings: Settings, http: httpx.AsyncClient) -> Check:
    key = _secret(settings.anthropic_api_key)
    if not key:
        return Check("anthropic", SKIPPED, "ANTHROPIC_API_KEY is not set: the assistant is off (everything else works)")
    base = (settings.anthropic_base_url or ANTHROPIC_API).rstrip("/")
    host = urlsplit(base).netloc or base
    headers = {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}
    models = {settings.main_model: "RF_MAIN_MODEL", settings.fast_model: "RF_FAST_MODEL"}
    listed = True
    for model, setting in models.items():
        response = await http.get(f"{base}/v1/models/{quote(model, safe='')}", headers=headers)
        if response.status_code in (404, 405) and _error_type(response) is None:  # no models list (a gateway, a stand-in)
            listed = False
            response = await http.post(f"{base}/v1/messages", headers=headers, json={
                "model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "ping"}]})
        problem = _anthropic_problem(response, model, setting)
        if problem:
            return Check("anthropic", FAILED, problem)
    how = "" if listed else " (no models list there: a 1-token message was sent)"
    return Check("anthropic", OK, f"ANTHROPIC_API_KEY works at {host}: {' and '.join(models)} answer{how}")


def _error_type(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("type")) if isinstance(error, dict) and error.get("type") else None


def _error_message(response: httpx.Response) -> str:
    try:
        return _quoted(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return _quoted(response.text[:200])


def _anthropic_problem(response: httpx.Response, model: str, setting: str) -> str | None:
    status = response.status_code
    if status == 200:
        return None
    kind = _error_type(response) or f"HTTP {status}"
    if status == 401:
        return f"Anthropic does not accept ANTHROPIC_API_KEY ({kind}): make a key at console.anthropic.com → API Keys"
    if status == 403:
        return f"ANTHROPIC_API_KEY may not do this ({kind}: {_error_message(response)})"
    if status == 404:
        return f"the model {model!r} ({setting}) is not available to this key: check the model name"
    if status == 429:
        return f"Anthropic is rate-limiting this key ({kind}): wait, or raise the organisation's limits"
    if status >= 500:
        return f"Anthropic answered {status} ({kind}): the service is busy or down, try again later"
    return f"Anthropic refused the check with {model!r} ({kind}: {_error_message(response)})"

