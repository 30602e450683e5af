"""R38 for Teams, end to end over HTTP with signed activities: a rich (HTML) message with entities,
`&nbsp;`, the bot's @mention, another person's @mention, a link and a code block reaches the engine
and the assistant as plain text, once: no markup, no entities, the bot's mention gone."""

from __future__ import annotations

from core.access import Actor
from tests.e2e.teams.conftest import BOT, DESK, EVE, SAM_T, TeamsBot
from tests.fakes.teams_messages import html_message

MARKUP = ('<p><at>ResolutionFlow</at>&nbsp;Printer &amp; scanner &lt;offline&gt; for <at>Sam</at></p>'
          '<p>see <a href="https://kb.example/print?a=1&amp;b=2">KB 12</a></p>'
          '<pre class="language-powershell"><code>Get-Printer | ? {$_.Jobs -gt 0} &amp;&amp; echo "&lt;done&gt;"'
          '</code></pre>')
SEEN = ("Printer & scanner <offline> for Sam\nsee KB 12 (https://kb.example/print?a=1&b=2)\n"
        '```\nGet-Printer | ? {$_.Jobs -gt 0} && echo "<done>"\n```')
GARBAGE = ("<at>", "</p>", "<pre", "&amp;", "&lt;", "&nbsp;", "\u00a0", "ResolutionFlow")


async def test_a_rich_teams_message_reaches_the_assistant_as_plain_text(bot: TeamsBot) -> None:
    bot.anthropic.push_update("Let's look at the spooler.")
    message_id = "1800000009001"
    activity = bot.activity(EVE, bot.channel(DESK, message_id), id=message_id, **html_message(MARKUP), entities=[
        {"type": "mention", "text": "<at>ResolutionFlow</at>", "mentioned": {"id": BOT, "name": "ResolutionFlow"}},
        {"type": "mention", "text": "<at>Sam</at>", "mentioned": {"id": SAM_T.id, "name": SAM_T.name}}])
    status, body = await bot.post(activity)
    assert status == 202, body
    await bot.settle()

    account = await bot.account_of()
    assert account is not None
    async with bot.app.engine.deps.uow_factory() as uow:
        [owner] = [m for m in await uow.members.list(account_id=account, active_only=False) if m.name == EVE.name]
    [session] = await bot.app.engine.sessions.list(actor=Actor(account_id=account, member_id=owner.id or 0))
    assert session.title.startswith("Printer & scanner <offline> for Sam"), session.title
    said = "\n".join(user_texts(bot))
    assert SEEN in said, said
    for garbage in GARBAGE:
        assert garbage not in said, (garbage, said)


def user_texts(bot: TeamsBot) -> list[str]:
    """The person's words in every Messages API request, as the assistant received them."""
    texts: list[str] = []
    for request in bot.anthropic.requests:
        for message in request.body.get("messages") or []:
            content = message.get("content") if message.get("role") == "user" else None
            parts = [content] if isinstance(content, str) else [c.get("text", "") for c in content or []
                                                                   if isinstance(c, dict)]
            texts.extend(p for p in parts if p)
    return texts
