"""The console's line editor (issue 14), driven in process through prompt_toolkit's pipe input
against a real engine on SQLite: the keys a person presses go in, the console's lines come out of
the terminal writer. (tests/e2e/test_console_live.py types at the real process on a pseudo-terminal.)"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from adapters.console import messages as m
from adapters.console.completion import ConsoleCompleter
from adapters.console.console import Console
from adapters.console.line_editor import (
    MAX_LINE_CHARS,
    LineEditor,
    TerminalWriter,
    colour_wanted,
    history_path,
    neutralise,
    open_history,
    paint,
)
from adapters.console.live import Live
from adapters.console.repl import ConsoleNotifier, open_console
from bot.bootstrap import App, build_app
from bot.settings import Settings
from core.assistant.types import AssistantContext, AssistantTurn, ReplyListener
from core.models import StepKind
from tests.fakes.scripted_assistant import ScriptedAssistant

ENTER, TAB, CTRL_C, CTRL_D, UP = "\r", "\t", "\x03", "\x04", "\x1b[A"


def paste(text: str) -> str:
    """What a terminal sends for a paste with bracketed paste on (prompt_toolkit turns it on)."""
    return f"\x1b[200~{text}\x1b[201~"


async def until(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {timeout}s: {what}")


class GatedAssistant(ScriptedAssistant):
    """Answers once `gate` is set: a turn that runs as long as the test wants."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.called = asyncio.Event()

    async def respond(self, context: AssistantContext, on_text: ReplyListener | None = None) -> AssistantTurn:
        self.called.set()
        await self.gate.wait()
        return await super().respond(context, on_text)


@dataclass
class Typed:
    """A live console on an editor: `keys` goes in, `screen` is what it printed."""

    app: App
    console: Console
    editor: LineEditor
    keys: PipeInput
    out: io.StringIO
    run: asyncio.Task[None]

    @property
    def screen(self) -> str:
        return self.out.getvalue()

    def type(self, keys: str) -> None:
        self.keys.send_text(keys)

    async def shows(self, text: str, timeout: float = 10) -> None:
        await until(lambda: text in self.screen, f"{text!r} on the screen:\n{self.screen}", timeout)

    async def buffer(self, text: str) -> None:
        await until(lambda: self.editor.session.default_buffer.text == text,
                    f"the line reads {text!r} (it reads {self.editor.session.default_buffer.text!r})")

    async def prompting(self) -> None:
        await until(lambda: self.editor.running and not self.editor.has_text(), "an empty prompt")

    async def leave(self) -> None:
        self.type(CTRL_D)
        await asyncio.wait_for(self.run, 10)


@asynccontextmanager
async def typed(tmp_path: Path, *, user: str = "Dana", assistant: ScriptedAssistant | None = None,
                limit: int = MAX_LINE_CHARS) -> AsyncIterator[Typed]:
    settings = Settings(RF_SQLITE_PATH=tmp_path / "rflow.db")
    notifier = ConsoleNotifier()
    app = await build_app(settings, notifiers=[notifier], assistant=assistant)
    try:
        console = await open_console(app.engine, notifier, account_name="Local", user=user, model=None)
        console.background = True  # as on a terminal: a scheduler runs the turns
        history, trouble = open_history(history_path(settings.sqlite_path.parent, console.member.name))
        assert trouble is None
        with create_pipe_input() as keys:
            editor = LineEditor(history=history, completer=ConsoleCompleter(console), input=keys, output=DummyOutput(),
                                limit=limit)
            out = io.StringIO()
            live = Live(console, TerminalWriter(editor, out, colour=False), editor, terminal=True)
            run = asyncio.create_task(live.run())
            t = Typed(app, console, editor, keys, out, run)
            try:
                await until(lambda: editor.running, "the prompt")
                yield t
            finally:
                if not run.done():
                    editor.end()
                    await asyncio.wait_for(run, 10)
    finally:
        await app.close()


async def engineer_messages(t: Typed, session_id: int = 1) -> list[str]:
    steps = await t.app.engine.sessions.history(actor=t.console.actor, session_id=session_id)
    return [s.text for s in steps if s.kind == StepKind.ENGINEER_MESSAGE]


async def test_a_command_typed_and_entered_runs(tmp_path: Path) -> None:
    async with typed(tmp_path) as t:
        t.type("/new Printer offline" + ENTER)
        await t.shows("Session #1 started: Printer offline")
        await t.prompting()
        t.type("/sessions" + ENTER)
        await t.shows("* #1 [active] Printer offline")
        assert "rflow> " not in t.screen  # the editor draws the prompt; the transcript has only the lines
        await t.leave()


