"""The rows of `rflow doctor` and the words its checks share (bot/doctor.py, bot/doctor_platforms.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bot.startup_errors import one_line
from core.redaction import redact_text

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # OK, FAILED or SKIPPED
    detail: str


def clean(text: str) -> str:
    """One line, no control characters. The words are ours and name settings, never their values;
    what a server or an exception says is redacted where it is quoted (`quoted`)."""
    return one_line("".join(ch if ch.isprintable() or ch.isspace() else "?" for ch in text))


def quoted(text: object) -> str:
    return redact_text(one_line(str(text)))


def http_words(exc: httpx.HTTPError, whom: str) -> str:
    where = ""
    try:
        url = exc.request.url
        where = f" at {url.scheme}://{url.netloc.decode()}"
    except RuntimeError:
        pass
    if isinstance(exc, httpx.TimeoutException):
        return f"{whom}{where} did not answer in time"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {whom}{where}: {quoted(exc) or 'connection failed'}"
    return f"{whom}{where}: {type(exc).__name__} {quoted(exc)}"


def secret(value: Any) -> str:
    raw = value.get_secret_value() if value is not None else ""
    return raw.strip() if isinstance(raw, str) else ""
