"""Turning raw tool input from the model into validated values (R33, R7, R16).

The model's output is untrusted: `parse_turn` keeps every element that fits and drops (and logs)
each one that does not, so one bad fix never costs the engineer the reply. Only a missing reply is
fatal, because there is then nothing to show: that raises `AssistantUnavailable` (R16).
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from typing import Any, Literal

from pydantic import ValidationError

from core.assistant.types import (
    CODE_CUT_OFF,
    AssistantTurn,
    AssistantUnavailable,
    FactPromotion,
    FixSuggestion,
    OutcomeProposal,
    ScriptParameter,
)

log = logging.getLogger("rflow.assistant")

MAX_REPLY_CHARS = 12_000
MAX_ITEM_CHARS = 500
MAX_ITEMS_PER_LIST = 8
MAX_FACTS = 8
MAX_FACT_CHARS = 1_000
MAX_NOTE_CHARS = 20_000  # R15
REDACTION_MARKER = "[REDACTED:"

RESOLUTION_SECTIONS: tuple[str, ...] = ("Problem", "What we confirmed", "Root cause", "Resolution")
ESCALATION_SECTIONS: tuple[str, ...] = (
    "Problem",
    "What we've confirmed",
    "What we've tried",
    "Current hypothesis",
    "Suggested next steps",
)
NoteKind = Literal["resolve", "escalate"]

_LABEL = re.compile(r"^[QC][0-9]{1,4}$")
_OUTCOME_SYNONYMS = {
    "worked": "worked", "success": "worked", "succeeded": "worked", "resolved": "worked",
    "failed": "failed", "fail": "failed", "failure": "failed", "did_not_work": "failed",
    "partial": "partial", "partially": "partial", "partly": "partial", "partial_success": "partial",
}  # fmt: skip
_NULLISH = {"", "null", "none", "n/a", "nothing"}


def sections_for(kind: NoteKind) -> tuple[str, ...]:
    return RESOLUTION_SECTIONS if kind == "resolve" else ESCALATION_SECTIONS


def parse_turn(raw: object) -> AssistantTurn:
    """The validated turn from `update_session` input. Raises only `AssistantUnavailable`."""
    if not isinstance(raw, dict):
        raise AssistantUnavailable("unusable reply")
    reply = raw.get("reply")
    if not isinstance(reply, str) or not reply.strip():
        raise AssistantUnavailable("unusable reply")
    dropped: list[str] = []
    reply = reply.strip()
    if len(reply) > MAX_REPLY_CHARS:
        reply = reply[:MAX_REPLY_CHARS].rstrip() + " …"
        dropped.append(f"reply: cut to {MAX_REPLY_CHARS} characters")
    turn = AssistantTurn(
        reply=reply,
        questions=_lane_items("questions", raw.get("questions"), dropped),
        checks=_lane_items("checks", raw.get("checks"), dropped),
        facts=_facts(raw.get("facts"), dropped),
        fix=_last_valid_fix(raw.get("fixes"), dropped),
        outcome=_outcome(raw.get("outcome"), dropped),
        dropped=tuple(dropped),
    )
    for reason in turn.dropped:
        log.warning("assistant output dropped: %s", reason)
    return turn


CUT_OFF_NOTE = "(The rest of this answer was cut off at its length limit. Ask again for the rest.)"


def salvage_turn(reply: str) -> AssistantTurn:
    """What stays usable of an answer cut at its output limit even after the larger retry: the
    reply text so far, marked as cut, and nothing that changes the session. A cut list would
    retire lane items it never reached, and a cut fix or fact would be wrong (R33). Raises
    `AssistantUnavailable` when not even the reply had begun."""
    text = reply.strip()
    if not text:
        raise AssistantUnavailable("the assistant's answer was cut off", code=CODE_CUT_OFF)
    if len(text) > MAX_REPLY_CHARS:
        text = text[:MAX_REPLY_CHARS].rstrip()
    dropped = ("everything after the reply: the answer was cut off at its output limit",)
    log.warning("assistant output dropped: %s", dropped[0])
    return AssistantTurn(reply=f"{text} …\n\n{CUT_OFF_NOTE}", dropped=dropped)


def parse_fact(raw: object) -> str | None:
    """The synthesized fact from `record_fact` input; None when the model confirmed nothing (R4)."""
    if not isinstance(raw, dict) or "fact" not in raw:
        raise AssistantUnavailable("unusable reply")
    fact = raw["fact"]
    if fact is None:
        return None
    if not isinstance(fact, str):
        raise AssistantUnavailable("unusable reply")
    text = _clean(fact).strip("\"'“”‘’ ")
    if text.casefold().rstrip(".") in _NULLISH:
        return None
    if len(text) > MAX_FACT_CHARS:
        raise AssistantUnavailable("the synthesized fact was too long")
    return text


def parse_note(raw: object, kind: NoteKind) -> str:
    """The note markdown from `write_note` input, with every required section present in order.

    Anything missing raises `AssistantUnavailable`, so the engine composes deterministically (R16).
    Headings are normalised to their canonical spelling; a preamble before the first is removed."""
    markdown = raw.get("markdown") if isinstance(raw, dict) else raw
    if not isinstance(markdown, str) or not markdown.strip():
        raise AssistantUnavailable("the note came back empty")
    required = sections_for(kind)
    wanted = {_heading_key(name): name for name in required}
    lines = markdown.strip().replace("\r\n", "\n").split("\n")
    found: list[str] = []
    first_heading_at: int | None = None
    for index, line in enumerate(lines):
        match = re.match(r"^\s{0,3}#{1,3}\s+(.+?)\s*#*\s*$", line)
        if not match:
            continue
        name = wanted.get(_heading_key(match.group(1)))
        if name is None:
            continue
        lines[index] = f"## {name}"
        found.append(name)
        if first_heading_at is None:
            first_heading_at = index
    if tuple(found) != required:
        missing = [name for name in required if name not in found]
        detail = f"missing {', '.join(missing)}" if missing else "sections out of order or repeated"
        raise AssistantUnavailable(f"the note did not have the required sections ({detail})")
    text = "\n".join(lines[first_heading_at:]).strip()
    if len(text) > MAX_NOTE_CHARS:
        raise AssistantUnavailable("the note was longer than 20,000 characters")
    return text


def _heading_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("*", "")
    return re.sub(r"\s+", " ", text).strip().rstrip(":").casefold()


def _clean(text: str) -> str:
    """Trim and collapse runs of blank space that models like to leave in list items."""
    return re.sub(r"[ \t]+", " ", text).strip()


def _as_list(field: str, value: object, dropped: list[str]) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, (dict, str)):
        return [value]  # a lone element where a list was expected: keep it
    dropped.append(f"{field}: expected a list, got {type(value).__name__}")
    return []


def _lane_items(field: str, value: object, dropped: list[str]) -> tuple[str, ...]:
    """Questions or checks: strings, trimmed, deduplicated, capped (R3 keys on their text)."""
    kept: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(_as_list(field, value, dropped)):
        where = f"{field}[{index}]"
        if not isinstance(item, str):
            dropped.append(f"{where}: not text")
            continue
        text = _clean(item)
        key = text.casefold()
        if not text:
            dropped.append(f"{where}: empty")
        elif len(text) > MAX_ITEM_CHARS:
            dropped.append(f"{where}: longer than {MAX_ITEM_CHARS} characters")
        elif key in seen:
            dropped.append(f"{where}: duplicate")
        elif len(kept) >= MAX_ITEMS_PER_LIST:
            dropped.append(f"{where}: more than {MAX_ITEMS_PER_LIST} items")
        else:
            seen.add(key)
            kept.append(text)
    return tuple(kept)


def _strings_trimmed(item: dict[str, Any]) -> dict[str, Any]:
    return {key: (_clean(value) if isinstance(value, str) else value) for key, value in item.items()}


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "value"
    return f"{where}: {first['msg']}"


def _facts(value: object, dropped: list[str]) -> tuple[FactPromotion, ...]:
    """Fact proposals (R6): text plus the engineer's verbatim evidence; the label is optional."""
    kept: list[FactPromotion] = []
    for index, item in enumerate(_as_list("facts", value, dropped)):
        where = f"facts[{index}]"
        if not isinstance(item, dict):
            dropped.append(f"{where}: not an object")
            continue
        data = _strings_trimmed(item)
        label = data.get("item_label")
        if isinstance(label, str) and _LABEL.match(label.upper()):
            data["item_label"] = label.upper()
        else:
            if label not in (None, ""):
                dropped.append(f"{where}.item_label: not a task-lane label, kept the fact without it")
            data["item_label"] = None
        try:
            fact = FactPromotion.model_validate(data)
        except ValidationError as error:
            dropped.append(f"{where}: {_first_error(error)}")
            continue
        if len(kept) >= MAX_FACTS:
            dropped.append(f"{where}: more than {MAX_FACTS} facts")
            continue
        kept.append(fact)
    return tuple(kept)


