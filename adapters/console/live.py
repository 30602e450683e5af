"""The interactive console loop (R37).

On a terminal the turn scheduler runs in the background: the engineer keeps typing while the
assistant thinks, its reply prints when it arrives, and Ctrl-C stops the current session's turn.
Piped input keeps the transcript deterministic instead: each line's turns run to completion before
the next line is read, exactly as before. Output is plain lines either way (no cursor movement), so
a piped or logged session reads the same as the screen.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from typing import TextIO

from adapters.console import messages as m
from adapters.console.console import Console
from adapters.console.stdin import StdinLines

log = logging.getLogger("rflow.console")
PROMPT = "rflow> "


class Live:
    """Reads lines, runs each as a command task, and shows whatever arrives in between."""

    def __init__(self, console: Console, stream: TextIO, lines: StdinLines, *, terminal: bool) -> None:
        self.console = console
        self.stream = stream
        self.lines = lines
        self.terminal = terminal
        self.prompting = False  # the prompt is the last thing on screen and a line is awaited
        self.command: asyncio.Task[bool] | None = None
        self._interrupt: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self.command is not None and not self.command.done()

    def show(self, lines: Sequence[str]) -> None:
        """A line that arrives during a command prints after the command's own; between commands it
        prints at once, on its own line, and the prompt comes back."""
        if not lines:
            return
        if self.busy:
            self.console.notices.extend(lines)
            return
        head = "\n" if self.prompting else ""
        tail = PROMPT if self.prompting else ""
        self.stream.write(head + "\n".join(lines) + "\n" + tail)
        self.stream.flush()

    def _flush(self) -> None:
        for line in self.console.out:
            print(line, file=self.stream)
        self.console.out.clear()
        self.stream.flush()

    def _prompt(self) -> None:
        self.stream.write(PROMPT)
        self.stream.flush()
        self.prompting = True

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        scheduler = loop.create_task(self.console.engine.turns.run_forever(stop)) if self.console.background else None
        self.console.screen = self
        self.lines.start()
        loop.add_signal_handler(signal.SIGINT, self._on_sigint)
        try:
            self._flush()
            while not self.console.wants_quit:
                self._prompt()
                line = await self.lines.readline()
                self.prompting = False
                if line is None:
                    if self.terminal:
                        self.stream.write("\n")
                    break
                await self._run_command(line)
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            self.lines.close()
            await self._stop(stop, scheduler)
            self.console.screen = None

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

    def _on_sigint(self) -> None:
        if self._interrupt is None or self._interrupt.done():
            self._interrupt = asyncio.get_running_loop().create_task(self._interrupted())

    async def _interrupted(self) -> None:
        """Ctrl-C stops the current session's turn (its TurnAnswered says so). With none running it
        interrupts the command in progress; between commands a terminal just gets a fresh line
        (the terminal already dropped what was typed), and piped input ends, as Ctrl-C did before."""
        c = self.console
        try:
            if c.current is not None and await c.engine.turns.cancel(account_id=c.actor.account_id, session_id=c.current):
                return
        except Exception:
            log.exception("cancelling the turn of session %s failed", c.current)
        if self.command is not None and not self.command.done():
            self.command.cancel()
        elif self.terminal:
            self.show([m.NOTHING_TO_STOP])
        else:
            c.wants_quit = True
            self.lines.end()
