"""A local stand-in for login.botframework.com: an OpenID metadata document and a JWKS on
127.0.0.1 (port 0), and tokens signed the way the Bot Connector signs the ones it sends a bot.

`make_token` signs with the published key; `foreign_token` signs with a key that is not published
(unknown kid); `forged_token` names the published kid but is signed by another key.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

BOTFRAMEWORK_ISSUER = "https://api.botframework.com"
METADATA_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"


@functools.cache
def _rsa_key(name: str) -> rsa.RSAPrivateKey:
    """One key per name per test run: RSA generation is the slow part of these tests."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeTeamsIssuer:
    def __init__(self, *, kid: str = "rf-test-key", endorsements: tuple[str, ...] | None = ("msteams",)) -> None:
        self.kid = kid
        self.endorsements = endorsements
        self.key = _rsa_key("published")
        self.other_key = _rsa_key("unpublished")
        self.metadata_hits = 0
        self.keys_hits = 0
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    @property
    def metadata_url(self) -> str:
        return self.base_url + METADATA_PATH

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get(METADATA_PATH, self._metadata)
        app.router.add_get(KEYS_PATH, self._keys)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _metadata(self, request: web.Request) -> web.Response:
        self.metadata_hits += 1
        return web.json_response({"issuer": BOTFRAMEWORK_ISSUER, "jwks_uri": self.base_url + KEYS_PATH,
                                  "id_token_signing_alg_values_supported": ["RS256"]})

    async def _keys(self, request: web.Request) -> web.Response:
        self.keys_hits += 1
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk |= {"kid": self.kid, "use": "sig", "kty": "RSA"}
        if self.endorsements is not None:
            jwk["endorsements"] = list(self.endorsements)
        return web.json_response({"keys": [jwk]})

    def make_token(self, aud: str, *, iss: str = BOTFRAMEWORK_ISSUER, exp_in: float = 3600.0,
                   serviceurl: str | None = None, kid: str | None = None, key: rsa.RSAPrivateKey | None = None,
                   extra: dict[str, Any] | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": iss, "aud": aud, "nbf": now - 60, "iat": now - 60,
                                  "exp": now + int(exp_in)}
        if serviceurl is not None:
            claims["serviceurl"] = serviceurl
        claims |= extra or {}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def foreign_token(self, aud: str, **kwargs: Any) -> str:
        return self.make_token(aud, kid="someone-elses-key", key=self.other_key, **kwargs)

    def forged_token(self, aud: str, **kwargs: Any) -> str:
        return self.make_token(aud, key=self.other_key, **kwargs)
