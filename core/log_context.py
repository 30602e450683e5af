"""Which session and account the current code works for, so every log line can say so.

Context variables follow the task across awaits and into tasks it creates; `bind` restores the
previous values on exit, so nested binds and concurrent tasks never leak into each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Final


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()

session_id: ContextVar[int | None] = ContextVar("rf_session_id", default=None)
account_id: ContextVar[int | None] = ContextVar("rf_account_id", default=None)
# `bind`'s keyword arguments shadow the names above; these aliases keep the variables reachable.
_session_var = session_id
_account_var = account_id


@contextmanager
def bind(
    *, session_id: int | None | _Unset = UNSET, account_id: int | None | _Unset = UNSET
) -> Iterator[None]:
    """Set the given ids for the block; an omitted id keeps its current value."""
    tokens: list[tuple[ContextVar[int | None], Token[int | None]]] = []
    for var, value in ((_session_var, session_id), (_account_var, account_id)):
        if not isinstance(value, _Unset):
            tokens.append((var, var.set(value)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current() -> dict[str, int | None]:
    """The ids as a log record carries them (None when unbound)."""
    return {"session_id": _session_var.get(), "account_id": _account_var.get()}
