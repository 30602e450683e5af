"""Installing to a workspace through Bolt's OAuth flow (issue 3 §1): the installation is stored
with slack_sdk's SQLAlchemy store in our database and the workspace gets an account."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from bot.bootstrap import build_app
from bot.web import make_web_app
from core.models import Role
from core.platform import SLACK
from tests.e2e.slack.conftest import slack_settings
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.slack_api import FakeSlack


async def test_oauth_install_stores_the_installation_and_makes_the_installer_owner(tmp_path: Path) -> None:
    async with FakeSlack() as slack, FakeAnthropic() as anthropic:
        slack.add_user("UINST", "Ian", email="ian@newco.example", is_admin=True, team_id="T9")
        slack.set_oauth_reply(team_id="T9", team_name="NewCo IT", bot_token="xoxb-newco", bot_user_id="UBOT9",
                              authed_user_id="UINST")
        settings = slack_settings(tmp_path, slack, anthropic, SLACK_BOT_TOKEN=None, SLACK_CLIENT_ID="111.222",
                                  SLACK_CLIENT_SECRET="oauth-secret")
        app = await build_app(settings, platforms=True)
        server = TestServer(make_web_app(app))
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as http:
                page = await http.get(server.make_url("/slack/install"), allow_redirects=False)
                body = await page.text()
                location = page.headers.get("Location", "")
                match = re.search(r"state=([A-Za-z0-9\-_.%]+)", location or body)
                assert match, (page.status, body[:300])
                # The state cookie is Secure (Slack apps run behind https); this test server is plain
                # http, so the browser's part is played by sending the cookie back by hand.
                cookie = page.headers["Set-Cookie"].split(";", 1)[0]
                done = await http.get(server.make_url("/slack/oauth_redirect"), params={"code": "code-1", "state": match.group(1)},
                                      headers={"Cookie": cookie})
                assert done.status == 200, await done.text()
            assert slack.count("oauth.v2.access") == 1
            assert app.slack is not None and app.slack.installation_store is not None
            bot = await app.slack.installation_store.async_find_bot(enterprise_id=None, team_id="T9")
            assert bot is not None and bot.bot_token == "xoxb-newco"
            account_id = await app.engine.tenants.account_id_for(platform=SLACK, tenant_id="T9")
            assert account_id is not None
            async with app.engine.deps.uow_factory() as uow:
                account = await uow.accounts.get(account_id=account_id)
                owner = await uow.members.find_by_identity(account_id=account_id, platform=SLACK, external_id="UINST")
            assert account is not None and account.name == "NewCo IT"
            assert owner is not None and owner.role == Role.OWNER and owner.email == "ian@newco.example"
        finally:
            await server.close()
            await app.close()
