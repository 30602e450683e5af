"""A real parser and evaluator for ConnectWise `conditions`, for the fake server.

It is deliberately written without looking at how our client builds conditions: the tests prove
the client's output means what it should by parsing it here. The grammar follows what ConnectWise
documents (Rewst / Infrascale notes in PLATFORM_NOTES §4): `field op value` joined by `and`/`or`
with parentheses, `not`, nested fields with `/`, strings in double quotes with NO escape (the first
`"` ends the literal, as far as anyone can tell), integers, true/false/null, `[datetime]`,
operators `= != < <= > >= contains like in` (and their `not` forms).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class ConditionError(ValueError):
    """Unparsable conditions: the server answers 400 like ConnectWise."""


@dataclass(frozen=True)
class Compare:
    field: str
    op: str  # one of = != < <= > >= contains like in
    value: Any  # str | int | float | bool | None | tuple (for `in`)
    negated: bool = False


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    inner: Node


Node = Compare | And | Or | Not

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"[^"]*")
    | (?P<date>\[[^\]]*\])
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op><=|>=|!=|=|<|>)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "like", "contains", "true", "false", "null"}


@dataclass(frozen=True)
class _Tok:
    kind: str  # string date number op punct word kw
    text: str


def tokenize(source: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    position = 0
    while position < len(source):
        if source[position:].strip() == "":
            break
        match = _TOKEN.match(source, position)
        if not match:
            raise ConditionError(f"Unexpected text at position {position}: {source[position:][:20]!r}")
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "word" and text.lower() in _KEYWORDS:
            kind, text = "kw", text.lower()
        tokens.append(_Tok(kind, text))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Tok:
        token = self.peek()
        if token is None:
            raise ConditionError("Unexpected end of conditions")
        self.index += 1
        return token

    def accept(self, kind: str, text: str | None = None) -> bool:
        token = self.peek()
        if token and token.kind == kind and (text is None or token.text == text):
            self.index += 1
            return True
        return False

    def expect(self, kind: str, text: str) -> None:
        if not self.accept(kind, text):
            raise ConditionError(f"Expected {text!r}")

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() is not None:
            raise ConditionError(f"Unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.accept("kw", "or"):
            node = Or(node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.unary()
        while self.accept("kw", "and"):
            node = And(node, self.unary())
        return node

    def unary(self) -> Node:
        if self.accept("kw", "not"):
            return Not(self.unary())
        if self.accept("punct", "("):
            node = self.or_expr()
            self.expect("punct", ")")
            return node
        return self.comparison()

    def comparison(self) -> Node:
        field = self.take()
        if field.kind != "word":
            raise ConditionError(f"Expected a field name, got {field.text!r}")
        negated = self.accept("kw", "not")
        token = self.take()
        if token.kind == "op" and not negated:
            return Compare(field.text, token.text, self.value())
        if token.kind == "kw" and token.text in ("contains", "like"):
            return Compare(field.text, token.text, self.value(), negated)
        if token.kind == "kw" and token.text == "in":
            self.expect("punct", "(")
            values = [self.value()]
            while self.accept("punct", ","):
                values.append(self.value())
            self.expect("punct", ")")
            return Compare(field.text, "in", tuple(values), negated)
        raise ConditionError(f"Expected an operator after {field.text!r}, got {token.text!r}")

    def value(self) -> Any:
        token = self.take()
        if token.kind == "string":
            return token.text[1:-1]
        if token.kind == "date":
            return token.text[1:-1]
        if token.kind == "number":
            return float(token.text) if "." in token.text else int(token.text)
        if token.kind == "kw" and token.text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[token.text]
        raise ConditionError(f"Expected a value, got {token.text!r}")


def parse_conditions(source: str) -> Node:
    tokens = tokenize(source)
    if not tokens:
        raise ConditionError("Empty conditions")
    return _Parser(tokens).parse()


def render(node: Node) -> str:
    """The inverse of parse, fully parenthesised (used by the property tests)."""
    if isinstance(node, And):
        return f"({render(node.left)}) and ({render(node.right)})"
    if isinstance(node, Or):
        return f"({render(node.left)}) or ({render(node.right)})"
    if isinstance(node, Not):
        return f"not ({render(node.inner)})"
    prefix = "not " if node.negated else ""
    if node.op == "in":
        return f"{node.field} {prefix}in ({', '.join(_literal(v) for v in node.value)})"
    if node.op in ("contains", "like"):
        return f"{node.field} {prefix}{node.op} {_literal(node.value)}"
    return f"{node.field} {node.op} {_literal(node.value)}"


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if '"' in value:
        raise ValueError("ConnectWise string literals cannot hold a double quote")
    return f'"{value}"'


# ---- evaluation ---------------------------------------------------------------------------


def field_value(record: dict[str, Any], path: str, known: frozenset[str]) -> Any:
    """`company/id` → record["company"]["id"]; field names match case-insensitively like CW."""
    if path.lower() not in known:
        raise ConditionError(f"Unknown field {path!r}")
    value: Any = record
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        lowered = {key.lower(): key for key in value}
        value = value.get(lowered.get(part.lower(), part))
    return value


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _like(pattern: str, value: str) -> bool:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def _compare(node: Compare, actual: Any) -> bool:
    op, wanted = node.op, node.value
    if op in ("contains", "like"):
        if not isinstance(wanted, str):
            raise ConditionError(f"{op} needs a string")
        if not isinstance(actual, str):
            return node.negated
        hit = wanted.lower() in actual.lower() if op == "contains" else _like(wanted, actual)
        return hit != node.negated
    if op == "in":
        return (_norm(actual) in {_norm(v) for v in wanted}) != node.negated
    if op == "=":
        return _norm(actual) == _norm(wanted)
    if op == "!=":
        return _norm(actual) != _norm(wanted)
    if actual is None or wanted is None:
        return False
    try:
        a, b = _norm(actual), _norm(wanted)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    except TypeError:
        raise ConditionError(f"Cannot compare {node.field} with {wanted!r}") from None


def matches(node: Node, record: dict[str, Any], known: frozenset[str]) -> bool:
    if isinstance(node, And):
        return matches(node.left, record, known) and matches(node.right, record, known)
    if isinstance(node, Or):
        return matches(node.left, record, known) or matches(node.right, record, known)
    if isinstance(node, Not):
        return not matches(node.inner, record, known)
    return _compare(node, field_value(record, node.field, known))


def validate_fields(node: Node, known: frozenset[str]) -> None:
    """Unknown fields are a 400 even when no record exists to evaluate against."""
    if isinstance(node, And | Or):
        validate_fields(node.left, known)
        validate_fields(node.right, known)
    elif isinstance(node, Not):
        validate_fields(node.inner, known)
    elif node.field.lower() not in known:
        raise ConditionError(f"Unknown field {node.field!r}")
