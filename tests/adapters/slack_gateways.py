"""The SlackGateway the gateway suites test: pointed at a FakeSlack, warmed up with one auth.test
so the first timed request is not the slowest, and that call forgotten by the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.slack.gateway import SlackGateway, TokenLookup
from tests.fakes.slack_api import FakeSlack


@asynccontextmanager
async def warm_gateway(fake: FakeSlack, token_for: TokenLookup, *, post_interval: float) -> AsyncIterator[SlackGateway]:
    gw = SlackGateway(token_for=token_for, api_url=fake.base_url, post_interval=post_interval)
    await (await gw.client("T1")).auth_test()
    fake.reset()
    try:
        yield gw
    finally:
        await gw.close()
