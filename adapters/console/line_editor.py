"""The console's line editor on a terminal (issue 14), with prompt_toolkit.

- Editing keys, history (arrow up) kept per user in the data directory, Tab completion of commands
  and of the ids they name (console/completion.py).
- A paste arrives whole, several lines as one message (bracketed paste); one that would make the
  line longer than R15's 20,000 characters is refused in words, and so is Enter on such a line.
- Ctrl-C is the console's to decide (live.py: stop the running turn, else clear the line); Ctrl-D
  on an empty line ends the input.
- What the console prints while the prompt waits (replies of background turns, other people's
  messages) is written above the prompt, which is drawn again below it (`TerminalWriter`).

Only the interactive terminal uses this module: `--replay` and piped input read plain lines
(console/stdin.py) and print plain text.
"""

from __future__ import annotations

import os
import re
import termios
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.output import ColorDepth, Output
from prompt_toolkit.styles import Style
from prompt_toolkit.validation import ValidationError, Validator
from rich.color import ColorSystem
from rich.style import Style as RichStyle

from adapters.console.completion import PromptCompleter
from adapters.console.live import PROMPT
from core.redaction import redact_text
from core.sessions import MAX_MESSAGE_CHARS

MAX_LINE_CHARS = MAX_MESSAGE_CHARS  # R15: the longest text any console line carries (a message)

LINE_TOO_LONG = ("That line is {length:,} characters; a line takes at most {max:,}. Nothing was sent: "
                 "shorten it, or Ctrl-C to clear it.")
PASTE_TOO_LONG = ("✗ Not pasted: the line would be {length:,} characters and a line takes at most {max:,}. "
                  "Paste a shorter part (attach a long log to the ticket instead).")
NO_HISTORY = "(no history this time: {path} cannot be written)"
THINKING_MARK = "thinking… (Ctrl-C stops it)"


def colour_wanted(stream: TextIO, environ: os._Environ[str] | dict[str, str] = os.environ) -> bool:
    """Colour on a terminal unless NO_COLOR is set to anything (no-color.org)."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty and not environ.get("NO_COLOR")


# History --------------------------------------------------------------------------------------

def history_path(data_dir: Path, user: str) -> Path:
    """`<data dir>/history-<user>.txt`, the user's name made safe for a file name."""
    safe = re.sub(r"[^\w.-]+", "_", user.casefold()).strip("._")[:64] or "engineer"
    return data_dir / f"history-{safe}.txt"


class RedactedFileHistory(FileHistory):
    """R14: a secret typed at the prompt is redacted before the line is written to disk (and so is
    recalled redacted, as every other surface shows it)."""

    def append_string(self, string: str) -> None:
        super().append_string(redact_text(string))


def open_history(path: Path) -> tuple[History, str | None]:
    """The user's history file (created private to them); in memory, and a line saying so, when
    the data directory cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
    except OSError:
        return InMemoryHistory(), NO_HISTORY.format(path=path)
    return RedactedFileHistory(str(path)), None


# The editor -----------------------------------------------------------------------------------

class _LengthLimit(Validator):
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def validate(self, document: Document) -> None:
        if len(document.text) > self.limit:
            raise ValidationError(cursor_position=self.limit,
                                  message=LINE_TOO_LONG.format(length=len(document.text), max=self.limit))


STYLE = Style.from_dict({"prompt": "ansicyan bold", "rprompt": "ansiyellow", "validation-toolbar": "bg:ansired ansiwhite"})


class LineEditor:
    """Lines from the terminal, edited with prompt_toolkit; a `live.Lines` and a `live.Editor`."""

    def __init__(self, *, history: History | None = None, completer: PromptCompleter | None = None,
                 colour: bool = False, input: Input | None = None, output: Output | None = None,
                 limit: int = MAX_LINE_CHARS) -> None:
        self.limit = limit
        self.completer = completer
        self.on_interrupt: Callable[[], None] | None = None  # Ctrl-C; without it Ctrl-C clears the line
        self.say: Callable[[Sequence[str]], None] = lambda lines: None  # the refusal of a paste
        self.thinking = False
        self._ended = False
        self._restore: tuple[int, list[Any]] | None = None
        self.session: PromptSession[str] = PromptSession(
            message=FormattedText([("class:prompt", PROMPT)]), history=history or InMemoryHistory(),
            completer=completer, complete_while_typing=False, complete_in_thread=False,
            key_bindings=self._bindings(), validator=_LengthLimit(limit), validate_while_typing=False,
            rprompt=self._rprompt, style=STYLE if colour else None, include_default_pygments_style=False,
            color_depth=None if colour else ColorDepth.DEPTH_1_BIT, mouse_support=False, enable_open_in_editor=False,
            input=input, output=output)
        # A terminal that does not answer cursor position requests still works; no need to say so
        # in the middle of the conversation.
        self.session.app.renderer.cpr_not_supported_callback = None

    # Lines ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Between prompts (a command running) the terminal neither echoes nor edits what is typed:
        the keys wait, as pressed, for the next prompt, a Ctrl-D too, which a cooked terminal would
        turn into an end of file nobody reads. Ctrl-C still raises SIGINT, so a slow command stops.
        (prompt_toolkit switches to raw mode for each prompt and back to this.)"""
        try:
            fd = self.session.input.fileno()
            before = termios.tcgetattr(fd)
            held = termios.tcgetattr(fd)
            held[3] &= ~(termios.ICANON | termios.ECHO | termios.IEXTEN)
            held[6][termios.VMIN], held[6][termios.VTIME] = 1, 0
            termios.tcsetattr(fd, termios.TCSANOW, held)
        except (termios.error, OSError, ValueError, NotImplementedError):  # not a terminal (tests' pipe input)
            return
        self._restore = (fd, before)

    def close(self) -> None:
        """The terminal as it was."""
        if self._restore is not None:
            fd, before = self._restore
            self._restore = None
            try:
                termios.tcsetattr(fd, termios.TCSANOW, before)
            except termios.error:
                pass

    def end(self) -> None:
        """The console is leaving: the waiting (or next) readline returns None."""
        self._ended = True
        app = self.session.app
        if app.is_running and app.future is not None and not app.future.done():
            app.exit(exception=EOFError())

    async def readline(self) -> str | None:
        """The next line (several when pasted), or None for Ctrl-D on an empty line."""
        while not self._ended:
            if self.completer is not None:
                self.completer.new_prompt()
            try:
                return await self.session.prompt_async(handle_sigint=False, set_exception_handler=False)
            except EOFError:
                return None
            except KeyboardInterrupt:  # should prompt_toolkit's own Ctrl-C binding win: the console's still
                if self.on_interrupt is not None:
                    self.on_interrupt()
        return None

    # What live.py asks of an editor ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.session.app.is_running

    def line(self) -> str:
        """What is typed at the prompt so far."""
        return self.session.default_buffer.text

    def has_text(self) -> bool:
        return bool(self.line())

    def clear_line(self) -> None:
        self.session.default_buffer.reset()
        self._invalidate()

    def set_thinking(self, on: bool) -> None:
        if on != self.thinking:
            self.thinking = on
            self._invalidate()

    def _invalidate(self) -> None:
        if self.session.app.is_running:
            self.session.app.invalidate()

    def _rprompt(self) -> FormattedText:
        return FormattedText([("class:rprompt", THINKING_MARK)] if self.thinking else [])

    def _bindings(self) -> KeyBindings:
        kb = KeyBindings()

        @kb.add("c-c")
        def _interrupt(event: KeyPressEvent) -> None:
            if self.on_interrupt is not None:
                self.on_interrupt()
            else:
                event.current_buffer.reset()

        @kb.add(Keys.BracketedPaste)
        def _paste(event: KeyPressEvent) -> None:
            data = event.data.replace("\r\n", "\n").replace("\r", "\n")
            buffer = event.current_buffer
            length = len(buffer.text) + len(data)
            if length > self.limit:
                self.say([PASTE_TOO_LONG.format(length=length, max=self.limit)])
                return
            buffer.insert_text(data)

        return kb


