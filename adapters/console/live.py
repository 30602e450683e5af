"""The interactive console loop (R37).

On a terminal the turn scheduler runs in the background: the engineer keeps typing while the
assistant thinks, its reply prints when it arrives, and Ctrl-C stops the current session's turn.
Piped input keeps the transcript deterministic instead: each line's turns run to completion before
the next line is read, exactly as before. Output is plain lines either way (no cursor movement), so
a piped or logged session reads the same as the screen.

On a real terminal the lines come from a line editor (console/line_editor.py): it draws the prompt
itself, keeps what arrives while it waits above it, shows a thinking mark beside it while the
current session's turn runs, and hands Ctrl-C here (stop the turn, else clear the line). Messages
other people post in the current session elsewhere (Slack, Teams, another console sharing the
event bus) are shown as they come.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from adapters.console import messages as m
from adapters.console.answers import Added
from adapters.console.console import Console
from core.events import MessagePosted, TurnAnswered

log = logging.getLogger("rflow.console")
PROMPT = "rflow> "

OTHER_MESSAGE = "{author} (in {where}): {text}"
WHERE = {"slack": "Slack", "teams": "Teams", "console": "another console"}
OWN_EVENT_GRACE = 0.3  # seconds: our own events come back on a shared bus; this console hears them first


class Lines(Protocol):
    """Where the lines come from: stdin (console/stdin.py) or the line editor."""

    def start(self) -> None: ...
    def close(self) -> None: ...
    def end(self) -> None: ...
    async def readline(self) -> str | None: ...


@runtime_checkable
class Editor(Lines, Protocol):
    """A line editor: it draws its own prompt and leaves Ctrl-C to the console."""

    on_interrupt: Callable[[], None] | None
    say: Callable[[Sequence[str]], None]

    def line(self) -> str: ...
    def clear_line(self) -> None: ...
    def set_thinking(self, on: bool) -> None: ...


class Writer(Protocol):
    def write(self, text: str, /) -> int: ...
    def flush(self) -> None: ...


_RUNNING: dict[int, Live] = {}  # by id(console): the loop a console runs in, for its notifier


def live_of(console: Console) -> Live | None:
    """The live loop `console` runs in, if any (its notifier tells it of turns and messages)."""
    return _RUNNING.get(id(console))


class Live:
    """Reads lines, runs each as a command task, and shows whatever arrives in between."""

    def __init__(self, console: Console, stream: Writer, lines: Lines, *, terminal: bool) -> None:
        self.console = console
        self.stream = stream
        self.lines = lines
        self.editor = lines if isinstance(lines, Editor) else None
        self.terminal = terminal
        self.prompting = False  # the prompt is the last thing on screen and a line is awaited
        self.command: asyncio.Task[bool] | None = None
        self._interrupt: asyncio.Task[None] | None = None
        self._waiting: set[int] = set()  # sessions whose turn was queued here and is not answered yet
        self._posted_here: deque[tuple[int, str]] = deque(maxlen=200)  # our own messages, as events say them
        self._answered_here: deque[int] = deque(maxlen=200)  # replies this console was told of (reply_id)

    @property
    def busy(self) -> bool:
        return self.command is not None and not self.command.done()

    def show(self, lines: Sequence[str]) -> None:
        """A line that arrives during a command prints after the command's own; between commands it
        prints at once, on its own line, and the prompt comes back (the editor draws it again itself)."""
        if not lines:
            return
        if self.busy:
            self.console.notices.extend(lines)
            return
        if self.editor is not None:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()
            return
        head = "\n" if self.prompting else ""
        tail = PROMPT if self.prompting else ""
        self.stream.write(head + "\n".join(lines) + "\n" + tail)
        self.stream.flush()

    # What the console's notifier tells the screen -------------------------------------------------

    def turn_queued(self, session_id: int) -> None:
        self._waiting.add(session_id)
        self._thinking()

    def turn_answered(self, event: TurnAnswered) -> None:
        self._waiting.discard(event.session_id)
        self._answered_here.append(event.reply_id)
        self._thinking()

    def message_posted(self, event: MessagePosted) -> None:
        self._posted_here.append((event.session_id, event.text))

    def _thinking(self) -> None:
        if self.editor is not None:
            self.editor.set_thinking(self.console.current in self._waiting)

    # The loop --------------------------------------------------------------------------------------

    def _flush(self) -> None:
        for line in self.console.out:
            print(line, file=self.stream)
        self.console.out.clear()
        self.stream.flush()

    def _prompt(self) -> None:
        if self.editor is None:
            self.stream.write(PROMPT)
            self.stream.flush()
        self.prompting = True

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        background = self.console.background
        scheduler = loop.create_task(self.console.engine.turns.run_forever(stop)) if background else None
        others = loop.create_task(self._watch_others()) if background else None
        self.console.screen = self
        _RUNNING[id(self.console)] = self
        if self.editor is not None:
            self.editor.on_interrupt = self._on_key_interrupt
            self.editor.say = self.show
        self.lines.start()
        loop.add_signal_handler(signal.SIGINT, self._on_sigint)
        try:
            self._flush()
            while not self.console.wants_quit:
                self._thinking()
                self._prompt()
                line = await self.lines.readline()
                self.prompting = False
                if line is None:
                    if self.terminal and self.editor is None:
                        self.stream.write("\n")
                    break
                await self._run_command(line)
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            self.lines.close()
            if others is not None:
                others.cancel()
                await asyncio.gather(others, return_exceptions=True)
            await self._stop(stop, scheduler)
            self.console.screen = None
            _RUNNING.pop(id(self.console), None)

    async def _run_command(self, line: str) -> None:
        self.command = asyncio.create_task(self.console.handle(line))
        try:
            await asyncio.wait([self.command])
            if self.command.cancelled():
                self.console.say(m.INTERRUPTED)
            else:
                self.command.result()  # a bug surfaces as before
        finally:
            self._flush()

    async def _stop(self, stop: asyncio.Event, scheduler: asyncio.Task[None] | None) -> None:
        """Leaving: a call still running is handed back (it is answered on the next start)."""
        if self._interrupt is not None:
            await asyncio.gather(self._interrupt, return_exceptions=True)
        if scheduler is None:
            return
        if self.console.engine.turns.running:
            self.stream.write(m.LEFT_PENDING + "\n")
            self.stream.flush()
        stop.set()
        self.console.engine.turns.kick()
        await asyncio.gather(scheduler, return_exceptions=True)

    # Ctrl-C ------------------------------------------------------------------------------------------

    def _on_sigint(self) -> None:
        if self._interrupt is None or self._interrupt.done():
            self._interrupt = asyncio.get_running_loop().create_task(self._interrupted())

    def _on_key_interrupt(self) -> None:
        """Ctrl-C pressed at the editor's prompt (a key there, not a signal): with something typed
        and no turn of this console's running in the session, the line is cleared at once (before
        the next key); else the turn is stopped if one runs (what was typed stays)."""
        assert self.editor is not None
        typed = self.editor.line()
        if typed and self.console.current not in self._waiting:
            self.editor.clear_line()
            return
        if self._interrupt is None or self._interrupt.done():
            self._interrupt = asyncio.get_running_loop().create_task(self._key_interrupted(typed))

    async def _cancel_turn(self) -> bool:
        c = self.console
        try:
            return c.current is not None and await c.engine.turns.cancel(account_id=c.actor.account_id,
                                                                         session_id=c.current)
        except Exception:
            log.exception("cancelling the turn of session %s failed", c.current)
            return False

    async def _interrupted(self) -> None:
        """Ctrl-C stops the current session's turn (its TurnAnswered says so). With none running it
        interrupts the command in progress; between commands a terminal just gets a fresh line
        (the terminal already dropped what was typed), and piped input ends, as Ctrl-C did before."""
        c = self.console
        if await self._cancel_turn():
            return
        if self.command is not None and not self.command.done():
            self.command.cancel()
        elif self.terminal:
            self.show([m.NOTHING_TO_STOP])
        else:
            c.wants_quit = True
            self.lines.end()

    async def _key_interrupted(self, typed: str) -> None:
        """No turn was stopped: a typed line is cleared (unless typing went on meanwhile); on an
        empty one, say how to leave."""
        if await self._cancel_turn():
            return
        if not typed:
            self.show([m.NOTHING_TO_STOP])
        elif self.editor is not None and self.editor.line() == typed:
            self.editor.clear_line()

    # Other people ------------------------------------------------------------------------------------

    async def _watch_others(self) -> None:
        """The account's live events (R25): what others post in the current session, and the
        replies to it that another process gave, as they happen. This console's own events are
        told to it directly (the notifier) and are not shown twice."""
        c = self.console
        subscription = c.engine.deps.bus.subscribe(c.actor.account_id)
        loop = asyncio.get_running_loop()
        try:
            while True:
                event = await subscription.get()
                if event is None:
                    return
                heard = loop.time()
                try:
                    await asyncio.sleep(max(0.0, heard + OWN_EVENT_GRACE - loop.time()))
                    lines = self._from_elsewhere(event)
                    (self.console.screen or self).show(lines)  # the console's screen: what it shows is neutralised
                except Exception:
                    log.exception("showing a live event of kind %s failed", event.get("kind"))
        finally:
            subscription.close()

    def _from_elsewhere(self, event: dict[str, Any]) -> list[str]:
        c = self.console
        session_id, kind = event.get("session_id"), event.get("kind")
        if session_id is None or session_id != c.current:
            return []
        if kind == "message_posted":
            text, author, via = str(event.get("text", "")), str(event.get("author", "")), str(event.get("via", ""))
            if (session_id, text) in self._posted_here:
                self._posted_here.remove((session_id, text))
                return []
            if via == "console" and author == c.member.name:  # ours, back from a shared bus before we heard it
                return []
            return [OTHER_MESSAGE.format(author=author, where=WHERE.get(via, via), text=text)]
        if kind == "turn_answered":
            reply = event.get("reply")
            if event.get("cancelled") or not reply or event.get("reply_id") in self._answered_here:
                return []
            return c.answer_lines(session_id, reply=str(reply), failure=None, new=Added())
        return []
