"""Joining a Teams tenant to an account (issue 5 §3) and who may call /api/messages (§1, R36).

A connect code is single use and lasts 15 minutes: a reused or expired code is refused in the
conversation and joins nothing. A request without a valid token is 401 and leaves no trace: no inbox
row, nothing sent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.platform import SLACK, TEAMS
from tests.e2e.teams.conftest import APP_ID, DESK, TENANT, TeamsBot, TeamsUser

OTHER_TENANT = "22222222-3333-4444-5555-666666666666"
THIRD_TENANT = "33333333-4444-5555-6666-777777777777"
OLGA = TeamsUser("29:olga", "Olga", "olga@other.example", "aad-olga", tenant=OTHER_TENANT)
TOM = TeamsUser("29:tom", "Tom", "tom@third.example", "aad-tom", tenant=THIRD_TENANT)
ADA = TeamsUser("29:ada", "Ada", "ada@acme.example", "aad-ada")
OTHER_DESK = "19:other-desk@thread.tacv2"


async def test_a_connect_code_works_once_and_not_after_15_minutes(bot: TeamsBot) -> None:
    await bot.slack_mention("UDANA", "hello")
    await bot.settle()
    account = await bot.account_of(SLACK, "T1")
    code = await bot.connect_code("first")

    chain = await bot.mention(ADA, f"connect {code.lower()}")  # people type codes in any case
    await bot.settle()
    assert await bot.account_of(TEAMS, TENANT) == account
    assert any("now part of" in t for t in bot.texts(chain)), bot.texts(chain)

    # Reused, from another tenant: refused, and that tenant joins nothing.
    reused = await bot.mention(OLGA, f"connect {code}", channel=OTHER_DESK)
    await bot.settle()
    assert any("already been used" in t for t in bot.texts(reused)), bot.texts(reused)
    assert await bot.account_of(TEAMS, OTHER_TENANT) is None

    # Expired: a fresh code, 16 minutes later.
    late = await bot.connect_code("second")
    bot.clock.offset = timedelta(minutes=16)
    expired = await bot.mention(TOM, f"connect {late}", channel=OTHER_DESK)
    await bot.settle()
    assert any("expired" in t for t in bot.texts(expired)), bot.texts(expired)
    assert await bot.account_of(TEAMS, THIRD_TENANT) is None

    # Nonsense is refused as such; a refusal started no account for an unknown tenant.
    junk = await bot.mention(TOM, "connect 12", channel=OTHER_DESK)
    await bot.settle()
    assert any("not a connect code" in t for t in bot.texts(junk)), bot.texts(junk)
    assert await bot.account_of(TEAMS, THIRD_TENANT) is None


async def test_a_tenant_already_in_use_cannot_be_joined_elsewhere(bot: TeamsBot) -> None:
    first = await bot.mention(OLGA, "help", channel=OTHER_DESK)  # first contact: Olga's tenant gets its own account
    await bot.settle()
    assert bot.cards(first)
    own = await bot.account_of(TEAMS, OTHER_TENANT)
    await bot.slack_mention("UDANA", "hello")
    await bot.settle()
    code = await bot.connect_code("code")
    chain = await bot.mention(OLGA, f"connect {code}", channel=OTHER_DESK)
    await bot.settle()
    assert any("already belongs to another account" in t for t in bot.texts(chain)), bot.texts(chain)
    assert await bot.account_of(TEAMS, OTHER_TENANT) == own
    # The refusal rolled the redemption back: the code still works for a tenant that is free.
    ok = await bot.mention(ADA, f"connect {code}")
    await bot.settle()
    assert any("now part of" in t for t in bot.texts(ok)), bot.texts(ok)


BAD = {
    "no token": lambda bot: None,
    "wrong audience": lambda bot: bot.issuer.make_token("another-bot", serviceurl=bot.connector.base_url),
    "expired": lambda bot: bot.issuer.make_token(APP_ID, exp_in=-400, serviceurl=bot.connector.base_url),
    "unknown key": lambda bot: bot.issuer.foreign_token(APP_ID, serviceurl=bot.connector.base_url),
}


@pytest.mark.parametrize("case", sorted(BAD))
async def test_requests_without_a_valid_token_get_401_and_leave_no_trace(bot: TeamsBot, case: str) -> None:
    activity = bot.activity(ADA, bot.channel(DESK, "1800000000999"), id="1800000000999",
                            text="<at>ResolutionFlow</at> printer offline")
    status, body = await bot.post(activity, token=BAD[case](bot))
    assert status == 401, body
    invoke = bot.activity(ADA, bot.channel(DESK, "1800000000999"), type="invoke", name="adaptiveCard/action",
                          value={"action": {"type": "Action.Execute", "verb": "rf_park", "data": {"rf": "park", "s": 1}}})
    status, body = await bot.post(invoke, token=BAD[case](bot))
    assert status == 401, body
    await bot.settle()
    async with bot.app.engine.deps.uow_factory() as uow:
        assert await uow.inbound.count_open() == 0
        assert await uow.inbound.get(delivery_id=1) is None  # nothing was ever stored
    assert await bot.account_of(TEAMS, TENANT) is None  # nobody was signed in
    assert bot.connector.requests == []
    # The same request with a good token is taken.
    status, _ = await bot.post(activity)
    assert status == 202
    await bot.settle()
    assert await bot.account_of(TEAMS, TENANT) is not None


def test_teams_is_off_without_an_app_id_unless_anonymous_is_asked_for(caplog: pytest.LogCaptureFixture) -> None:
    from bot.settings import Settings
    from bot.teams_setup import teams_auth

    off = Settings(MICROSOFT_APP_ID=None, RF_TEAMS_ANONYMOUS=False)
    assert teams_auth(off) is None and not off.teams_configured
    secured = teams_auth(Settings(MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_TENANT_ID=TENANT,
                                  RF_TEAMS_OPENID_URL="http://127.0.0.1:1/openid"))
    assert secured is not None and not secured.anonymous
    assert (secured.app_id, secured.tenant_id, secured.openid_metadata_url) == (APP_ID, TENANT, "http://127.0.0.1:1/openid")
    anonymous = Settings(MICROSOFT_APP_ID=None, RF_TEAMS_ANONYMOUS=True)
    with caplog.at_level("WARNING"):
        auth = teams_auth(anonymous)
    assert auth is not None and auth.anonymous and anonymous.has_platform_credentials
    assert any("UNAUTHENTICATED" in r.getMessage() for r in caplog.records)
