"""R36 for Teams: /api/messages rejects what the Bot Connector did not sign for us, before any work.

Tokens are signed by a local issuer whose OpenID metadata and JWKS are served on 127.0.0.1; the
endpoint is a real aiohttp server running `TeamsTransport.handle`, and the activities' serviceUrl is
the fake Bot Connector.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.teams.auth import ANONYMOUS_WARNING, TeamsAuthSettings
from adapters.teams.transport import IncomingActivity, TeamsTransport
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.teams_tokens import FakeTeamsIssuer

APP_ID = "00000000-1111-2222-3333-444444444444"
TENANT = "11111111-2222-3333-4444-555555555555"


def teams_message(service_url: str, text: str = "<at>ResolutionFlow</at> printer is down",
                  channel_id: str = "msteams") -> dict[str, Any]:
    """A channel @mention, shaped as Teams posts it."""
    return {
        "type": "message", "id": "1700000000000", "timestamp": "2025-01-01T10:00:00.000Z",
        "serviceUrl": service_url, "channelId": channel_id, "text": text,
        "from": {"id": "29:engineer", "name": "Eve Engineer", "aadObjectId": "aad-eve"},
        "recipient": {"id": f"28:{APP_ID}", "name": "ResolutionFlow"},
        "conversation": {"id": "19:desk@thread.tacv2;messageid=1700000000000", "isGroup": True,
                         "conversationType": "channel", "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}, "channel": {"id": "19:desk@thread.tacv2"},
                        "team": {"id": "19:team@thread.tacv2"}},
        "entities": [{"type": "mention", "text": "<at>ResolutionFlow</at>",
                      "mentioned": {"id": f"28:{APP_ID}", "name": "ResolutionFlow"}}],
    }


class Recorder:
    """Our on_activity callback: records what reached it."""

    def __init__(self, reply: str | None = None) -> None:
        self.seen: list[IncomingActivity] = []
        self.reply = reply

    async def __call__(self, incoming: IncomingActivity) -> None:
        self.seen.append(incoming)
        if self.reply is not None:
            await incoming.context.send_activity(self.reply)
        return None


Serve = Callable[[TeamsAuthSettings, Recorder], Awaitable[TestClient]]


@pytest.fixture
async def issuer() -> AsyncIterator[FakeTeamsIssuer]:
    fake = FakeTeamsIssuer()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    fake = FakeBotConnector()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    opened: list[tuple[TestClient, TeamsTransport]] = []

    async def start(settings: TeamsAuthSettings, recorder: Recorder) -> TestClient:
        transport = TeamsTransport(settings, recorder)
        app = web.Application()
        app.router.add_post("/api/messages", transport.handle)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        opened.append((client, transport))
        return client

    yield start
    for client, transport in opened:
        await client.close()
        await transport.close()


@pytest.fixture
def secured(issuer: FakeTeamsIssuer) -> TeamsAuthSettings:
    return TeamsAuthSettings(app_id=APP_ID, openid_metadata_url=issuer.metadata_url)


async def post(client: TestClient, body: Any, token: str | None = None,
               header: str | None = None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, str) else json.dumps(body)
    async with client.post("/api/messages", data=data, headers=headers) as resp:
        return resp.status, await resp.text()


BAD_TOKENS: dict[str, Callable[[FakeTeamsIssuer, str], str | None]] = {
    "no token": lambda i, url: None,
    "wrong audience": lambda i, url: i.make_token("some-other-bot", serviceurl=url),
    "wrong issuer": lambda i, url: i.make_token(APP_ID, iss="https://login.example.com", serviceurl=url),
    "another tenant's issuer": lambda i, url: i.make_token(APP_ID, iss="https://sts.windows.net/other-tenant/",
                                                           serviceurl=url),
    "expired beyond the 5-minute skew": lambda i, url: i.make_token(APP_ID, exp_in=-400, serviceurl=url),
    "not yet valid": lambda i, url: i.make_token(APP_ID, serviceurl=url, extra={"nbf": 4102444800}),
    "unknown signing key": lambda i, url: i.foreign_token(APP_ID, serviceurl=url),
    "published kid, wrong signature": lambda i, url: i.forged_token(APP_ID, serviceurl=url),
    "unsigned (alg none)": lambda i, url: jwt.encode({"iss": "https://api.botframework.com", "aud": APP_ID,
                                                      "exp": 4102444800}, None, algorithm="none"),
    "HS256 with the app id as secret": lambda i, url: jwt.encode(
        {"iss": "https://api.botframework.com", "aud": APP_ID, "exp": 4102444800},
        APP_ID * 2, algorithm="HS256", headers={"kid": i.kid}),
    "serviceurl claim names another host": lambda i, url: i.make_token(APP_ID, serviceurl="https://evil.example/"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_rejected_tokens_get_401_and_do_no_work(case: str, issuer: FakeTeamsIssuer,
                                                      connector: FakeBotConnector, serve: Serve,
                                                      secured: TeamsAuthSettings) -> None:
    recorder = Recorder(reply="should never be sent")
    client = await serve(secured, recorder)
    token = BAD_TOKENS[case](issuer, connector.base_url)
    status, body = await post(client, teams_message(connector.base_url), token)
    assert status == 401, body
    assert recorder.seen == []
    assert connector.requests == []
    assert "Unauthorized" in body and "signature" not in body.lower()  # no validation details leak


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "bearer not.a.jwt"])
async def test_malformed_authorization_headers_get_401(header: str, serve: Serve, connector: FakeBotConnector,
                                                       secured: TeamsAuthSettings) -> None:
    recorder = Recorder()
    client = await serve(secured, recorder)
    status, _ = await post(client, teams_message(connector.base_url), header=header)
    assert status == 401
    assert recorder.seen == []


async def test_auth_is_checked_before_the_body_is_read(serve: Serve, secured: TeamsAuthSettings) -> None:
    client = await serve(secured, Recorder())
    status, _ = await post(client, "{this is not json")
    assert status == 401  # not 400: nothing about the request is looked at before the token


async def test_a_good_token_runs_the_turn(issuer: FakeTeamsIssuer, connector: FakeBotConnector, serve: Serve,
                                          secured: TeamsAuthSettings) -> None:
    recorder = Recorder(reply="On it.")
    client = await serve(secured, recorder)
    token = issuer.make_token(APP_ID, serviceurl=connector.base_url)
    status, body = await post(client, teams_message(connector.base_url), token)
    assert status in (200, 202), body
    assert len(recorder.seen) == 1
    incoming = recorder.seen[0]
    assert incoming.type == "message" and incoming.activity.text.endswith("printer is down")
    assert incoming.reference()["conversation"]["id"] == "19:desk@thread.tacv2;messageid=1700000000000"
    # The in-turn reply went to the activity's serviceUrl; with no app password, without a token.
    [sent] = connector.sent
    assert sent.activity["text"] == "On it." and sent.conversation_id.startswith("19:desk@thread.tacv2")
    assert [r.authorization for r in connector.requests] == [None]


async def test_clock_skew_within_five_minutes_is_tolerated(issuer: FakeTeamsIssuer, connector: FakeBotConnector,
                                                           serve: Serve, secured: TeamsAuthSettings) -> None:
    recorder = Recorder()
    client = await serve(secured, recorder)
    status, _ = await post(client, teams_message(connector.base_url),
                           issuer.make_token(APP_ID, exp_in=-120, serviceurl=connector.base_url))
    assert status in (200, 202)
    assert len(recorder.seen) == 1


async def test_single_tenant_issuers_are_accepted_only_for_our_tenant(
        issuer: FakeTeamsIssuer, connector: FakeBotConnector, serve: Serve) -> None:
    settings = TeamsAuthSettings(app_id=APP_ID, tenant_id=TENANT, openid_metadata_url=issuer.metadata_url)
    recorder = Recorder()
    client = await serve(settings, recorder)
    ours = [f"https://sts.windows.net/{TENANT}/", f"https://login.microsoftonline.com/{TENANT}/v2.0",
            "https://api.botframework.com"]
    for iss in ours:
        status, _ = await post(client, teams_message(connector.base_url), issuer.make_token(APP_ID, iss=iss))
        assert status in (200, 202), iss
    status, _ = await post(client, teams_message(connector.base_url),
                           issuer.make_token(APP_ID, iss="https://sts.windows.net/99999999-0000-0000-0000-000000000000/"))
    assert status == 401
    assert len(recorder.seen) == len(ours)


async def test_key_endorsed_for_teams_cannot_speak_for_another_channel(
        issuer: FakeTeamsIssuer, connector: FakeBotConnector, serve: Serve, secured: TeamsAuthSettings) -> None:
    recorder = Recorder()
    client = await serve(secured, recorder)
    status, _ = await post(client, teams_message(connector.base_url, channel_id="webchat"),
                           issuer.make_token(APP_ID, serviceurl=connector.base_url))
    assert status == 401
    assert recorder.seen == []


async def test_signing_keys_are_cached_and_forged_kids_do_not_force_refetches(
        issuer: FakeTeamsIssuer, connector: FakeBotConnector, serve: Serve, secured: TeamsAuthSettings) -> None:
    recorder = Recorder()
    client = await serve(secured, recorder)
    for _ in range(3):
        await post(client, teams_message(connector.base_url), issuer.make_token(APP_ID))
    for _ in range(5):
        status, _ = await post(client, teams_message(connector.base_url), issuer.foreign_token(APP_ID))
        assert status == 401
    assert len(recorder.seen) == 3
    assert (issuer.metadata_hits, issuer.keys_hits) == (1, 1)


async def test_unreachable_key_server_rejects(connector: FakeBotConnector, serve: Serve,
                                              issuer: FakeTeamsIssuer) -> None:
    settings = TeamsAuthSettings(app_id=APP_ID, openid_metadata_url=issuer.base_url + "/nothing-here")
    recorder = Recorder()
    client = await serve(settings, recorder)
    status, _ = await post(client, teams_message(connector.base_url), issuer.make_token(APP_ID))
    assert status == 401
    assert recorder.seen == []


async def test_anonymous_mode_accepts_and_warns_once(connector: FakeBotConnector, serve: Serve,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="adapters.teams")
    recorder = Recorder(reply="hello")
    client = await serve(TeamsAuthSettings(), recorder)
    for _ in range(2):
        status, _ = await post(client, teams_message(connector.base_url))
        assert status in (200, 202)
    assert len(recorder.seen) == 2
    warnings = [r for r in caplog.records if r.getMessage() == ANONYMOUS_WARNING]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert [s.activity["text"] for s in connector.sent] == ["hello", "hello"]
    assert all(r.authorization is None for r in connector.requests)


async def test_not_an_activity_is_a_400_after_auth(connector: FakeBotConnector, serve: Serve,
                                                   issuer: FakeTeamsIssuer, secured: TeamsAuthSettings) -> None:
    recorder = Recorder()
    client = await serve(secured, recorder)
    token = issuer.make_token(APP_ID)
    assert (await post(client, "{oops", token))[0] == 400
    assert (await post(client, {"type": "message"}, token))[0] == 400  # no conversation
    assert recorder.seen == []
