"""Process-wide logging: JSON lines for machines, readable lines for people, never a secret (R14).

Every record carries `session_id` and `account_id` from `core.log_context`, and passes a filter
that formats the message and runs it through `redact_text`, so a password typed by an engineer
cannot reach a log file even when code logs the raw text by mistake.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from core import log_context
from core.redaction import redact_text

_HANDLER_MARK = "_resolutionflow_handler"
LOG_FILE_NAME = "rflow.log"  # in the data directory, for the console (Settings.data_dir)
LOG_FILE_BYTES = 5 * 1024 * 1024  # then rflow.log.1 … rflow.log.3
LOG_FILE_BACKUPS = 3
# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged too.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
    "session_id",
    "account_id",
    "taskName",
}


class ContextFilter(logging.Filter):
    """Stamps the current session and account (None when unbound) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = log_context.current()
        if getattr(record, "session_id", None) is None:
            record.session_id = ids["session_id"]
        if getattr(record, "account_id", None) is None:
            record.account_id = ids["account_id"]
        return True


class RedactingFilter(logging.Filter):
    """Formats the message with its args, then redacts the result (a secret may straddle both)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg} {record.args!r}"
        record.msg = redact_text(message)
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, _scrub(value))
        return True


def _scrub(value: Any) -> Any:
    """Redact the strings inside an `extra=` value, keeping its shape."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(item) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact_text(str(value))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "session_id": getattr(record, "session_id", None),
            "account_id": getattr(record, "account_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in payload:
                payload[key] = value
        if record.exc_info:
            payload["exc"] = redact_text(self.formatException(record.exc_info))
        if record.stack_info:
            payload["stack"] = redact_text(self.formatStack(record.stack_info))
        return json.dumps(payload, default=str, ensure_ascii=False)


class HumanFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(ids)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [
            f"{label}={value}"
            for label, value in (("account", getattr(record, "account_id", None)),
                                 ("session", getattr(record, "session_id", None)))
            if value is not None
        ]
        record.__dict__["ids"] = f" [{' '.join(ids)}]" if ids else ""
        try:
            return redact_text(super().format(record))  # the traceback too
        finally:
            record.__dict__.pop("ids", None)


def configure_logging(
    level: str = "INFO", json_format: bool | None = None, *, stream: TextIO | None = None, file: Path | None = None
) -> logging.Handler:
    """Install our single root handler (replacing the one from an earlier call, so calling twice
    never duplicates lines). JSON when stderr is not a TTY unless `json_format` says otherwise.

    With `file`, records go to that file instead (rotated at 5 MB, three kept; readable lines unless
    `json_format`), so they never interleave with a conversation on the terminal; Python's warnings
    go there too. An unwritable file raises OSError before anything changes."""
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(file, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS,
                                                       encoding="utf-8")
        json_format = bool(json_format)
    else:
        stream = stream if stream is not None else sys.stderr
        if json_format is None:
            json_format = not _is_tty(stream)
        handler = logging.StreamHandler(stream)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if json_format else HumanFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
            existing.close()
    root.addHandler(handler)
    root.setLevel(level.upper())  # an unknown name raises ValueError: better than silence
    logging.captureWarnings(file is not None)
    return handler


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
