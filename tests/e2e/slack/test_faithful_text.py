"""R38 end to end over HTTP: text Slack sends encoded (`&amp;`, `<@U…>`, `<#C…|…>`, `<url|label>`,
code blocks) is decoded once at the edge, reaches the assistant as the engineer typed it, shows in
the lane escaped exactly once, and reaches the ConnectWise note with its characters and names,
without entity or syntax garbage. Note layout belongs to the note composer: only the characters
and names are asserted here."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import build_app
from bot.secretbox import new_key
from bot.web import make_web_app
from tests.e2e.slack.conftest import CHANNEL, ESCALATIONS, SECRET, TEAM, SlackBot, slack_settings
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import seed_demo
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackClient, channel_ref, link, special, user_ref, wire

CONNECT = {"site": "acme.myconnectwise.example", "company": "acme", "public_key": "pub-4f1c",
           "private_key": "PRIV-9d2e-s3cr3t", "client_id": "5b1d6a0e-client-guid"}
PROBLEM = wire("Printer & scanner <offline> for ", user_ref("USAM"), " in ", channel_ref(CHANNEL, "helpdesk"),
               ", see ", link("https://kb.example/print?a=1&b=2", "KB 12"))
PROBLEM_SEEN = "Printer & scanner <offline> for @Sam in #helpdesk, see KB 12 (https://kb.example/print?a=1&b=2)"
REPLY = wire("Queue shows 14 jobs > limit & ", special("here"), " ", user_ref("UNOBODY"), " ran:\n",
             "```Get-Printer | ? {$_.Jobs -gt 0} && echo <done>```", " then `a<b`")
REPLY_SEEN = "Queue shows 14 jobs > limit & @here @UNOBODY ran:\n```Get-Printer | ? {$_.Jobs -gt 0} && echo <done>``` then `a<b`"
FACT = "Spooler <PrintQueue> held 14 jobs & one stuck at \"RAW\""  # a modal value arrives as typed
GARBAGE = ("&amp;", "&lt;", "&gt;", "<@U", "<#C", "<https://", "<!here")


@pytest.fixture
async def cw() -> AsyncIterator[FakeConnectWise]:
    async with FakeConnectWise() as fake:
        seed_demo(fake)
        yield fake


@pytest.fixture
async def bot(tmp_path: Path, cw: FakeConnectWise) -> AsyncIterator[SlackBot]:
    async with FakeSlack() as slack, FakeAnthropic() as anthropic:
        slack.add_user("UDANA", "Dana", email="dana@acme.example", is_admin=True)
        slack.add_user("USAM", "Sam Senior", email="sam@acme.example")
        slack.add_channel(CHANNEL, "helpdesk")
        slack.add_channel(ESCALATIONS, "escalations")
        settings = slack_settings(tmp_path, slack, anthropic, RF_CW_API_URL=cw.base_url, RF_SECRET_KEY=new_key(),
                                  RF_PSA_TIMEOUT=3)
        app = await build_app(settings, platforms=True)
        server = TestServer(make_web_app(app))
        await server.start_server()
        base_url = str(server.make_url(""))
        try:
            assert app.slack is not None
            dana = await app.slack.surface.sign_in(TEAM, "UDANA")
            await app.engine.psa.configure(actor=dana.actor, values=dict(CONNECT))
            async with SlackClient(base_url, SECRET) as client:
                yield SlackBot(app=app, slack=slack, anthropic=anthropic, client=client, base_url=base_url,
                               settings=settings)
        finally:
            await server.close()
            await app.close()


def user_texts(bot: SlackBot) -> list[str]:
    """The engineer's words in every Messages API request, as the assistant received them."""
    texts: list[str] = []
    for request in bot.anthropic.requests:
        for message in request.body.get("messages") or []:
            if message.get("role") != "user":
                continue
            content = message.get("content")
            parts = [content] if isinstance(content, str) else [c.get("text", "") for c in content or []
                                                                   if isinstance(c, dict)]
            texts.extend(p for p in parts if p)
    return texts


