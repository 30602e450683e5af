"""No traceback, ever, on input (issue 14): random command lines, drawn from the console's own
commands with arguments meant to break them (huge numbers, quotes, NUL, escape sequences, unicode,
lines past every limit), through `Console.handle` on a real engine, on SQLite and on PostgreSQL.
Nothing escapes, nothing raw reaches the terminal, and the database stays sound."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager, nullcontext
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.console import messages as m
from adapters.console.console import COMMANDS
from tests.adapters.console.consoles import RAW_CONTROL, World, console_world, inconsistencies
from tests.databases import throwaway_database
from tests.services import postgres_url_or_skip

NAMES = sorted(COMMANDS)
WORDS = st.sampled_from([
    "Q1", "C1", "P1", "Q2", "F1", "1", "2", "#1", "resolve", "escalate", "+time", "@Dana", "@Sam", "@nobody", "::",
    "on", "off", "none", "resolved=302", "escalated=none", "type=none", "role=7", "billable=no_charge", "billable=x",
    "connect", "test", "boards", "statuses", "time", "members", "me", "3", "7d", "30d", "1005", "evil", "printer",
    "owner", "admin", "engineer", "viewer", "time_zone=UTC", "time_zone=Mars/Base", "key=value", "a=[1,2]",
])
NUMBERS = st.one_of(
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.sampled_from(["0", "#0", "2147483647", "2147483648", "-1", "9" * 20, "9" * 5000, "²", "١٢", "1e999", "NaN",
                     "a=NaN", "a=1e999", "a=" + "[" * 3000, "1005" * 3]),
)
NASTY = st.sampled_from([
    '"', "'", '"alice', "'bob", 'a"b', "\\", '""', "\x00", "a\x00b", "\x1b[31m", "\x1b]0;title\x07", "\x9b2J", "\r",
    "\r\n", "a\nb", "Q1\n", "\b", "\x7f", "\x85", "\ud800", "\u202e", "\u2028", "\t", "\n", "=", "key=", "=value", "@", "#", "/",
    "🙂", "ﬃ" * 90, "ß" * 81, "é", "\u0301",
])
HUGE = st.sampled_from(["x" * 20_001, "word " * 4_001, "9" * 20_001, "[" * 10_000 + "]" * 10_000])
ARGUMENT = st.one_of(WORDS, NUMBERS, NASTY, st.text(max_size=20), HUGE)
COMMAND_LINE = st.builds(lambda name, sep, args: f"/{name}{sep}{' '.join(args)}", st.sampled_from(NAMES),
                         st.sampled_from([" ", "", "\t", "  ", "\n"]), st.lists(ARGUMENT, max_size=4))
ONE_ARGUMENT = st.builds(lambda name, arg, more: f"/{name} {arg}{more}", st.sampled_from(NAMES),
                         st.one_of(NUMBERS, NASTY, HUGE), st.sampled_from(["", " Q1", " resolved=302", ' "x', " \x00"]))
PSA_LINE = st.builds(lambda sub, args: f"/psa {sub} {' '.join(args)}",
                     st.sampled_from(["", "connect", "test", "boards", "statuses", "time", "members", "me", "x"]),
                     st.lists(st.one_of(WORDS, NUMBERS, NASTY), max_size=3))
LINK_LINE = st.one_of(NUMBERS, WORDS, NASTY).map(lambda arg: f"/link {arg}")
LINE = st.one_of(
    COMMAND_LINE,
    PSA_LINE,
    LINK_LINE,
    ONE_ARGUMENT,
    ONE_ARGUMENT,
    COMMAND_LINE.map(str.upper),
    st.lists(ARGUMENT, min_size=1, max_size=3).map(" ".join),  # a chat turn
    st.sampled_from(["", " ", "/", "/ ", "//", "/ help", "#a comment", "/nosuchcommand", "/" + "x" * 30_000]),
)
FAULT = "✗ " + m.INTERNAL_ERROR.split("(")[0]
SETTINGS = settings(max_examples=150, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def drive(world: World, runner: asyncio.Runner) -> None:
    """The examples share one database, as a day at the console would: the state grows. A failing
    example is the first one found, though its shrunk form may be replayed on what earlier ones left."""
    @SETTINGS
    @given(lines=st.lists(LINE, min_size=1, max_size=4))
    def typed(lines: list[str]) -> None:
        world.reset()
        for line in lines:
            ok = runner.run(world.console.handle(line))
            assert isinstance(ok, bool)
            out, world.console.out[:] = list(world.console.out), []
            assert not [shown for shown in out if shown.startswith(FAULT)], (line, out)  # a bug, caught and said
            raw = [shown for shown in out if RAW_CONTROL.search(shown)]
            assert not raw, (line, raw)
            if not ok:  # a refusal is one line, in the console's ✗ style
                refusals = [shown for shown in out if shown.startswith("✗ ")]
                assert refusals and all("\n" not in shown for shown in refusals), (line, out)
        found = runner.run(inconsistencies(world.db))
        assert found == [], (lines, found)

    typed()


def run_on(database: AbstractAsyncContextManager[str]) -> None:
    with asyncio.Runner() as runner:
        url = runner.run(database.__aenter__())
        try:
            context = console_world(url)
            world = runner.run(context.__aenter__())
            try:
                drive(world, runner)
            finally:
                runner.run(context.__aexit__(None, None, None))
        finally:
            runner.run(database.__aexit__(None, None, None))


def test_random_lines_never_raise_on_sqlite(tmp_path: Path) -> None:
    run_on(nullcontext(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"))


@pytest.mark.postgres
def test_random_lines_never_raise_on_postgres() -> None:
    run_on(throwaway_database(postgres_url_or_skip(), "rflow_console"))
