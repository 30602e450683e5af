"""What the fake Messages API (messages_api.py) answers with: the scripted replies its queue holds,
builders for schema-valid tool inputs, and the default answer when nothing is scripted."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.stand_in.sse import StreamTiming
from core.assistant.validation import ESCALATION_SECTIONS, RESOLUTION_SECTIONS


@dataclass(frozen=True)
class ToolUseReply:
    name: str
    input: Any = None
    raw_json: str | None = None  # sent verbatim as the tool input (malformed input)
    text_before: str | None = None
    stop_reason: str = "tool_use"  # "max_tokens" plays a reply cut off mid-tool-call
    timing: StreamTiming | None = None  # None: the server's default
    cut_at: int | None = None  # cut the input JSON after this many characters, stop_reason max_tokens


@dataclass(frozen=True)
class TextReply:
    text: str
    timing: StreamTiming | None = None
    cut_at: int | None = None  # cut the text after this many characters, stop_reason max_tokens


@dataclass(frozen=True)
class ErrorReply:
    status: int
    type: str
    message: str = "fake error"
    retry_after: float | None = None
    mid_stream: bool = False  # streaming: 200, message_start, then `event: error`


@dataclass(frozen=True)
class HangReply:
    seconds: float
    mid_stream: bool = False  # streaming: stall after message_start
    drop: bool = False  # close the connection instead of waiting


@dataclass(frozen=True)
class RawReply:
    status: int
    body: bytes
    content_type: str = "application/json"


Reply = ToolUseReply | TextReply | ErrorReply | HangReply | RawReply


def update_session_input(
    reply: str = "Noted.", *, questions: Sequence[str] = (), checks: Sequence[str] = (),
    facts: Sequence[dict[str, Any]] = (), fixes: Sequence[dict[str, Any]] = (), outcome: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A complete, schema-valid `update_session` input from a few keywords."""
    return {"reply": reply, "questions": list(questions), "checks": list(checks),
            "facts": list(facts), "fixes": list(fixes), "outcome": outcome}  # fmt: skip


def fact_input(text: str, evidence: str, item_label: str | None = None) -> dict[str, Any]:
    return {"text": text, "evidence": evidence, "item_label": item_label}


def fix_input(
    title: str, description: str = "Apply the change and re-test.", confidence: Any = 60, *,
    script: str | None = None, script_language: str | None = None, parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {"title": title, "description": description, "confidence": confidence, "script": script,
            "script_language": script_language, "parameters": parameters or []}  # fmt: skip


def outcome_input(outcome: str, evidence: str, notes: str | None = None) -> dict[str, Any]:
    return {"outcome": outcome, "notes": notes, "evidence": evidence}


def note_markdown(kind: str, body: str = "Stated from the provided facts.") -> str:
    """A note with every required section (kind: resolve | escalate)."""
    sections = RESOLUTION_SECTIONS if kind == "resolve" else ESCALATION_SECTIONS
    return "\n\n".join(f"## {name}\n{body}" for name in sections)


def default_reply(body: dict[str, Any]) -> Reply:
    """Whatever tool is forced gets a minimal valid answer; otherwise a short text."""
    forced = (body.get("tool_choice") or {}).get("name")
    if forced == "update_session":
        return ToolUseReply("update_session", update_session_input("Noted. What changed most recently?"))
    if forced == "record_fact":
        return ToolUseReply("record_fact", {"fact": "The engineer confirmed the item."})
    if forced == "write_note":
        kind = "escalate" if "Current hypothesis" in json.dumps(body.get("system")) else "resolve"
        return ToolUseReply("write_note", {"markdown": note_markdown(kind)})
    return TextReply("OK")


def prompt_too_long_message(prompt_tokens: int, window: int) -> str:
    """The API's context-window refusal, word for word as reported (github.com/earendil-works/pi/
    issues/102: a 400 invalid_request_error "prompt is too long: 219898 tokens > 200000 maximum")."""
    return f"prompt is too long: {prompt_tokens} tokens > {window} maximum"


def context_limit_message(prompt_tokens: int, max_tokens: int, window: int) -> str:
    """The refusal when the prompt fits but prompt plus max_tokens does not (github.com/docker/
    docker-agent/issues/569, github.com/anthropics/claude-code/issues/228)."""
    return (f"input length and `max_tokens` exceed context limit: {prompt_tokens} + {max_tokens} > {window}, "
            "decrease input length or `max_tokens` and try again")


class RepliesByTool:
    """A `default_responder` with a queue per forced tool, so a test can script the notes
    (`write_note`) while the turns (`update_session`) of the same run take their own replies or the
    default one, whatever order the calls arrive in: `fake.default_responder = by_tool = RepliesByTool()`,
    then `by_tool.push("write_note", reply, ...)`. The fake's shared queue still answers first."""

    def __init__(self) -> None:
        self.queues: dict[str, list[Reply]] = {}

    def push(self, tool: str, *replies: Reply) -> None:
        self.queues.setdefault(tool, []).extend(replies)

    def push_note(self, *markdowns: str) -> None:
        self.push("write_note", *(ToolUseReply("write_note", {"markdown": m}) for m in markdowns))

    def __call__(self, body: dict[str, Any]) -> Reply:
        queue = self.queues.get((body.get("tool_choice") or {}).get("name") or "")
        return queue.pop(0) if queue else default_reply(body)
