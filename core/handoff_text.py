"""An escalation package states why it was escalated and to whom (R21), whoever wrote the rest.

The package is previewed before the engineer types the reason, so the reason and the target are
added when the escalation is made: into the package's Problem section (after its last line), or
on top when it has none. A line the package already holds is not added twice, and a package that
would outgrow R15's limit is left as it is (the handoff keeps the reason either way).
"""

from __future__ import annotations

import re

from core.compose import MAX_NOTE_CHARS, handoff_lines

# A section starts at an ATX heading or at a line that is bold and nothing else (`**Problem**`).
_HEADING = re.compile(r"^\s{0,3}(?:#{1,6}(?:\s|$)|(\*\*|__)[^*_\n]+\1\s*:?\s*$)")
_PROBLEM = re.compile(r"^\s{0,3}(?:#{1,6}\s+problem\s*#*|(\*\*|__)\s*problem\s*:?\s*\1\s*:?)\s*$", re.IGNORECASE)


def with_handoff(package: str, *, reason: str | None, target: str | None) -> str:
    """`package` with "Reason for escalation: …" and "Escalated to: …" in its Problem section."""
    flat = " ".join(package.split())
    missing = [line for line in handoff_lines(reason=reason, target=target) if " ".join(line.split()) not in flat]
    if not missing:
        return package
    lines = package.split("\n")
    start = next((i for i, line in enumerate(lines) if _PROBLEM.match(line)), None)
    if start is None:
        result = "\n".join(missing) + "\n\n" + package.lstrip("\n")
    else:
        end = next((i for i in range(start + 1, len(lines)) if _HEADING.match(lines[i])), len(lines))
        last = max((i for i in range(start, end) if lines[i].strip()), default=start)
        result = "\n".join(lines[: last + 1] + missing + lines[last + 1 :])
    return result if len(result) <= MAX_NOTE_CHARS else package