async def test_arrow_up_recalls_the_history_kept_in_the_data_directory_across_a_restart(tmp_path: Path) -> None:
    async with typed(tmp_path) as t:
        t.type("/new VPN drops every hour" + ENTER)
        await t.shows("Session #1 started")
        await t.prompting()
        t.type("/sessions" + ENTER)
        await t.shows("* #1 [active]")
        await t.prompting()
        t.type(UP + UP)
        await t.buffer("/new VPN drops every hour")
        t.type(CTRL_C)
        await t.buffer("")
        await t.leave()
    saved = (tmp_path / "history-dana.txt").read_text(encoding="utf-8")
    assert "+/new VPN drops every hour" in saved and "+/sessions" in saved
    assert os.stat(tmp_path / "history-dana.txt").st_mode & 0o077 == 0  # the user's own

    async with typed(tmp_path) as t:  # a new start: the history is read back from the file
        t.type(UP)
        await t.buffer("/sessions")
        t.type(UP + ENTER)
        await t.shows("Session #2 started: VPN drops every hour")
        await t.leave()


async def test_history_is_per_user_and_keeps_no_secret(tmp_path: Path) -> None:
    async with typed(tmp_path, user="Sam") as t:
        t.type("/new VPN for the new laptop" + ENTER)
        await t.shows("Session #1 started")
        await t.prompting()
        t.type("the api key is sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789" + ENTER)
        await until(lambda: "api key" in (tmp_path / "history-sam.txt").read_text(), "the message in the history")
        await t.prompting()
        t.type(UP)
        await t.buffer("the api key is [REDACTED:anthropic_key]")  # recalled as every surface shows it
        t.type(CTRL_C)
        await t.leave()
    assert not (tmp_path / "history-dana.txt").exists()
    assert "abcdefghijklmnopqrstuvwxyz0123456789" not in (tmp_path / "history-sam.txt").read_text()


async def test_tab_completes_commands_and_the_ids_they_name(tmp_path: Path) -> None:
    async with typed(tmp_path) as t:
        t.type("/pro" + TAB)
        await t.buffer("/promote ")
        t.type(CTRL_C)
        await t.buffer("")
        t.type("/new Outlook asks for the password" + ENTER)
        await t.shows("Session #1 started")
        await t.prompting()
        t.type("/fact Only on Wi-Fi" + ENTER)
        await t.shows("F1")
        await t.prompting()
        t.type("/editfact " + TAB)
        await t.buffer("/editfact F1")
        t.type(CTRL_C)
        await t.buffer("")
        t.type("/open #" + TAB)
        await t.buffer("/open 1")
        t.type(CTRL_C)
        t.type("/preview e" + TAB)
        await t.buffer("/preview escalate")
        t.type(CTRL_C)
        t.type("hello /pro" + TAB)  # a chat line completes nothing
        await asyncio.sleep(0.3)
        await t.buffer("hello /pro")
        t.type(CTRL_C)  # cleared before the next key: the Ctrl-D below meets an empty line
        await t.leave()


async def test_ctrl_c_on_an_empty_line_keeps_the_console_and_on_a_typed_one_clears_it(tmp_path: Path) -> None:
    async with typed(tmp_path) as t:
        t.type(CTRL_C)
        await t.shows(m.NOTHING_TO_STOP)
        assert not t.run.done()
        t.type("half a thought")
        await t.buffer("half a thought")
        t.type(CTRL_C)
        await t.buffer("")
        assert t.screen.count(m.NOTHING_TO_STOP) == 1
        t.type("/sessions" + ENTER)
        await t.shows(m.SESSIONS_EMPTY)
        await t.leave()


async def test_ctrl_d_leaves_cleanly(tmp_path: Path) -> None:
    async with typed(tmp_path) as t:
        t.type("typed, then Ctrl-D deletes nothing here" + CTRL_D)  # not on an empty line: no end
        await asyncio.sleep(0.3)
        assert not t.run.done()
        t.type(CTRL_C)
        await t.buffer("")
        await t.leave()
        assert t.run.exception() is None and t.console.screen is None


async def test_a_long_multi_line_paste_arrives_whole(tmp_path: Path) -> None:
    log = "\n".join(f"2024-05-01 10:{i % 60:02d}:00 spooler: job {i} stuck in queue, retrying" for i in range(120))
    assert len(log) > 4096 and log.count("\n") == 119  # past what a cooked terminal keeps of a line
    async with typed(tmp_path) as t:
        t.type("/new Print queue stuck" + ENTER)
        await t.shows("Session #1 started")
        await t.prompting()
        t.type(paste(log.replace("\n", "\r\n")))  # some terminals paste CRLF
        await t.buffer(log)
        t.type(ENTER)
        await until(lambda: not t.editor.has_text(), "the paste sent")
        await t.prompting()
        assert (await engineer_messages(t))[-1] == log
        await t.leave()


