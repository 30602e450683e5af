"""Domain errors. Every surface turns them into the same clear message (`str(error)`)."""

from __future__ import annotations


class DomainError(Exception):
    """A user-visible refusal. `code` is stable for tests and logs; the message is for people."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Forbidden(DomainError):
    code = "forbidden"


class InvalidInput(DomainError):
    code = "invalid"


class IllegalTransition(Conflict):
    code = "illegal_transition"