def _confidence(value: object) -> int | None:
    """R7: any finite number becomes an int clamped to 0..100; anything else is invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().rstrip("%"))
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return max(0, min(100, round(value)))
    return None


def _parameters(value: object, where: str, dropped: list[str]) -> list[ScriptParameter]:
    kept: list[ScriptParameter] = []
    names: set[str] = set()
    for index, item in enumerate(_as_list(f"{where}.parameters", value, dropped)):
        at = f"{where}.parameters[{index}]"
        if not isinstance(item, dict):
            dropped.append(f"{at}: not an object")
            continue
        data = _strings_trimmed(item)
        if data.get("options") is None:
            data["options"] = []
        try:
            parameter = ScriptParameter.model_validate(data)
        except ValidationError as error:
            dropped.append(f"{at}: {_first_error(error)}")
            continue
        if parameter.name in names:
            dropped.append(f"{at}: duplicate parameter {parameter.name}")
            continue
        if parameter.type == "password" and not parameter.sensitive:
            parameter = parameter.model_copy(update={"sensitive": True})  # a password is a secret
        names.add(parameter.name)
        kept.append(parameter)
    return kept


def _fix(item: object, where: str, dropped: list[str]) -> FixSuggestion | None:
    if not isinstance(item, dict):
        dropped.append(f"{where}: not an object")
        return None
    data = _strings_trimmed(item)
    confidence = _confidence(data.get("confidence"))
    if confidence is None:
        dropped.append(f"{where}.confidence: not a number")
        return None
    data["confidence"] = confidence
    script = item.get("script")
    if not isinstance(script, str) or not script.strip():
        data["script"], data["script_language"] = None, None
    elif REDACTION_MARKER in script:
        dropped.append(f"{where}.script: contained a redacted value; the fix is kept without it")
        data["script"], data["script_language"] = None, None
    else:
        data["script"] = script.strip("\n")  # keep indentation: scripts are whitespace-sensitive
        language = data.get("script_language")
        data["script_language"] = language.lower() if isinstance(language, str) and language else None
    data["parameters"] = _parameters(data.get("parameters"), where, dropped) if data["script"] else []
    try:
        return FixSuggestion.model_validate(data)
    except ValidationError as error:
        dropped.append(f"{where}: {_first_error(error)}")
        return None


def _last_valid_fix(value: object, dropped: list[str]) -> FixSuggestion | None:
    """R7: of several suggestions in one reply the last valid one wins."""
    chosen: FixSuggestion | None = None
    chosen_at = ""
    for index, item in enumerate(_as_list("fixes", value, dropped)):
        where = f"fixes[{index}]"
        fix = _fix(item, where, dropped)
        if fix is None:
            continue
        if chosen is not None:
            dropped.append(f"{chosen_at}: superseded by a later suggestion in the same reply")
        chosen, chosen_at = fix, where
    return chosen


def _outcome(value: object, dropped: list[str]) -> OutcomeProposal | None:
    """R11: a proposal only; the engineer confirms it on the surface."""
    if value is None:
        return None
    if not isinstance(value, dict):
        dropped.append("outcome: not an object")
        return None
    data = _strings_trimmed(value)
    outcome = data.get("outcome")
    if isinstance(outcome, str):
        data["outcome"] = _OUTCOME_SYNONYMS.get(outcome.casefold().replace(" ", "_"), outcome)
    if data.get("notes") == "":
        data["notes"] = None
    try:
        return OutcomeProposal.model_validate(data)
    except ValidationError as error:
        dropped.append(f"outcome: {_first_error(error)}")
        return None
