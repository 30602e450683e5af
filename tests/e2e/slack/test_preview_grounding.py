"""R13 and R16 in Slack, over HTTP: the resolution modal of a preview whose drafts invented tokens
says it was composed deterministically and why; the next preview at the same version asks the
assistant again and shows its note without the warning."""

from __future__ import annotations

from typing import Any

from adapters.slack import labels
from core.compose import DETERMINISTIC_MARKER
from tests.e2e.slack.conftest import SlackBot
from tests.fakes.anthropic_api import note_markdown
from tests.fakes.anthropic_replies import RepliesByTool

CLEAN = note_markdown("resolve", "The queue held stuck jobs; clearing it restored printing.")


def shown(view: dict[str, Any]) -> str:
    return str(view.get("blocks"))


async def test_the_modal_says_when_the_note_is_deterministic_and_the_next_preview_asks_again(slack_bot: SlackBot) -> None:
    bot = slack_bot
    notes = bot.anthropic.default_responder = RepliesByTool()
    notes.push_note(note_markdown("resolve", "Rebooted print server 10.9.8.7 to clear it."),
                    note_markdown("resolve", "Mapped \\\\fs09\\print again for the users."), CLEAN)
    await bot.mention("UDANA", "Printer offline for 3 users")
    await bot.settle()

    await bot.click("UDANA", "rf_preview_resolve", 1)
    await bot.settle()
    fallback = bot.last_view()
    assert fallback["callback_id"] == "rf_resolve", fallback
    assert "Composed deterministically" in shown(fallback) and "not in this session" in shown(fallback)
    assert labels.DETERMINISTIC_UNGROUNDED.split(":", 2)[-1].strip()[:40] in shown(fallback)
    assert DETERMINISTIC_MARKER in shown(fallback) and "10.9.8.7" not in shown(fallback)

    await bot.click("UDANA", "rf_preview_resolve", 1)
    await bot.settle()
    again = bot.last_view()
    assert "clearing it restored printing" in shown(again) and "Composed deterministically" not in shown(again)
    writes = [r for r in bot.anthropic.requests if (r.body.get("tool_choice") or {}).get("name") == "write_note"]
    assert len(writes) == 3 and "- 10.9.8.7" in writes[1].body["messages"][0]["content"][1]["text"]
