"""Structured logging: ids from the context on every line, and no secret in any log (R14)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logging_setup import configure_logging
from core import log_context
from core.log_context import bind


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_line_inside_bind_carries_the_session_id() -> None:
    stream = io.StringIO()
    configure_logging("INFO", json_format=True, stream=stream)
    log = logging.getLogger("rf.test")
    with bind(session_id=7, account_id=3):
        log.info("turn answered")
    log.info("outside")
    inside, outside = json_lines(stream)
    assert inside["session_id"] == 7 and inside["account_id"] == 3
    assert inside["message"] == "turn answered" and inside["level"] == "INFO" and inside["logger"] == "rf.test"
    assert outside["session_id"] is None and outside["account_id"] is None


def test_secrets_in_messages_args_extras_and_tracebacks_are_redacted() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", json_format=True, stream=stream)
    log = logging.getLogger("rf.test")
    log.warning("engineer wrote: the password is Summer2024!")
    log.info("login with password=%s for %s", "hunter22", "bob")
    log.info("calling api", extra={"url": "postgres://app:s3cr3t@db/x", "attempt": 2})
    try:
        raise RuntimeError("auth failed with token: tok_8827361")
    except RuntimeError:
        log.exception("boom")
    text = stream.getvalue()
    for secret in ("Summer2024!", "hunter22", "s3cr3t", "tok_8827361"):
        assert secret not in text
    first, second, third, fourth = json_lines(stream)
    assert first["message"] == "engineer wrote: the password is [REDACTED:password]"
    assert second["message"] == "login with password=[REDACTED:password] for bob"
    assert third["url"] == "postgres://app:[REDACTED:connection_password]@db/x" and third["attempt"] == 2
    assert "RuntimeError" in str(fourth["exc"]) and "[REDACTED:token]" in str(fourth["exc"])


def test_human_format_shows_ids_and_redacts() -> None:
    stream = io.StringIO()
    configure_logging("INFO", json_format=False, stream=stream)
    with bind(account_id=3, session_id=12):
        logging.getLogger("rf.human").info("pwd=%s", "abc123")
    line = stream.getvalue().strip()
    assert line.endswith("rf.human [account=3 session=12]: pwd=[REDACTED:password]")
    assert "abc123" not in line


def test_format_follows_the_tty_when_not_asked() -> None:
    class FakeTty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = FakeTty(), io.StringIO()
    configure_logging(stream=tty)
    logging.getLogger("rf").info("hello")
    assert not tty.getvalue().startswith("{")
    configure_logging(stream=pipe)
    logging.getLogger("rf").info("hello")
    assert json.loads(pipe.getvalue())["message"] == "hello"
    assert "hello" in tty.getvalue() and tty.getvalue().count("hello") == 1  # the old handler is gone


def test_configuring_twice_does_not_duplicate_lines() -> None:
    stream = io.StringIO()
    configure_logging("INFO", json_format=True, stream=stream)
    configure_logging("INFO", json_format=True, stream=stream)
    logging.getLogger("rf").info("once")
    assert len(json_lines(stream)) == 1
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_resolutionflow_handler", False)]
    assert len(ours) == 1


def test_level_is_applied() -> None:
    stream = io.StringIO()
    configure_logging("WARNING", json_format=True, stream=stream)
    logging.getLogger("rf").info("hidden")
    logging.getLogger("rf").warning("shown")
    assert [line["message"] for line in json_lines(stream)] == ["shown"]


async def test_bind_follows_awaits_and_does_not_leak_between_tasks() -> None:
    stream = io.StringIO()
    configure_logging("INFO", json_format=True, stream=stream)
    log = logging.getLogger("rf.tasks")

    async def work(sid: int) -> None:
        with bind(session_id=sid, account_id=1):
            await asyncio.sleep(0.01 * (3 - sid))
            log.info("done %s", sid)

    await asyncio.gather(work(1), work(2))
    assert {(line["message"], line["session_id"]) for line in json_lines(stream)} == {("done 1", 1), ("done 2", 2)}
    assert log_context.current() == {"session_id": None, "account_id": None}


def test_nested_bind_keeps_the_outer_account_and_restores() -> None:
    with bind(account_id=5):
        with bind(session_id=9):
            assert log_context.current() == {"session_id": 9, "account_id": 5}
        assert log_context.current() == {"session_id": None, "account_id": 5}
    assert log_context.current() == {"session_id": None, "account_id": None}
