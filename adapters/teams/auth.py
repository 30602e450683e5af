"""Who may call `/api/messages` (R36): the Bot Connector's signed JWT, checked before any work.

Inbound tokens are checked here with PyJWT rather than with the Agents SDK's `JwtTokenValidator`:
the SDK hard-codes where it fetches signing keys (`login.botframework.com` / `login.microsoftonline.com`,
`_entra_issuers.BOTFRAMEWORK_JWKS_URIS`) and checks the issuer only when `VALIDATE_ISSUER` is opted
in, so it cannot be pointed at a local OpenID document and the rejection paths could not be proved
over the wire. This validator follows the Bot Framework rules (OpenID metadata → JWKS, RS256,
audience = our app id, issuer allow-list, 5-minute clock skew) and is the same code in tests and in
production; only the metadata URL and issuers differ.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

log = logging.getLogger(__name__)

BOTFRAMEWORK_ISSUER = "https://api.botframework.com"
BOTFRAMEWORK_OPENID_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
ANONYMOUS_WARNING = (
    "Teams endpoint /api/messages runs WITHOUT AUTHENTICATION: no MICROSOFT_APP_ID is configured, "
    "so anyone who can reach it can act as any Teams user. Use this only for local testing."
)


@dataclass(frozen=True)
class TeamsAuthSettings:
    """The Azure Bot registration; no app id means anonymous local testing."""

    app_id: str | None = None
    app_password: str | None = None
    tenant_id: str | None = None  # single-tenant registration
    openid_metadata_url: str | None = None  # overrides the defaults below (tests: a local issuer)
    issuers: tuple[str, ...] | None = None  # overrides the default allow-list
    leeway_s: float = 300.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TeamsAuthSettings:
        return cls(app_id=env.get("MICROSOFT_APP_ID") or None,
                   app_password=env.get("MICROSOFT_APP_PASSWORD") or None,
                   tenant_id=env.get("MICROSOFT_APP_TENANT_ID") or None)

    @property
    def anonymous(self) -> bool:
        return not self.app_id

    def metadata_urls(self) -> tuple[str, ...]:
        if self.openid_metadata_url:
            return (self.openid_metadata_url,)
        urls = [BOTFRAMEWORK_OPENID_URL]
        if self.tenant_id:
            urls.append(f"https://login.microsoftonline.com/{self.tenant_id}/v2.0/.well-known/openid-configuration")
        return tuple(urls)

    def allowed_issuers(self) -> tuple[str, ...]:
        if self.issuers is not None:
            return self.issuers
        found = [BOTFRAMEWORK_ISSUER]
        if self.tenant_id:
            found += [f"https://sts.windows.net/{self.tenant_id}/",
                      f"https://login.microsoftonline.com/{self.tenant_id}/v2.0"]
        return tuple(found)


class AuthError(Exception):
    """The request is not from the Bot Connector; the reason is for our log, never for the caller."""


@dataclass(frozen=True)
class Caller:
    """A verified caller: its token claims and, when the key says so, the channels it may speak for."""

    claims: Mapping[str, Any]
    endorsements: frozenset[str] | None = None

    @property
    def anonymous(self) -> bool:
        return not self.claims

    @property
    def service_url(self) -> str | None:
        value = self.claims.get("serviceurl")
        return value if isinstance(value, str) else None


@dataclass
class _Key:
    jwk: jwt.PyJWK
    endorsements: frozenset[str] | None


class _KeySet:
    """The signing keys behind one OpenID metadata document, refreshed daily or on an unknown kid."""

    def __init__(self, metadata_url: str, *, max_age_s: float, min_refetch_s: float) -> None:
        self.metadata_url = metadata_url
        self._keys: dict[str, _Key] = {}
        self._fetched_at = float("-inf")
        self._max_age_s = max_age_s
        self._min_refetch_s = min_refetch_s
        self._lock = asyncio.Lock()

    def cached(self, kid: str) -> _Key | None:
        if time.monotonic() - self._fetched_at > self._max_age_s:
            return None
        return self._keys.get(kid)

    async def lookup(self, kid: str, session: aiohttp.ClientSession) -> _Key | None:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            # An unknown kid may be a rotated key; refetch, but not more often than min_refetch_s,
            # so forged kids cannot make us hammer the metadata endpoint.
            if age > self._max_age_s or (kid not in self._keys and age > self._min_refetch_s):
                await self._refresh(session)
            return self._keys.get(kid)

    async def _refresh(self, session: aiohttp.ClientSession) -> None:
        try:
            async with session.get(self.metadata_url) as resp:
                resp.raise_for_status()
                jwks_uri = (await resp.json(content_type=None))["jwks_uri"]
            async with session.get(jwks_uri) as resp:
                resp.raise_for_status()
                document = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, KeyError, ValueError, TypeError) as exc:
            self._fetched_at = time.monotonic() - self._max_age_s + self._min_refetch_s  # retry soon
            log.error("could not fetch signing keys from %s: %s", self.metadata_url, type(exc).__name__)
            return
        keys: dict[str, _Key] = {}
        for item in document.get("keys", []):
            try:
                jwk = jwt.PyJWK(item)
            except jwt.PyJWTError:
                continue  # a key type we cannot use; Microsoft publishes only RSA today
            endorsed = item.get("endorsements")
            keys[str(item.get("kid"))] = _Key(jwk, frozenset(endorsed) if isinstance(endorsed, list) else None)
        self._keys = keys
        self._fetched_at = time.monotonic()


class InboundAuthenticator:
    """Validates the connector's bearer token before a request does any work."""

    def __init__(self, settings: TeamsAuthSettings, *, max_key_age_s: float = 24 * 3600,
                 min_refetch_s: float = 300.0) -> None:
        self.settings = settings
        self._keysets = [_KeySet(url, max_age_s=max_key_age_s, min_refetch_s=min_refetch_s)
                         for url in settings.metadata_urls()]
        self._session: aiohttp.ClientSession | None = None
        if settings.anonymous:
            log.warning(ANONYMOUS_WARNING)

    async def authenticate(self, authorization: str | None) -> Caller:
        if self.settings.anonymous:
            return Caller(claims={})
        token = _bearer(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError("malformed token") from exc
        if header.get("alg") != "RS256":
            raise AuthError(f"algorithm {header.get('alg')!r} not accepted")
        key = await self._key(str(header.get("kid")))
        try:
            claims = jwt.decode(token, key=key.jwk.key, algorithms=["RS256"],
                                audience=self.settings.app_id, issuer=list(self.settings.allowed_issuers()),
                                leeway=self.settings.leeway_s, options={"require": ["exp", "iss", "aud"]})
        except jwt.PyJWTError as exc:
            raise AuthError(type(exc).__name__) from exc
        return Caller(claims=claims, endorsements=key.endorsements)

    async def _key(self, kid: str) -> _Key:
        for keyset in self._keysets:
            if found := keyset.cached(kid):
                return found
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        for keyset in self._keysets:
            if found := await keyset.lookup(kid, self._session):
                return found
        raise AuthError("signing key not found")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(ch.isspace() for ch in token):
        raise AuthError("not a bearer token")
    return token