# Output ---------------------------------------------------------------------------------------

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # its control picture: ESC is ␛
    return "\u2421" if code == 0x7F else f"<U+{code:04X}>"


def neutralise(line: str) -> str:
    """What a terminal would act on (an escape sequence, a bidi override in someone's text) is
    shown, not obeyed: `␛[2J` for a clear-screen, `<U+202E>` for an override (the stand-ins of
    render.neutral, applied once more to everything this writer puts on the terminal)."""
    return _CONTROL.sub(_shown, line)


_STATUS = re.compile(r"^[* ] #\d+ \[(\w+)\]")
STATUS_STYLES = {"active": "green", "escalated": "red", "parked": "yellow", "resolved": "blue"}
PREFIX_STYLES = (  # the first that starts the line colours it whole, so the line still reads (and greps) as plain text
    ("assistant> ", "cyan"),
    ("✗ ", "bold red"),
    ("The assistant could not answer", "red"),
    ("Cancelled the assistant's turn", "yellow"),
    ("… ", "dim"),
    ("📣 ", "bold yellow"),
    ("  + ", "green"),
    ("  ? ", "yellow"),
    ("  Suggested fix", "magenta"),
    ("  The assistant read", "magenta"),
    ("━━ ", "bold"),
    ("── ", "bold"),
    ("[#", "dim"),
    ("(", "dim"),
)


def line_style(line: str) -> str | None:
    if match := _STATUS.match(line):
        return STATUS_STYLES.get(match.group(1))
    for prefix, style in PREFIX_STYLES:
        if line.startswith(prefix):
            return style
    return None


def paint(line: str, colour: bool) -> str:
    line = neutralise(line)
    style = line_style(line) if colour else None
    return RichStyle.parse(style).render(line, color_system=ColorSystem.STANDARD) if style else line


class TerminalWriter:
    """The console's lines on the terminal: above the prompt while it waits (the prompt is erased,
    the lines written, the prompt drawn again below them), directly between prompts; control
    characters neutralised, roles and statuses in colour when wanted.

    Writing above the prompt does not hand the terminal back to cooked mode (as prompt_toolkit's
    `run_in_terminal` does, for functions that read): keys pressed meanwhile stay keys, a Ctrl-D
    is not turned into an end of file that nobody reads."""

    def __init__(self, editor: LineEditor, target: TextIO, *, colour: bool) -> None:
        self.editor = editor
        self.target = target
        self.colour = colour
        self._partial = ""

    def write(self, text: str) -> int:
        self._partial += text
        if "\n" in self._partial:
            done, _, self._partial = self._partial.rpartition("\n")
            self._emit("".join(paint(line, self.colour) + "\n" for line in done.split("\n")))
        return len(text)

    def flush(self) -> None:
        if self._partial:
            partial, self._partial = self._partial, ""
            self._emit(paint(partial, self.colour))

    def _emit(self, text: str) -> None:
        app = self.editor.session.app
        prompting = app.is_running and app.future is not None and not app.future.done()
        if not prompting:  # between prompts, or the prompt is finishing (its line stays as typed)
            self._put(text)
            return
        app.renderer.erase()  # the cursor back where the prompt began, the prompt gone
        self._put(text)
        app.renderer.reset()  # what was drawn is gone: the next drawing starts afresh, below the text
        app.renderer.request_absolute_cursor_position()
        app.invalidate()

    def _put(self, text: str) -> None:
        self.target.write(text)
        self.target.flush()
