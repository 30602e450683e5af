"""Lines from stdin without blocking the event loop, so replies print and Ctrl-C works while the
engineer is typing (R37).

A terminal or a pipe is watched with `loop.add_reader`; a regular file (`rflow console < lines.txt`)
cannot be watched by epoll but never waits either, so it is read directly. Nothing blocks in a
thread, so leaving the console never waits for a line that will not come.
"""

from __future__ import annotations

import asyncio
import os
import sys

CHUNK = 65536


class StdinLines:
    def __init__(self, fd: int = 0, encoding: str | None = None) -> None:
        self.fd = fd
        self.encoding = encoding or sys.stdin.encoding or "utf-8"
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._buffer = b""
        self._watched = False
        self._ended = False

    def start(self) -> None:
        try:
            asyncio.get_running_loop().add_reader(self.fd, self._readable)
            self._watched = True
        except (PermissionError, OSError, ValueError):  # a regular file: reading it never waits
            self._watched = False

    def close(self) -> None:
        if self._watched:
            asyncio.get_running_loop().remove_reader(self.fd)
            self._watched = False

    def end(self) -> None:
        """Make the waiting (or next) readline return None: the console is leaving."""
        self._lines.put_nowait(None)

    async def readline(self) -> str | None:
        """The next line without its newline; None at the end of input."""
        while not self._watched and not self._ended and self._lines.empty():
            self._readable()
        if self._ended and self._lines.empty():
            return None
        return await self._lines.get()

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, CHUNK)
        except BlockingIOError:
            return
        except OSError:  # the terminal went away: the same as the end of input
            data = b""
        if not data:
            self._finish()
            return
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self._lines.put_nowait(self._decode(line))

    def _finish(self) -> None:
        self.close()
        if self._buffer:  # a last line without a newline
            self._lines.put_nowait(self._decode(self._buffer))
            self._buffer = b""
        self._ended = True
        self._lines.put_nowait(None)

    def _decode(self, raw: bytes) -> str:
        return raw.decode(self.encoding, errors="replace").rstrip("\r")
