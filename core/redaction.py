"""Secret redaction (R14): nothing sensitive reaches the LLM, the logs or a note.

Secrets become `[REDACTED:<kind>]`. Detection is shape-based (key formats with a fixed prefix)
or cue-based (a value after `password:`, `api_key=`, "the password is" …); only the value is
replaced, so the surrounding sentence stays readable. Passes run in a fixed order, and a value
that starts with a marker (or a quoted value that is exactly one) is left alone, which makes
`redact` idempotent (hypothesis checks it in tests/unit/test_redaction.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

MARKER_PREFIX = "[REDACTED:"
MARKER_RE = re.compile(r"\[REDACTED:[a-z_]+\]")
SENSITIVE_PARAM_KIND = "sensitive_param"


def marker(kind: str) -> str:
    return f"{MARKER_PREFIX}{kind}]"


@dataclass(frozen=True, slots=True)
class RedactionResult:
    text: str
    count: int
    kinds: tuple[str, ...]


_MARK = r"\[REDACTED:[a-z_]+\]"
# An unquoted value runs to a delimiter (`&` only before another `name=`); trailing sentence
# punctuation is given back afterwards by `_value_span` (a lookahead here would be quadratic).
# A value that starts with a marker must still match, and is skipped by `_value_span`: if the
# regex refused it, backtracking could find a different split on the second pass.
_UNQUOTED_VALUE = r"(?:[^\s'\"`;,&<]|&(?!\w+=))+"
_TRAILING_PUNCTUATION = ".)]}"
_QUOTED_VALUE = (
    rf"\"(?P<dq>(?!{_MARK}\")[^\"\n]+)\""
    rf"|'(?P<sq>(?!{_MARK}')[^'\n]+)'"
    rf"|`(?P<bq>(?!{_MARK}`)[^`\n]+)`"
    rf"|“(?P<cq>(?!{_MARK}”)[^”\n]+)”"
    rf"|\{{(?P<br>(?!{_MARK}\}})[^}}\n]+)\}}"
)
# The opening quote is taken possessively: a value never restarts on its own quote character.
_VALUE = rf"(?:{_QUOTED_VALUE}|[\"'`“{{]?+(?P<uq>{_UNQUOTED_VALUE}))"
_VALUE_GROUPS = ("dq", "sq", "bq", "cq", "br", "uq")


def _value_span(match: re.Match[str]) -> tuple[int, int] | None:
    """Where the value is; None when there is nothing left to redact."""
    for group in _VALUE_GROUPS:
        if match.group(group) is not None:
            start, end = match.span(group)
            if group == "uq":
                value = match.group(group)
                if MARKER_RE.match(value):
                    return None  # already redacted; matched (not skipped by the regex) on purpose
                end = start + len(value.rstrip(_TRAILING_PUNCTUATION))
            return (start, end) if end > start else None
    return None


# --- cue words -------------------------------------------------------------------------------
_SEP = r"[ _-]?"
_CUES: dict[str, str] = {
    "password": r"password|passwd|passphrase|passcode|pass|pwd|pw",
    "pin": r"pin(?:[ _-]?code)?",
    "secret": (
        rf"client{_SEP}secret|app{_SEP}secret|shared{_SEP}secret|signing{_SEP}secret"
        rf"|webhook{_SEP}secret|secret{_SEP}key|secret|private{_SEP}key|encryption{_SEP}key"
        rf"|recovery{_SEP}key|pre{_SEP}shared{_SEP}key|psk"
    ),
    "api_key": rf"x-api-key|api{_SEP}key|apikey|subscription{_SEP}key|access{_SEP}key",
    "token": (
        rf"access{_SEP}token|refresh{_SEP}token|auth{_SEP}token|id{_SEP}token|sas{_SEP}token"
        rf"|session{_SEP}token|token"
    ),
}
_CUE_KIND = {
    kind: re.compile(rf"(?:{words})", re.IGNORECASE) for kind, words in _CUES.items()
}
_ALL_CUES = "|".join(_CUES.values())
_STRUCTURAL_SEP = r"[\"']?[ \t]*(?::=|=>|[:=])[ \t]*(?:\r?\n[ \t]*)?"
_NATURAL_SEP = (
    r"\s+(?:(?:(?:is|was|has\s+been)\s+)?(?:set|changed|reset)\s+to|is|was)(?:\s*:)?[ \t]+"
)
_QUALIFIER = r"(?:\s+(?:for|of|to)\s+(?:the\s+)?[\w.@\\-]+(?:\s+(?:account|user|box|mailbox))?)?"

_CUE_RE = re.compile(
    rf"(?<![A-Za-z0-9])(?P<cue>{_ALL_CUES})(?![A-Za-z0-9])"
    rf"(?:(?P<structural>(?>{_STRUCTURAL_SEP}))|{_QUALIFIER}(?P<natural>(?>{_NATURAL_SEP}))"
    rf"|(?P<to>(?>\s+to[ \t]+))){_VALUE}",
    re.IGNORECASE,
)

# Words that follow "the password is" in ordinary help-desk prose; they are not secrets.
_NOT_A_SECRET = frozenset(
    """a an the not no yes being been set reset changed same different wrong incorrect correct
    right expired expiring invalid valid blank empty missing required needed locked unknown known
    lost forgotten unchanged null none n/a na true false disabled enabled due about going supposed
    case-sensitive complex long short too very probably likely definitely still never always just
    only what that this it managed synced rejected accepted hidden encrypted stale old new good bad
    cached there here via by and or but so then currently auto automatically generated temporary
    fine ok okay working weak strong stored saved in on at for of to from with also now""".split()
)


def _looks_like_token(value: str) -> bool:
    return (
        len(value) >= 8
        and any(ch.isdigit() for ch in value)
        and any(ch.isalpha() for ch in value)
    )


def _looks_like_password(value: str) -> bool:
    """After a weak cue ("password to …") only something with a digit, a symbol or inner capitals
    counts, so "the password to log in" is left alone."""
    return len(value) >= 6 and (
        any(not ch.isalpha() for ch in value) or any(ch.isupper() for ch in value[1:])
    )


def _cue_kind(cue: str) -> str:
    for kind, pattern in _CUE_KIND.items():
        if pattern.fullmatch(cue):
            return kind
    return "password"  # unreachable: every cue belongs to a kind


def _cue_value_is_secret(match: re.Match[str], kind: str, value: str) -> bool:
    """Structural cues (`password=`) always take their value; prose cues ("the password is")
    skip ordinary words so "the password is wrong" stays readable."""
    if kind == "pin":
        return re.fullmatch(r"\d{3,12}", value) is not None
    if match.group("to") is not None:  # "reset the password to Welcome1"
        return match.group("uq") is None or (kind == "password" and _looks_like_password(value))
    if match.group("natural") is None:
        return True
    if match.group("cue").lower() == "pw":
        return False
    if match.group("uq") is None:
        return True  # a quoted value is meant literally
    if value.lower().strip(".,!?:") in _NOT_A_SECRET:
        return False
    if kind in {"api_key", "token", "secret"}:
        return _looks_like_token(value)
    return True


# --- the passes ------------------------------------------------------------------------------
_Replacer = Callable[[re.Match[str]], tuple[str, str] | None]


@dataclass(frozen=True, slots=True)
class _Pass:
    """One regex; `replace` returns (replacement, kind), or None to leave the match as it was."""

    pattern: re.Pattern[str]
    replace: _Replacer


def _splice(m: re.Match[str], span: tuple[int, int], kind: str) -> tuple[str, str]:
    """The match with only `span` (absolute positions) replaced by the marker."""
    text, base = m.group(0), m.start()
    return text[: span[0] - base] + marker(kind) + text[span[1] - base :], kind


def _whole(kind: str) -> _Replacer:
    return lambda m: (marker(kind), kind)


def _group(kind: str) -> _Replacer:
    return lambda m: _splice(m, m.span("value"), kind)


def _quoted(kind: str) -> _Replacer:
    def replace(m: re.Match[str]) -> tuple[str, str] | None:
        span = _value_span(m)
        return None if span is None else _splice(m, span, kind)

    return replace


def _cue_replace(m: re.Match[str]) -> tuple[str, str] | None:
    span = _value_span(m)
    if span is None:
        return None
    kind = _cue_kind(m.group("cue"))
    if not _cue_value_is_secret(m, kind, m.string[span[0] : span[1]]):
        return None
    return _splice(m, span, kind)


_VARIABLE_RE = re.compile(r"\$(?:[A-Za-z_][\w:.]*|\{[^}]*\}?)|\(.*")


def _flag_replace(m: re.Match[str]) -> tuple[str, str] | None:
    span = _value_span(m)
    if span is None or _VARIABLE_RE.fullmatch(m.string[span[0] : span[1]]):
        return None  # a variable or sub-expression, not a literal secret
    return _splice(m, span, "password")


_NB = r"(?<![A-Za-z0-9_-])"  # the start of a token that is not glued to a longer word
_NA = r"(?![A-Za-z0-9_-])"

_PASSES: tuple[_Pass, ...] = (
    # PEM / PGP private keys: the whole block, or an unterminated paste up to its last base64 line.
    _Pass(
        re.compile(
            r"-----BEGIN (?P<label>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----"
            r"(?:.*?-----END (?P=label)-----|(?:\r?\n(?:[A-Za-z0-9+/=]+|[A-Za-z-]+: [^\n]*))*)",
            re.DOTALL,
        ),
        _whole("private_key"),
    ),
    _Pass(re.compile(rf"{_NB}sk-ant-[A-Za-z0-9_-]{{20,}}"), _whole("anthropic_key")),
    _Pass(
        re.compile(rf"{_NB}sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{{20,}}"),
        _whole("openai_key"),
    ),
    _Pass(
        re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+"),
        _whole("slack_webhook"),
    ),
    _Pass(
        re.compile(rf"{_NB}(?:xox[abposre]-[A-Za-z0-9-]{{10,}}|xapp-\d-[A-Za-z0-9-]{{10,}})"),
        _whole("slack_token"),
    ),
    _Pass(
        re.compile(rf"{_NB}(?:gh[pousr]_[A-Za-z0-9]{{30,}}|github_pat_[A-Za-z0-9_]{{22,}})"),
        _whole("github_token"),
    ),
    _Pass(
        re.compile(rf"{_NB}(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{{16,}}"), _whole("stripe_key")
    ),
    _Pass(re.compile(rf"{_NB}AIza[0-9A-Za-z_-]{{35}}{_NA}"), _whole("gcp_api_key")),
    _Pass(
        re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|AIPA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        _whole("aws_access_key"),
    ),
    _Pass(
        re.compile(rf"{_NB}eyJ[A-Za-z0-9_-]{{8,}}\.[A-Za-z0-9_-]{{8,}}\.[A-Za-z0-9_-]*"),
        _whole("jwt"),
    ),
    # BitLocker recovery keys: eight groups of six digits.
    _Pass(re.compile(r"(?<![\d-])\d{6}(?:-\d{6}){7}(?![\d-])"), _whole("recovery_key")),
    # scheme://user:password@host — keep scheme, user and host.
    _Pass(
        re.compile(
            rf"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@\[\]]+:"
            rf"(?P<value>(?!{_MARK}@)[^\s/@]+(?:@[^\s/@]+)*)@(?=[^\s@/]*[A-Za-z0-9])"
        ),
        _group("connection_password"),
    ),
    # Azure storage / service bus connection strings and SAS signatures.
    _Pass(
        re.compile(
            rf"(?<![A-Za-z])(?:AccountKey|SharedAccessKey|SharedAccessSignature)\s*=\s*"
            rf"(?P<value>(?!{_MARK})[^;\s\"']+)",
            re.IGNORECASE,
        ),
        _group("azure_key"),
    ),
    _Pass(
        re.compile(rf"[?&]sig=(?P<value>(?!{_MARK})[A-Za-z0-9%+/=]{{10,}})"),
        _group("azure_key"),
    ),
    # AWS secret access keys are 40 base64 characters after a cue.
    _Pass(
        re.compile(
            r"(?<![A-Za-z0-9])(?:aws[_ -]?secret(?:[_ -]?access)?[_ -]?key|SecretAccessKey)"
            r"[\"']?\s*(?:[:=]|\s+is)\s*[\"']?(?P<value>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
            re.IGNORECASE,
        ),
        _group("aws_secret_key"),
    ),
    _Pass(
        re.compile(
            rf"(?<![A-Za-z])[Bb]earer\s+(?P<value>(?!{_MARK})"
            rf"(?=[A-Za-z0-9._~+/-]*\d|[A-Za-z0-9._~+/-]{{20}})[A-Za-z0-9._~+/-]{{8,}}=*)"
        ),
        _group("bearer_token"),
    ),
    _Pass(
        re.compile(
            r"(?<![A-Za-z])(?:Authorization|Proxy-Authorization)\s*:\s*Basic\s+"
            r"(?P<value>[A-Za-z0-9+/]{8,}=*)",
            re.IGNORECASE,
        ),
        _group("basic_auth"),
    ),
    # PowerShell: ConvertTo-SecureString "secret" -AsPlainText
    _Pass(
        re.compile(
            rf"ConvertTo-SecureString\s+(?:-String\s+)?(?:{_QUOTED_VALUE})(?=\s+-AsPlainText)",
            re.IGNORECASE,
        ),
        _quoted("password"),
    ),
    # <Password>secret</Password>, and unattend.xml's <AdministratorPassword><Value>…</Value>.
    _Pass(
        re.compile(
            r"<(?P<tag>[\w:]*(?:password|pwd|secret|apikey|token))>(?:\s*<Value>)?"
            rf"(?P<value>(?!{_MARK}<)[^<\n]+)(?=<)",
            re.IGNORECASE,
        ),
        _group("password"),
    ),
    # Command-line flags: --password secret, -Password 'secret', /pass:secret is a cue below.
    _Pass(
        re.compile(
            rf"(?<![\w-])--?(?:password|passwd|pwd|pass|secret|token|api-?key|client-?secret)"
            rf"(?![A-Za-z0-9])(?>\s+|=){_VALUE}",
            re.IGNORECASE,
        ),
        _flag_replace,
    ),
    _Pass(_CUE_RE, _cue_replace),
)


def redact(text: str) -> RedactionResult:
    """Replace every secret in `text`; never raises on str input and is idempotent."""
    count = 0
    kinds: set[str] = set()
    for step in _PASSES:

        def substitute(match: re.Match[str], step: _Pass = step) -> str:
            nonlocal count
            outcome = step.replace(match)
            if outcome is None:
                return match.group(0)
            replacement, kind = outcome
            count += 1
            kinds.add(kind)
            return replacement

        text = step.pattern.sub(substitute, text)
    return RedactionResult(text=text, count=count, kinds=tuple(sorted(kinds)))


def redact_text(text: str) -> str:
    return redact(text).text


def redact_params(values: Mapping[str, str], sensitive: set[str]) -> dict[str, str]:
    """Template parameters (R27): sensitive ones are masked whole, the rest still get `redact_text`
    in case a secret was typed into an ordinary field."""
    return {
        name: marker(SENSITIVE_PARAM_KIND) if name in sensitive else redact_text(value)
        for name, value in values.items()
    }
