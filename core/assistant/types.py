"""What the engine hands the assistant and what it accepts back.

Outputs are validated models (R33): `core.assistant.validation` builds them from raw tool input,
dropping (and logging) anything that does not fit, so nothing unvalidated touches state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AssistantUnavailable(Exception):
    """The assistant could not answer: no key, timeout, 5xx, overload, or an unusable reply (R16).

    `reason` is the neutral sentence the engineer reads; `code`, when set, names the cause for code
    and logs (CODE_CONTEXT_TOO_LONG, CODE_CUT_OFF), so a surface can word it its own way."""

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


CODE_CONTEXT_TOO_LONG = "assistant.context_too_long"
"""The conversation did not fit the model's context window, even shortened (issue 12)."""
CODE_CUT_OFF = "assistant.cut_off"
"""The answer hit its output limit, even with the larger budget, and nothing usable was left."""


ReplyListener = Callable[[str], None]
"""Called with the reply text so far (the whole text, growing) as the assistant streams it. It must
not block: the engine only records the newest text and shows it on its own schedule (R37)."""


@dataclass(frozen=True, kw_only=True)
class HistoryEntry:
    role: Literal["engineer", "assistant", "action"]
    author: str
    text: str


@dataclass(frozen=True, kw_only=True)
class LaneEntry:
    label: str
    kind: Literal["question", "check"]
    text: str
    status: Literal["open", "promoted"]


@dataclass(frozen=True, kw_only=True)
class FactEntry:
    label: str
    text: str
    source: str


@dataclass(frozen=True, kw_only=True)
class FixEntry:
    title: str
    description: str
    confidence: int
    status: str
    applied: bool
    partial_notes: str | None = None
    failure_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class AssistantContext:
    """Everything the assistant sees for one turn. All text is already redacted (R14).

    `history` is ordered oldest first; its earlier part is stable across turns, which is what
    prompt caching (R32) keys on. `earlier` is the tail of what came before the history window
    (oldest first, for the digest of older turns) and `earlier_count` how many steps that was in all."""

    session_title: str
    ticket: str | None
    facts: tuple[FactEntry, ...]
    lane: tuple[LaneEntry, ...]
    active_fix: FixEntry | None
    history: tuple[HistoryEntry, ...]
    session_id: int = 0
    earlier: tuple[HistoryEntry, ...] = ()
    earlier_count: int = 0


class ScriptParameter(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    type: Literal["text", "password", "select"] = "text"
    required: bool = True
    sensitive: bool = False
    options: list[str] = Field(default_factory=list)


class FixSuggestion(BaseModel):
    model_config = ConfigDict(extra="ignore")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=4000)
    confidence: int
    script: str | None = Field(default=None, max_length=20000)
    script_language: str | None = Field(default=None, max_length=32)
    parameters: list[ScriptParameter] = Field(default_factory=list)


class FactPromotion(BaseModel):
    """The assistant proposes a fact; `evidence` must quote what the engineer said (R6)."""

    model_config = ConfigDict(extra="ignore")
    text: str = Field(min_length=1, max_length=1000)
    evidence: str = Field(min_length=1, max_length=1000)
    item_label: str | None = Field(default=None, max_length=8)


class OutcomeProposal(BaseModel):
    model_config = ConfigDict(extra="ignore")
    outcome: Literal["worked", "failed", "partial"]
    notes: str | None = Field(default=None, max_length=2000)
    evidence: str = Field(min_length=1, max_length=1000)


@dataclass(frozen=True, kw_only=True)
class AssistantTurn:
    reply: str
    questions: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    facts: tuple[FactPromotion, ...] = ()
    fix: FixSuggestion | None = None
    outcome: OutcomeProposal | None = None
    dropped: tuple[str, ...] = field(default=())


@dataclass(frozen=True, kw_only=True)
class FactSynthesisRequest:
    item_kind: Literal["question", "check"]
    item_text: str
    recent_history: tuple[HistoryEntry, ...]


@dataclass(frozen=True, kw_only=True)
class NoteBundle:
    """The generation input of R13. Every string is redacted."""

    kind: Literal["resolve", "escalate"]
    session_title: str
    ticket: str | None
    facts: tuple[str, ...]
    fix: FixEntry | None
    fix_applied_at: str | None
    fix_verified_at: str | None
    script_runs: tuple[str, ...]
    tried: tuple[str, ...]
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class ComposeRequest:
    """`rejected`: tokens a first draft stated that the input does not hold (R13), for the second
    draft (core/assistant/regenerate.py); empty for a first draft."""

    bundle: NoteBundle
    rejected: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ComposedText:
    markdown: str
    composed_by: Literal["assistant", "deterministic"]