def mrkdwn_of(blocks: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


async def test_thread_text_reaches_assistant_lane_and_connectwise_note_as_typed(bot: SlackBot, cw: FakeConnectWise) -> None:
    bot.anthropic.push_update("Let's look at the spooler.")
    root = await bot.mention("UDANA", PROBLEM)
    await bot.settle()
    bot.anthropic.push_update("Clear the queue.")
    await bot.reply("UDANA", REPLY, root)
    await bot.settle()

    said = "\n".join(user_texts(bot))
    assert PROBLEM_SEEN in said, said
    assert REPLY_SEEN in said, said
    for garbage in GARBAGE:
        assert garbage not in said, (garbage, said)

    await bot.click("UDANA", "rf_add_fact", 1)
    await bot.settle()
    form = bot.last_view()
    assert form["callback_id"] == "rf_add_fact", form
    await bot.submit("UDANA", form, {"text": FACT})
    await bot.settle()
    lane = bot.lane_blocks(1)
    shown = "\n".join(mrkdwn_of(lane))
    assert "Spooler &lt;PrintQueue&gt; held 14 jobs &amp; one stuck" in shown, shown  # escaped once
    assert "&amp;lt;" not in json.dumps(lane) and "&amp;amp;" not in json.dumps(lane), lane
    header = next(b for b in lane if b["type"] == "header")["text"]["text"]
    assert "&" in header and "&amp;" not in header and "<@U" not in header, header  # plain_text: as typed

    await bot.command("UDANA", "link 1001 #1")
    await bot.settle()
    bot.anthropic.push_error(529, "overloaded_error")  # the note is composed from the session itself
    await bot.click("UDANA", "rf_preview_resolve", 1)
    await bot.settle()
    view = bot.last_view()
    assert view["callback_id"] == "rf_resolve", view
    reply = await bot.submit("UDANA", view, {"summary": "Cleared the <stuck> queue & restarted"})
    assert reply.status == 200 and not reply.body.strip(), reply.body
    await bot.settle()
    await bot.app.engine.writebacks.drain()
    [note] = cw.notes_of(1001)
    text = note["text"]
    for typed in ("Printer & scanner <offline>", "@Sam", "#helpdesk", "KB 12", "https://kb.example/print?a=1&b=2",
                  "Spooler <PrintQueue> held 14 jobs & one stuck"):
        assert typed in text, (typed, text)
    for garbage in GARBAGE:
        assert garbage not in text, (garbage, text)


async def test_rf_new_text_is_decoded_once_and_posted_escaped_once(bot: SlackBot) -> None:
    bot.anthropic.push_update("Which floor?")
    await bot.command("UDANA", wire("new ", special("channel"), " printer & <scanner> down for ", user_ref("USAM", "sam"),
                                    ", see ", link("https://kb.example/p?a=1&b=2", "KB")))
    await bot.settle()
    root = bot.slack.history(CHANNEL)[0]
    assert root["text"] == ("<@UDANA> is starting a session: @channel printer &amp; &lt;scanner&gt; down for @Sam, "
                            "see KB (https://kb.example/p?a=1&amp;b=2)"), root["text"]  # escaped once, no ping
    said = "\n".join(user_texts(bot))
    assert "@channel printer & <scanner> down for @Sam, see KB (https://kb.example/p?a=1&b=2)" in said, said
    for garbage in GARBAGE:
        assert garbage not in said, (garbage, said)


async def test_an_unknown_subcommand_is_shown_back_without_pinging(bot: SlackBot) -> None:
    reply = await bot.command("UDANA", wire("frobnicate ", special("here"), " a & <b>"))
    assert reply.body.startswith("I don't know `frobnicate @here a &amp; &lt;b&gt;`."), reply.body
