"""Domain errors. Core speaks in codes: `reason` names the refusal exactly and `params` carry its
neutral values (labels, ids, limits); each surface words it for its own people, pointing at its own
controls (`adapters/*/wording`). `message` is a plain English default that names no surface's
controls, for logs and for any surface without a wording of its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """A user-visible refusal. `code` is the category (stable for tests and logs), `reason` the
    exact refusal (e.g. `escalate.reason_missing`), `params` what a wording may name."""

    code = "error"

    def __init__(self, message: str, *, reason: str | None = None, params: Mapping[str, Any] | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.code
        self.params: dict[str, Any] = dict(params or {})
        self.field = field  # the form field at fault, when a form's input was refused


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


def worded(exc: DomainError, overrides: Mapping[str, str]) -> str:
    """`exc` in a surface's words: its override for `exc.reason`, filled from `params` (and
    `message`), else the plain default. An override naming a parameter the refusal lacks falls
    back to the default rather than failing the answer."""
    template = overrides.get(exc.reason)
    if template is None:
        return exc.message
    try:
        return template.format_map({**exc.params, "message": exc.message})
    except (KeyError, IndexError, ValueError):
        return exc.message
