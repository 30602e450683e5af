"""Each line that used to end the console with a traceback (issue 14), now a one-line answer that
changes nothing, on SQLite and on PostgreSQL; and what others wrote reaches the terminal inert."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.console import render
from adapters.console.console import Console
from tests.adapters.console.consoles import EVIL, RAW_CONTROL, World, console_world, inconsistencies
from tests.databases import throwaway_database
from tests.services import postgres_url_or_skip

CONTROL = ("✗ The line holds a control character ({char} at character {at}), which is not text to store; nothing "
           "was done. Type it again without it.")
QUOTE = '✗ A quote is not closed. Usage: /as <name> [role] (a name with spaces in quotes: /as "Dana Smith")'
PSA_SYNTAX = ("/psa [connect key=value … | test | boards | statuses <board> resolved=<status|none> escalated=<status|none> "
              "| time [on|off] [type=<id|none>] [role=<id|none>] [billable=<option>] | members | me [member]]")

# The line, and its whole answer. Before: OverflowError (SQLite) or DBAPIError "out of int32 range"
# (PostgreSQL) for ids; ValueError for `²`, quotes and 5,000 digits; DBAPIError for NUL, NaN and
# names past the column; UnicodeEncodeError for a lone surrogate.
REFUSED = [
    ("/open 99999999999999999999",
     "✗ 99999999999999999999 is too large to be an id (at most 2,147,483,647). Usage: /open <id>"),
    ("/open 2147483648", "✗ 2147483648 is too large to be an id (at most 2,147,483,647). Usage: /open <id>"),
    ("/open " + "1" * 5000, "✗ " + "1" * 40 + "… is too large to be an id (at most 2,147,483,647). Usage: /open <id>"),
    ("/pickup 9999999999", "✗ 9999999999 is too large to be an id (at most 2,147,483,647). Usage: /pickup <session>"),
    ("/psa statuses 99999999999 resolved=302",
     f"✗ 99999999999 is too large to be an id (at most 2,147,483,647). Usage: {PSA_SYNTAX}"),
    ("/psa me 99999999999", f"✗ 99999999999 is too large to be an id (at most 2,147,483,647). Usage: {PSA_SYNTAX}"),
    ("/open ²", "✗ Usage: /open <id>"),
    ('/as "alice', QUOTE),
    ("/as alice\\", QUOTE),
    ('/as ""', '✗ Usage: /as <name> [role] (a name with spaces in quotes: /as "Dana Smith" engineer)'),
    ("/as " + "x" * 300, "✗ The name is 300 characters; at most 80. Usage: /as <name> [role]"),
    ("/new a\x00b", CONTROL.format(char="␀", at=7)),
    ("the queue\x00 is stuck", CONTROL.format(char="␀", at=10)),
    ("/as \x00", CONTROL.format(char="␀", at=5)),
    ("/prefs a=\x00", CONTROL.format(char="␀", at=10)),
    ("/fact the \x1b[A key", CONTROL.format(char="␛", at=11)),
    ("\ud800", CONTROL.format(char="<U+D800>", at=1)),
    ("/stats " + "1" * 5000, "✗ Usage: /stats [7d|30d|90d]"),
    ("x" * 20_001, "✗ The message is 20,001 characters; at most 20,000. Nothing was saved."),
    ("/new " + "x" * 20_001, "✗ The line is 20,001 characters; at most 20,000. Usage: /new <problem>"),
    ("/fact " + "x" * 20_001, "✗ The line is 20,001 characters; at most 20,000. Usage: /fact <text>"),
    ("/fact " + "x" * 1001, "✗ The text is 1,001 characters; at most 1,000. Usage: /fact <text>"),
    ("/delfact 9\nand more", "✗ There is no fact 9 in this session."),  # a ref ends at a newline, too
    ("/delfact " + "9" * 500, "✗ Usage: /delfact <n>"),
    ("/", "✗ A command name follows the slash, e.g. /help, which lists them."),
    ("/ help", "✗ A command name follows the slash, e.g. /help, which lists them."),
    ("/frobnicate now", "✗ Unknown command /frobnicate. /help lists the commands."),
    ("/" + "x" * 30_000, "✗ Unknown command /" + "x" * 40 + "…. /help lists the commands."),
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    database: AbstractAsyncContextManager[str] = nullcontext(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}")
    if request.param == "postgres":
        database = throwaway_database(postgres_url_or_skip(), "rflow_console")
    async with database as url, console_world(url) as world:
        yield world


async def counts(world: World) -> dict[str, int]:
    async with world.db.connect() as connection:
        return {table: (await connection.execute(text(f"select count(*) from {table}"))).scalar_one()
                for table in ("sessions", "steps", "facts", "members", "fixes", "handoffs")}


async def test_every_line_that_raised_is_one_refusal_that_changes_nothing(world: World) -> None:
    before = await counts(world)
    for line, answer in REFUSED:
        assert await world.console.handle(line) is False, line
        assert world.console.out == [answer], line
        world.console.out.clear()
    assert await counts(world) == before
    assert await inconsistencies(world.db) == []


async def test_values_the_database_cannot_hold_as_json_are_kept_as_words(world: World) -> None:
    """`NaN` and `1e999` parse as JSON to Python but not to PostgreSQL: they stay text; a value
    nested deeper than the parser goes too."""
    deep = "[" * 5000 + "]" * 5000
    out = await world.type("/prefs a=NaN b=1e999", f"/prefs c={deep}", "/prefs d=[1,2]")
    assert "  a = NaN" in out and "  b = 1e999" in out and f"  c = {deep}" in out and "  d = [1, 2]" in out


async def test_a_line_may_hold_tabs_newlines_and_crlf(world: World) -> None:
    out = await world.type("/fact\tthe queue\r\nholds 14 jobs", "/as\t\"Dana  Smith\"")
    assert out[0] == "Added F1: the queue\nholds 14 jobs"
    assert out[1] == "You are now Dana Smith (engineer), a new member of this account."


async def test_what_others_wrote_reaches_the_terminal_inert(world: World) -> None:
    """The PSA's ticket and board names, the assistant's reply and lane, a colleague's name from
    Slack: every escape sequence arrives as visible stand-ins (␛[2J), never as the sequence."""
    shown = render.neutral(EVIL)
    assert shown == "␛[2J␛]0;pwned␇<U+009B>31m␍␈␡<U+202E>"
    out = await world.type("/link evil", "/psa boards", "/lane", "the queue is stuck", "/apply", "/promote Q1")
    assert not [line for line in out if RAW_CONTROL.search(line)], out
    joined = "\n".join(out)
    assert f"#1005 Evil{shown} printer" in joined  # the ticket search
    assert f"Board 3 Evil{shown} board" in joined and f"New{shown}" in joined  # the PSA's boards
    assert f"assistant> Looking{shown} at it" in joined and f"Is it red{shown}?" in joined  # the assistant
    assert f"Applied: Restart {shown} the spooler." in joined  # the assistant's fix
    assert f"It is{shown} so" in joined  # the fact the assistant wrote


def test_the_live_screen_is_shown_neutral_lines_too(tmp_path: Path) -> None:
    """The live console sets itself as the screen; whatever a notifier shows it arrives neutralised."""
    class Screen:
        def __init__(self) -> None:
            self.shown: list[str] = []

        def show(self, lines: Sequence[str]) -> None:
            self.shown += lines

    screen = Screen()
    console = Console(engine=None, actor=None, member=None, account_name="Acme")  # type: ignore[arg-type]
    console.screen = screen
    assert console.screen is not None
    console.screen.show([f"📣 Sam{EVIL} escalated", "plain\ttext\nnext"])
    assert screen.shown == [f"📣 Sam{render.neutral(EVIL)} escalated", "plain\ttext\nnext"]
    console.say("\x1b[31mred")
    assert console.out == ["␛[31mred"]


async def test_a_fault_of_ours_is_one_line_and_a_logged_traceback(world: World, monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """A bug, or the database gone away, is said in one line; the traceback goes to the log."""
    async def broken(**_: object) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(world.console.engine.sessions, "list", broken)
    assert await world.console.handle("/sessions") is False
    assert world.console.out == ["✗ That failed on our side (RuntimeError); the log has the details. Each action is one "
                                 "transaction, so nothing was half-written."]
    [record] = [r for r in caplog.records if r.name == "rflow.console"]
    assert record.exc_info is not None and "the disk is on fire" in str(record.exc_info[1])


async def test_billing_is_said_in_words_not_option_names(world: World) -> None:
    assert any(line.endswith("billing: as the PSA decides") for line in await world.type("/psa"))
    out = await world.type("/psa time on billable=do_not_bill")
    assert out[-1].endswith("billing: do not bill") and "do_not_bill" not in "\n".join(out), out
