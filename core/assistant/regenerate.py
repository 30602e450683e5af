"""The request for a second draft of a note whose first draft was not grounded (R13).

The grounding check (core/grounding.py) found tokens the generation input does not contain; the
model is told which, once, and asked to write from the input alone. The text names only our own
rules and the rejected tokens, never sample values (R31).
"""

from __future__ import annotations

REGENERATE = (
    "Your previous draft of this note stated details that do not occur in the input above:\n"
    "{tokens}\n"
    "Write the complete note again from the input only. Leave these details out, and do not "
    "replace them with other values the input does not state. Keep every required section."
)
MORE_REJECTED = "- ({count} more)"
MAX_LISTED = 25
MAX_TOKEN_CHARS = 120


def correction_text(rejected: tuple[str, ...]) -> str:
    """The instruction appended to the compose request, listing what the first draft invented."""
    shown = [f"- {_cut(token)}" for token in rejected[:MAX_LISTED]]
    if len(rejected) > MAX_LISTED:
        shown.append(MORE_REJECTED.format(count=len(rejected) - MAX_LISTED))
    return REGENERATE.format(tokens="\n".join(shown))


def _cut(token: str) -> str:
    line = " ".join(token.split())
    return line if len(line) <= MAX_TOKEN_CHARS else line[: MAX_TOKEN_CHARS - 1] + "…"
