"""The grounding check of R13: every concrete token of a generated note must occur in its input.

A model that writes a plausible IP, KB number or colleague's name the engineer never gave puts a
false fact on a customer's ticket. So the engine does not trust the prompt alone: it extracts the
concrete tokens of a draft (addresses, hosts, paths, versions, KB/CVE ids, error codes, numbers
with units, e-mails, URLs, names) and lists those the input does not contain. Pure functions;
comparison is case-insensitive with surrounding punctuation stripped. The name rule is deliberately
conservative (a wrong rejection costs a regeneration, then an honest fallback).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from core.grounding_words import COMMON_WORDS, canonical_unit, unit_pattern


class TokenKind(StrEnum):
    URL = "url"
    EMAIL = "email"
    PATH = "path"
    IP = "ip"
    CVE = "cve"
    KB = "kb"
    ERROR_CODE = "error_code"
    QUANTITY = "quantity"
    VERSION = "version"
    HOST = "host"
    TICKET = "ticket"
    NAME = "name"


@dataclass(frozen=True)
class Token:
    """A concrete token as written (`text`) and the form it is looked up by (`key`)."""

    kind: TokenKind
    text: str
    key: str


_STRIP = ".,;:!?)]}>'\"“”‘’*_`"
_A = re.ASCII
_I = re.ASCII | re.IGNORECASE

# The order is the priority: a span taken by one pattern is not looked at by the later ones.
_PATTERNS: tuple[tuple[TokenKind, re.Pattern[str]], ...] = (
    (TokenKind.URL, re.compile(r"\b(?:https?|ftp)://[^\s<>()\[\]\"'`]+|\bwww\.[^\s<>()\[\]\"'`]+", _I)),
    (TokenKind.EMAIL, re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", _A)),
    (TokenKind.PATH, re.compile(
        r"\\\\[^\s\\\"'`<>|]+(?:\\[^\s\\\"'`<>|]*)*"  # UNC
        r"|\b[A-Za-z]:\\[^\s\"'`<>|]*"  # drive
        r"|\b(?:HKLM|HKCU|HKCR|HKU|HKEY_[A-Z_]+)\\[^\s\"'`<>|]+"  # registry
        r"|(?<![\w/.])~?/[\w.-]+(?:/[\w.-]*)+", _A)),  # unix, at least two parts
    (TokenKind.IP, re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\w]|\.\d)", _A)),
    (TokenKind.IP, re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:/\d{1,3})?(?![\w:])", _A)),
    (TokenKind.CVE, re.compile(r"\bCVE-\d{4}-\d{3,}\b", _I)),
    (TokenKind.KB, re.compile(r"\bKB[ -]?\d{4,8}\b", _I)),
    (TokenKind.ERROR_CODE, re.compile(r"\b0x[0-9A-F]{2,16}\b", _I)),
    (TokenKind.ERROR_CODE, re.compile(
        r"\b(?:event(?:[ \t]+id)?|error(?:[ \t]+code)?|exit[ \t]+code|return[ \t]+code|status(?:[ \t]+code)?"
        r"|http(?:/\d(?:\.\d)?)?|hresult|port|code)[ \t]*[:#]?[ \t]*-?\d+\b", _I)),
    (TokenKind.ERROR_CODE, re.compile(r"\b[1-5]\d\d(?=[ \t]+(?:error|response|status)\b)", _I)),
    (TokenKind.QUANTITY, re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*[ \t]?%", _A)),
    (TokenKind.QUANTITY, re.compile(rf"(?<![\w.,])\d+(?:[.,]\d+)*(?:[ \t]|[ \t]?-[ \t]?)?(?:{unit_pattern()})\b", _I)),
    (TokenKind.VERSION, re.compile(r"\b(?:build|version|ver\.?|release)[ \t]*#?[ \t]*\d+(?:\.\d+)*\b", _I)),
    (TokenKind.VERSION, re.compile(r"(?<![\w.])v?\d+(?:\.\d+){1,3}(?![\w]|\.\d)", _I)),
    (TokenKind.HOST, re.compile(r"\b(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]\b", _A)),
    (TokenKind.TICKET, re.compile(r"(?<![\w&#])#\d{2,}\b", _A)),
    (TokenKind.ERROR_CODE, re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", _A)),
    (TokenKind.HOST, re.compile(r"\b(?=[A-Za-z0-9-]*[A-Za-z])(?=[A-Za-z0-9-]*\d)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b", _A)),
)
_NOT_AN_ID = re.compile(r"\d+(?:st|nd|rd|th)?(?:-[a-z]+)*|[a-z]\d|ipv[46]|x64|x86|2fa|mp[34]", _I)
_NUMBER_IN = re.compile(r"-?\d+(?:\.\d+)*", _A)
_AMOUNT = re.compile(r"\d+(?:[.,]\d+)*", _A)
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W_])?")
_ALNUM = re.compile(r"[^\W_]+")
_OPENERS = ".!?:;([{<>#•|\"'“‘-–—"


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _key(kind: TokenKind, text: str) -> str:
    """The comparable form: case-folded, and for some kinds the part that carries the meaning."""
    folded = text.casefold()
    if kind is TokenKind.IP:
        try:
            return str(ipaddress.ip_interface(folded) if "/" in folded else ipaddress.ip_address(folded))
        except ValueError:
            return folded
    if kind is TokenKind.KB:
        return "kb" + re.sub(r"\D", "", folded)
    if kind is TokenKind.QUANTITY:
        number = _AMOUNT.search(folded)
        unit = folded[number.end():].strip(" \t-") if number else ""
        digits = re.sub(r",(?=\d{3}(?!\d))", "", number.group() if number else "").replace(",", ".")
        return digits if unit == "%" else f"{digits} {canonical_unit(unit)}"
    if kind in (TokenKind.ERROR_CODE, TokenKind.VERSION, TokenKind.TICKET) and not folded.startswith("0x") \
            and "_" not in folded:
        numbers = _NUMBER_IN.findall(folded)
        return numbers[-1].lstrip("v") if numbers else folded
    if kind is TokenKind.URL or kind is TokenKind.PATH:
        return folded.rstrip("/\\")
    if kind is TokenKind.NAME:
        return re.sub(r"['’]s$", "", folded)
    return folded


def _valid(kind: TokenKind, text: str) -> bool:
    if kind is TokenKind.IP:
        try:
            ipaddress.ip_interface(text) if "/" in text else ipaddress.ip_address(text)
        except ValueError:
            return False
    if kind is TokenKind.HOST:
        return len(text) >= 3 and _NOT_AN_ID.fullmatch(text) is None
    return True


def _technical(text: str) -> Iterator[tuple[int, int, Token]]:
    """Every technical token with its span; earlier patterns win overlaps."""
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            raw = match.group()
            cut = raw.rstrip(_STRIP)
            start, end = match.start(), match.start() + len(cut)
            if not cut or any(s < end and start < e for s, e in taken) or not _valid(kind, cut):
                continue
            taken.append((start, end))
            yield start, end, Token(kind, cut, _key(kind, cut))


def _sentence_start(line: str, at: int) -> bool:
    """A first word: at the line's start, after a list marker, a sentence end, a colon, a dash or
    an opening bracket or quote (conservative: such a word is never taken for a name)."""
    head = line[:at].rstrip(" \t*_`")
    return not head or head[-1] in _OPENERS


def _names(line: str, taken: list[tuple[int, int]]) -> Iterator[Token]:
    """Capitalised words that are not a sentence's first word, nor common note words; adjacent
    ones form one multi-word name."""
    run: list[re.Match[str]] = []

    def flush() -> Iterator[Token]:
        if run:
            text = line[run[0].start():run[-1].end()]
            yield Token(TokenKind.NAME, text, _key(TokenKind.NAME, text))
        run.clear()

    for word in _WORD.finditer(line):
        text = word.group()
        candidate = (text[0].isupper() and text.casefold() not in COMMON_WORDS
                     and _key(TokenKind.NAME, text) not in COMMON_WORDS
                     and not any(s < word.end() and word.start() < e for s, e in taken)
                     and not _sentence_start(line, word.start()))
        adjacent = bool(run) and line[run[-1].end():word.start()] in (" ", "\u00a0")
        if not candidate or not adjacent:
            yield from flush()
        if candidate:
            run.append(word)
    yield from flush()


def extract_tokens(text: str) -> tuple[Token, ...]:
    """The concrete tokens of a note, in order of appearance per line. Headings are the prompt's
    own section names, so they carry no names (technical tokens in them still count)."""
    found: list[Token] = []
    for line in _normal(text).split("\n"):
        spans = list(_technical(line))
        found += [token for _, _, token in sorted(spans, key=lambda s: s[0])]
        if not line.lstrip().startswith("#"):
            found += _names(line, [(s, e) for s, e, _ in spans])
    return tuple(found)


@dataclass(frozen=True)
class Source:
    """The generation input, indexed once for every lookup."""

    text: str
    keys: frozenset[str]
    words: frozenset[str]

    @classmethod
    def of(cls, text: str) -> Source:
        normal = _normal(text)
        folded = normal.casefold()
        return cls(text=folded, keys=frozenset(t.key for t in extract_tokens(normal) if t.kind is not TokenKind.NAME),
                   words=frozenset(part for word in _WORD.finditer(normal) for part in _ALNUM.findall(word.group().casefold())))


def _edge_ok(text: str, inner: int, outer: int) -> bool:
    """Whether the match edge at `at` is a token boundary: no letter or digit continues it, nor
    a dotted number (so 10.0.0.5 never grounds 10.0.0.50 or 0.0.5)."""
    if not 0 <= outer < len(text):
        return True
    c = text[outer]
    if c.isalnum() or c == "_":
        return False
    beyond = outer + (outer - inner)
    return not (c in ".:" and 0 <= beyond < len(text) and text[beyond].isdigit() and text[inner].isdigit())


def occurs(key: str, text: str) -> bool:
    """`key` appears in `text` as a whole token (both already case-folded)."""
    if not key:
        return True
    start = text.find(key)
    while start >= 0:
        end = start + len(key)
        left = not key[0].isalnum() or _edge_ok(text, start, start - 1)
        right = not key[-1].isalnum() or _edge_ok(text, end - 1, end)
        if left and right:
            return True
        start = text.find(key, start + 1)
    return False


def grounded(token: Token, source: Source) -> bool:
    if token.kind is TokenKind.NAME:
        return all(part in source.words for part in _ALNUM.findall(token.key))
    return token.key in source.keys or occurs(token.key, source.text)


def violations(draft: str, source: str | Source) -> tuple[Token, ...]:
    """The draft's tokens that the input does not contain, each once (first spelling kept)."""
    index = source if isinstance(source, Source) else Source.of(source)
    seen: set[tuple[TokenKind, str]] = set()
    missing: list[Token] = []
    for token in extract_tokens(draft):
        if (token.kind, token.key) in seen or grounded(token, index):
            continue
        seen.add((token.kind, token.key))
        missing.append(token)
    return tuple(missing)


Check = Callable[[str], tuple[Token, ...]]


def checker(source: str) -> Check:
    """`violations` against one input, indexed once (a preview checks up to two drafts)."""
    index = Source.of(source)
    return lambda draft: violations(draft, index)
