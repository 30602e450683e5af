"""Where the real PostgreSQL and Redis are, for the suites that must exercise them.

CI exports RF_TEST_POSTGRES_URL / RF_TEST_REDIS_URL when the machine runs those services: then an
unreachable service fails the run. Elsewhere the defaults are tried and the suite skips with a reason.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def _url_or_skip(var: str, default: str, port: int, what: str) -> str:
    explicit = os.environ.get(var)
    url = explicit or default
    if _reachable(url, port):
        return url
    if explicit:
        pytest.fail(f"{var}={url} is set but {what} is not reachable there", pytrace=False)
    pytest.skip(f"no {what} reachable at {url} (set {var} to run this suite)")


def postgres_url_or_skip() -> str:
    return _url_or_skip("RF_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL, 5432, "PostgreSQL")


def redis_url_or_skip() -> str:
    return _url_or_skip("RF_TEST_REDIS_URL", DEFAULT_REDIS_URL, 6379, "Redis")
