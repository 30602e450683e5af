"""Tool schemas the assistant answers through (R33).

Strict-compatible JSON Schema: every object has `additionalProperties: false` and lists every
property in `required`; optional values are nullable through type arrays. No numeric or length
bounds (strict mode does not accept them): `core.assistant.validation` clamps and trims instead.
The descriptions are prompt text too, so R31 applies to them (the guardrail test walks them).

Adapters receive deep copies (`tool_definitions`) so adding `cache_control` never mutates these.
"""

from __future__ import annotations

import copy
from typing import Any

UPDATE_SESSION = "update_session"
RECORD_FACT = "record_fact"
WRITE_NOTE = "write_note"

# Strict tools accept nullables as anyOf with a null branch (not type lists), no numeric or length bounds.
_NULLABLE_STRING: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "null"}]}

_PARAMETER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {
            "type": "string",
            "description": "Identifier used in the script as {{name}}: letters, digits, underscores.",
        },
        "type": {
            "enum": ["text", "password", "select"],
            "description": "password for any secret; select when the value comes from a fixed list.",
        },
        "required": {"type": "boolean"},
        "sensitive": {
            "type": "boolean",
            "description": "True for anything secret; sensitive values are never stored or shown.",
        },
        "options": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The allowed values of a select parameter; empty otherwise.",
        },
    },
    "required": ["name", "type", "required", "sensitive", "options"],
}

_FACT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "text": {"type": "string", "description": "One confirmed factual sentence."},
        "evidence": {
            "type": "string",
            "description": "A verbatim quote of the engineer's own words that confirms the fact.",
        },
        "item_label": {
            **_NULLABLE_STRING,
            "description": "Label of the open task-lane item this answers (Q or C plus its number), "
            "or null.",
        },
    },
    "required": ["text", "evidence", "item_label"],
}

_FIX_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "description": "Short imperative title of the fix."},
        "description": {
            "type": "string",
            "description": "What to do, why it addresses the confirmed cause, and how to verify it.",
        },
        "confidence": {
            "type": "integer",
            "description": "Honest probability, 0 to 100, that this fix resolves the issue.",
        },
        "script": {
            **_NULLABLE_STRING,
            "description": "Optional script with {{name}} placeholders for every environment-specific "
            "or secret value; null when no script helps.",
        },
        "script_language": {
            **_NULLABLE_STRING,
            "description": "Lower-case language identifier of the script, or null without a script.",
        },
        "parameters": {
            "type": "array",
            "items": _PARAMETER_SCHEMA,
            "description": "One entry per {{name}} placeholder in the script.",
        },
    },
    "required": ["title", "description", "confidence", "script", "script_language", "parameters"],
}

_OUTCOME_OBJECT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "outcome": {"enum": ["worked", "failed", "partial"]},
        "notes": {
            **_NULLABLE_STRING,
            "description": "What still fails (partial) or how it failed (failed), in a sentence.",
        },
        "evidence": {
            "type": "string",
            "description": "A verbatim quote of the engineer's words reporting the outcome.",
        },
    },
    "required": ["outcome", "notes", "evidence"],
}
_OUTCOME_SCHEMA: dict[str, Any] = {
    "anyOf": [_OUTCOME_OBJECT, {"type": "null"}],
    "description": "Set only when the engineer's newest message reports how the active fix went.",
}

UPDATE_SESSION_TOOL: dict[str, Any] = {
    "name": UPDATE_SESSION,
    "description": (
        "Answer the engineer and update the troubleshooting session. Call it exactly once per turn. "
        "reply is the chat message; the other fields change the task lane, the facts, the "
        "suggested fix and the outcome proposal. Use empty lists and null when nothing changes."
    ),
    "strict": True,
    "input_schema": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "reply": {
                "type": "string",
                "description": "The concise chat reply the engineer reads. Never empty.",
            },
            "questions": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Questions for the engineer or the end user that would narrow the "
                "cause. Repeat an open question with the same words to keep it.",
            },
            "checks": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Diagnostic checks the engineer can run, each one concrete action "
                "with what to look for.",
            },
            "facts": {
                "type": "array",
                "items": _FACT_SCHEMA,
                "description": "Facts the engineer confirmed in the conversation, with evidence.",
            },
            "fixes": {
                "type": "array",
                "items": _FIX_SCHEMA,
                "description": "At most one suggested fix; empty when the evidence is not there yet.",
            },
            "outcome": _OUTCOME_SCHEMA,
        },
        "required": ["reply", "questions", "checks", "facts", "fixes", "outcome"],
    },
}

RECORD_FACT_TOOL: dict[str, Any] = {
    "name": RECORD_FACT,
    "description": (
        "Record the confirmed answer to one task-lane item as one factual sentence, or null when "
        "the conversation does not confirm it."
    ),
    "strict": True,
    "input_schema": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "fact": {
                **_NULLABLE_STRING,
                "description": "One factual sentence confirmed by the conversation, or null.",
            },
        },
        "required": ["fact"],
    },
}

WRITE_NOTE_TOOL: dict[str, Any] = {
    "name": WRITE_NOTE,
    "description": "Hand back the finished note as markdown with exactly the required sections.",
    "strict": True,
    "input_schema": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "markdown": {
                "type": "string",
                "description": "The complete note in markdown, starting with its first section.",
            },
        },
        "required": ["markdown"],
    },
}

ALL_TOOLS: tuple[dict[str, Any], ...] = (UPDATE_SESSION_TOOL, RECORD_FACT_TOOL, WRITE_NOTE_TOOL)


def tool_definitions(*names: str) -> list[dict[str, Any]]:
    """Deep copies of the named tools, in the given order, safe for an adapter to annotate."""
    by_name = {tool["name"]: tool for tool in ALL_TOOLS}
    return [copy.deepcopy(by_name[name]) for name in names]
