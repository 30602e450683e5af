"""The real `rflow console` process on a pseudo-terminal, typed at like a person would.

stdin, stdout and the controlling terminal are the pty's slave side (stderr stays a pipe, so a
traceback cannot hide in the screen output), so the console sees a terminal and runs live, and a
Ctrl-C byte written to the master is turned into SIGINT by the kernel's line discipline, as when
an engineer presses the keys (termios(3): ISIG, VINTR).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import sys
import termios
import time

from tests.e2e.conftest import Rflow

CTRL_C = b"\x03"
CTRL_D = b"\x04"


def _take_the_terminal() -> None:
    """In the child, after setsid: make stdin (the pty) the controlling terminal (tty_ioctl(4))."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    def __init__(self, proc: asyncio.subprocess.Process, master: int) -> None:
        self.proc = proc
        self.master = master
        self.raw = bytearray()
        self.seen = 0  # where the next expect() starts looking
        self._changed = asyncio.Event()
        asyncio.get_running_loop().add_reader(master, self._readable)

    @classmethod
    async def start(cls, rflow: Rflow, *args: str, **extra: str) -> Terminal:
        master, slave = pty.openpty()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "console", *args, cwd=rflow.tmp, env=rflow.process_env(**extra),
                stdin=slave, stdout=slave, stderr=asyncio.subprocess.PIPE, start_new_session=True,
                preexec_fn=_take_the_terminal)
        finally:
            os.close(slave)
        return cls(proc, master)

    @property
    def screen(self) -> str:
        return self.raw.decode(errors="replace").replace("\r\n", "\n")

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed its side
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
        self.raw.extend(data)
        self._changed.set()

    async def expect(self, text: str, timeout: float = 20) -> str:
        """Wait for `text` after what was already expected; returns the screen up to and with it."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen
            at = screen.find(text, self.seen)
            if at >= 0:
                part, self.seen = screen[self.seen:at + len(text)], at + len(text)
                return part
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.returncode is not None:
                raise AssertionError(f"{text!r} did not appear; the screen after the last match:\n{screen[self.seen:]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 0.2))
            except TimeoutError:
                pass

    async def prompt(self) -> str:
        """What printed up to the next prompt: the console waits for a line."""
        return await self.expect("rflow> ")

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def press(self, key: bytes) -> None:
        os.write(self.master, key)

    async def close(self) -> tuple[int, str]:
        """Ctrl-D (or a kill after a timeout); the exit status and stderr."""
        try:
            if self.proc.returncode is None:
                self.press(CTRL_D)
            assert self.proc.stderr is not None
            err = await asyncio.wait_for(self.proc.stderr.read(), 30)
            code = await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise
        finally:
            asyncio.get_running_loop().remove_reader(self.master)
            os.close(self.master)
        return code, err.decode()
