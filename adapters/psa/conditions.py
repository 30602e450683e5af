"""Builds ConnectWise `conditions` strings so user input can never change the query (R34).

ConnectWise documents no escape for a double quote inside a string literal (PLATFORM_NOTES §4), so
we do not invent one: ids are emitted as validated integers, and free text is placed inside one
double-quoted literal only after REJECTING `"`, `\\` and control characters. With those gone nothing
in the text can close the literal, so `and`, `or`, parentheses or `=` in it are just characters.
(`%` or `[` may still widen what `contains` matches on the server's LIKE, which changes which
rows match, never which fields or companies the query covers.)
"""

from __future__ import annotations

import re

from core.errors import InvalidInput

MAX_TEXT_LENGTH = 200
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:/[A-Za-z][A-Za-z0-9_]*)*$")
_FORBIDDEN_IN_TEXT = re.compile(r'["\\\x00-\x1f\x7f]')
_MAX_ID = 2**31 - 1
_FORBIDDEN_NAMES = {'"': 'double quotes (")', "\\": "backslashes (\\)"}


def _field(name: str) -> str:
    """Field names are ours, never the user's; still, refuse anything that is not a plain path."""
    if not _FIELD.match(name):
        raise ValueError(f"not a ConnectWise field path: {name!r}")
    return name


def id_literal(value: object, *, what: str = "id") -> str:
    """A ConnectWise record id as condition text: a real positive int, nothing else."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"The {what} must be a whole number, got {type(value).__name__}.")
    if not 0 < value <= _MAX_ID:
        raise InvalidInput(f"The {what} {value} is out of range.")
    return str(value)


def text_literal(text: str) -> str:
    """User text as a double-quoted literal, or InvalidInput when it cannot be passed safely."""
    if not isinstance(text, str):
        raise InvalidInput("Search text must be text.")
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidInput(f"Search text is limited to {MAX_TEXT_LENGTH} characters.")
    bad = _FORBIDDEN_IN_TEXT.search(text)
    if bad:
        shown = _FORBIDDEN_NAMES.get(bad.group(0), "control characters or line breaks")
        raise InvalidInput(
            f"Search text cannot contain {shown}: ConnectWise has no safe way to pass it. "
            "Remove it, or search by ticket number instead."
        )
    return f'"{text}"'


def equals_id(field: str, value: object, *, what: str = "id") -> str:
    return f"{_field(field)}={id_literal(value, what=what)}"


def contains_text(field: str, text: str) -> str:
    return f"{_field(field)} contains {text_literal(text)}"


def equals_text(field: str, text: str) -> str:
    return f"{_field(field)}={text_literal(text)}"


def equals_bool(field: str, value: bool) -> str:
    if not isinstance(value, bool):
        raise TypeError("equals_bool takes a bool")
    return f"{_field(field)}={'true' if value else 'false'}"


def all_of(*clauses: str | None) -> str | None:
    """Join clauses with `and`, each in parentheses so precedence can never surprise us."""
    present = [clause for clause in clauses if clause]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return " and ".join(f"({clause})" for clause in present)