async def test_a_paste_past_the_limit_is_refused_in_words(tmp_path: Path) -> None:
    async with typed(tmp_path) as t:
        t.type("/new Print queue stuck" + ENTER)
        await t.shows("Session #1 started")
        await t.prompting()
        t.type("see: ")
        t.type(paste("x" * 20_000))
        await t.shows("Not pasted: the line would be 20,005 characters and a line takes at most 20,000")
        await t.buffer("see: ")  # what was typed stays, the paste is not cut and half-sent
        t.type(CTRL_C)
        await t.buffer("")
        assert await engineer_messages(t) == ["Print queue stuck"]  # the engine never saw it
        await t.leave()


async def test_enter_on_a_line_past_the_limit_sends_nothing(tmp_path: Path) -> None:
    async with typed(tmp_path, limit=40) as t:
        t.type("/new " + "a very long problem statement " * 2 + ENTER)
        await asyncio.sleep(0.3)
        assert "Session #1" not in t.screen and t.editor.has_text()  # kept, to shorten
        t.type(CTRL_C)
        await t.buffer("")
        t.type("/new Short" + ENTER)
        await t.shows("Session #1 started: Short")
        await t.leave()


async def test_a_turn_runs_in_the_background_and_ctrl_c_cancels_it(tmp_path: Path) -> None:
    assistant = GatedAssistant()
    async with typed(tmp_path, assistant=assistant) as t:
        t.type("/new VPN drops every hour" + ENTER)
        await t.shows(m.THINKING)
        await asyncio.wait_for(assistant.called.wait(), 10)
        await t.prompting()
        assert t.editor.thinking  # the mark beside the prompt
        t.type("/sessions" + ENTER)  # the console answers while the assistant thinks
        await t.shows("* #1 [active] VPN drops every hour")
        await t.prompting()
        t.type(CTRL_C)
        await t.shows(m.TURN_CANCELLED)
        await until(lambda: not t.editor.thinking, "the mark gone")
        assert not t.run.done()

        t.type("it drops at exactly 60 minutes" + ENTER)
        await t.prompting()
        assistant.gate.set()
        await t.shows("assistant> Noted.")  # printed above the waiting prompt
        assert t.editor.running and t.screen.count("assistant>") == 1
        await t.leave()


async def test_other_peoples_messages_in_the_session_appear_as_they_happen(tmp_path: Path) -> None:
    async with typed(tmp_path) as t:
        t.type("/new Printer offline" + ENTER)
        await t.shows("Session #1 started")
        await t.prompting()
        t.type("I restarted the spooler" + ENTER)
        await t.prompting()
        account = t.console.actor.account_id
        bus = t.app.engine.deps.bus
        # What the event bus brings from another process: Sam writing in Slack, in this session and another.
        await bus.publish(account, {"kind": "message_posted", "account_id": account, "session_id": 1, "author": "Sam",
                                    "text": "Same here on floor 3\x1b[2J", "via": "slack", "thread_ref": None,
                                    "surface": "slack"})
        await bus.publish(account, {"kind": "message_posted", "account_id": account, "session_id": 7, "author": "Sam",
                                    "text": "elsewhere", "via": "slack", "thread_ref": None, "surface": "slack"})
        await t.shows("Sam (in Slack): Same here on floor 3")
        assert "\x1b" not in t.screen  # the escape shown, not obeyed
        await asyncio.sleep(0.5)
        assert "elsewhere" not in t.screen
        assert "I restarted the spooler" not in t.screen  # our own message is not repeated back
        await t.leave()


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert colour_wanted(Tty(), {})
    assert not colour_wanted(Tty(), {"NO_COLOR": "1"})
    assert not colour_wanted(io.StringIO(), {})
    assert paint("assistant> Try this.", True) == "\x1b[36massistant> Try this.\x1b[0m"
    assert paint("* #3 [escalated] VPN — Sam", True).startswith("\x1b[31m")
    assert paint("assistant> Try this.", False) == "assistant> Try this."
    assert neutralise("a\x1b]0;pwned\x07b\u202ec\x9b\x7f") == "a␛]0;pwned␇b<U+202E>c<U+009B>␡"
    assert neutralise("tabs\tstay") == "tabs\tstay"


def test_an_unwritable_data_directory_keeps_history_in_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    history, trouble = open_history(history_path(blocked / "data", "Dana"))
    assert trouble is not None and "cannot be written" in trouble
    assert history_path(tmp_path, "Ann Lee/../x") == tmp_path / "history-ann_lee_.._x.txt"
