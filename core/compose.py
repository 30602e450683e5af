"""Deterministic resolution notes and escalation packages (R13, R16).

Used when the assistant is unavailable: the note is built only from the session's facts, its fix
and what was tried, so nothing is invented. Wording follows the fix outcome: closure language only
when the fix is confirmed working (`applied_success`); otherwise the note says what was tried and
what to do next. The root cause is stated from the confirmed facts that bear on the fix and from
its outcome, never from the fix's own description. Dates are written in words in the account's
time zone; a fix the engineer wrote shows no confidence. Every inserted string goes through
`redact_text` once more (R14).
"""

from __future__ import annotations

from collections.abc import Callable

from core.assistant.types import FixEntry, NoteBundle
from core.machines import fix_tried
from core.models import FixAuthor, FixStatus
from core.note_input import NoteInput, note_input
from core.redaction import redact_text
from core.root_cause import bearing_facts
from core.time_zones import DEFAULT_TIME_ZONE, in_words, parse_when

DETERMINISTIC_MARKER = "_Composed automatically from the session's confirmed facts and fix record._"
NONE_RECORDED = "None recorded."
MAX_NOTE_CHARS = 20_000  # R15
MAX_SUMMARY_CHARS = 500  # R15

RESOLUTION_SECTIONS = ("Problem", "What we confirmed", "Root cause", "Resolution")
ESCALATION_SECTIONS = (
    "Problem",
    "What we've confirmed",
    "What we've tried",
    "Current hypothesis",
    "Suggested next steps",
)

# (longest list item, most list items) — tightened until the note fits MAX_NOTE_CHARS.
_BUDGETS = ((2_000, 200), (400, 30), (120, 10))


class _Writer:
    """Renders user text safely: one line per item (so a fact can never open a new section),
    redacted, and cut to the current budget. Dates come out in words in the account's zone."""

    def __init__(self, item_chars: int, max_items: int, time_zone: str = DEFAULT_TIME_ZONE) -> None:
        self.item_chars = item_chars
        self.max_items = max_items
        self.time_zone = time_zone

    def text(self, value: str, limit: int | None = None) -> str:
        line = " ".join(redact_text(value).split())
        limit = limit or self.item_chars
        return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"

    def when(self, value: str | None) -> str | None:
        """`3 December 2026, 14:05 (Europe/Amsterdam)`; text that is no date is shown as it is."""
        if not value:
            return None
        moment = parse_when(value)
        return in_words(moment, self.time_zone) if moment else self.text(value, 64)

    def bullets(self, items: list[str]) -> list[str]:
        cleaned = [self.text(item) for item in items if item and item.strip()]
        if not cleaned:
            return [NONE_RECORDED]
        shown = [f"- {item}" for item in cleaned[: self.max_items]]
        if len(cleaned) > self.max_items:
            shown.append(f"- … and {len(cleaned) - self.max_items} more")
        return shown


def _status(fix: FixEntry | None) -> FixStatus | None:
    if fix is None:
        return None
    try:
        return FixStatus(fix.status)
    except ValueError:
        return FixStatus.PROPOSED


def _input(bundle: NoteBundle) -> NoteInput:
    """A bare NoteBundle (no account context) reads as UTC, with an assistant's confidence."""
    return bundle if isinstance(bundle, NoteInput) else note_input(bundle)


def _problem(bundle: NoteBundle, w: _Writer) -> list[str]:
    title = w.text(bundle.session_title, MAX_SUMMARY_CHARS)
    if title.startswith(("#", "-", "*", ">")):
        title = "\\" + title  # a bare line: keep a title from reading as a heading or a list
    lines = [title or NONE_RECORDED]
    if bundle.ticket:
        lines.append(f"Ticket: {w.text(bundle.ticket, 100)}")
    return lines


def _fix_name(fix: FixEntry, w: _Writer) -> str:
    """Quoted, not bold: the name still stands out where the note is shown as plain text (R38)."""
    return f"“{w.text(fix.title, 200)}”"


def _tried(bundle: NoteBundle, w: _Writer) -> list[str]:
    """What was tried: the bundle's lines, else the active fix if it was applied, plus script runs."""
    tried = list(bundle.tried)
    fix = bundle.fix
    if not tried and fix is not None and fix_tried(_status(fix) or FixStatus.PROPOSED, applied=fix.applied):
        tried.append(_fix_outcome_line(fix, bundle, w))
    return tried + [f"Script run: {run}" for run in bundle.script_runs]


def _fix_outcome_line(fix: FixEntry, bundle: NoteBundle, w: _Writer) -> str:
    status = _status(fix)
    if status is FixStatus.APPLIED_SUCCESS:
        return f"{fix.title}: worked"
    if status is FixStatus.APPLIED_FAILED:
        return f"{fix.title}: did not work" + (f" ({fix.failure_reason})" if fix.failure_reason else "")
    if status is FixStatus.APPLIED_PARTIAL:
        return f"{fix.title}: partly worked" + (f" ({fix.partial_notes})" if fix.partial_notes else "")
    if status is FixStatus.DISMISSED:
        return f"{fix.title}: dismissed"
    when = w.when(bundle.fix_applied_at)
    return f"{fix.title}: applied" + (f" on {when}" if when else "") + ", outcome not yet confirmed"


def _next_steps(bundle: NoteBundle, w: _Writer) -> list[str]:
    fix, status = bundle.fix, _status(bundle.fix)
    if fix is None:
        return ["- Continue the diagnosis from the confirmed facts; no fix has been proposed yet."]
    name = _fix_name(fix, w)
    if status is FixStatus.APPLIED_SUCCESS:
        return [f"- Confirm with the customer that {name} holds, then close the ticket."]
    if status is FixStatus.APPLIED_FAILED:
        reason = f" ({w.text(fix.failure_reason)})" if fix.failure_reason else ""
        return [
            f"- Find out why {name} did not work{reason} and look for another cause.",
            "- Re-check the confirmed facts above before trying a new fix.",
        ]
    if status is FixStatus.APPLIED_PARTIAL:
        remaining = f": {w.text(fix.partial_notes)}" if fix.partial_notes else ""
        return [
            f"- Finish what {name} left open{remaining}.",
            "- Verify the outcome with the customer once the remaining part is addressed.",
        ]
    if status is FixStatus.DISMISSED:
        return ["- The suggested fix was dismissed; look for another cause from the confirmed facts."]
    if fix.applied:
        return [f"- Verify whether {name} solved the problem (applied, not yet confirmed)."]
    return [f"- Apply {name} and verify the outcome."]


def _resolution_sections(bundle: NoteBundle, w: _Writer) -> dict[str, list[str]]:
    fix, status = bundle.fix, _status(bundle.fix)
    root = root_cause(bundle, w)
    if fix is not None and status is FixStatus.APPLIED_SUCCESS:
        applied, verified = w.when(bundle.fix_applied_at), w.when(bundle.fix_verified_at)
        resolution = [f"Applied {_fix_name(fix, w)}" + (f" on {applied}" if applied else "")
                      + (f"; confirmed working on {verified}" if verified else "") + "."]
        resolution += ["", "The fix was confirmed working and the issue is resolved."]
        if bundle.script_runs:
            resolution += ["", "Scripts run:", *w.bullets(list(bundle.script_runs))]
        return {"Root cause": root, "Resolution": resolution}
    # No confirmed fix: state what was tried and what comes next, never that it is fixed.
    resolution = ["No confirmed fix.", "", "What was tried:", *w.bullets(_tried(bundle, w))]
    resolution += ["", "Next steps:", *_next_steps(bundle, w)]
    return {"Root cause": root, "Resolution": resolution}


def root_cause(bundle: NoteBundle, w: _Writer) -> list[str]:
    """From the fix's outcome and the confirmed facts that bear on it; a cause is stated as found
    only when the fix was confirmed working, and never in the fix's own words."""
    fix, status = bundle.fix, _status(bundle.fix)
    if fix is None or status is FixStatus.DISMISSED:
        return ["Not confirmed: no fix has been confirmed yet."]
    name = _fix_name(fix, w)
    grounds = w.bullets(bearing_facts(bundle.facts, fix)) if bundle.facts else [NONE_RECORDED]
    bearing = grounds != [NONE_RECORDED]
    if status is FixStatus.APPLIED_SUCCESS:
        outcome = "Applying it resolved the problem (see Resolution)."
        if bearing:
            return [f"The cause was what {name} addressed, as these confirmed facts show:", *grounds, "", outcome]
        return [f"The cause was what {name} addressed; none of the confirmed facts names it on its own.", "", outcome]
    if status is FixStatus.APPLIED_FAILED:
        reason = f" ({w.text(fix.failure_reason)})" if fix.failure_reason else ""
        return [f"Not confirmed. The cause {name} addressed did not hold: the fix did not work{reason}."]
    if status is FixStatus.APPLIED_PARTIAL:
        notes = f" ({w.text(fix.partial_notes)})" if fix.partial_notes else ""
        lines = [f"Partly explained. {name} partly worked{notes}; the rest of the cause is not confirmed."]
        return lines + (["", "Confirmed facts that bear on it:", *grounds] if bearing else [])
    if not fix.applied:
        return [f"Not confirmed yet. The suggested fix {name} has not been tried yet."]
    applied = w.when(bundle.fix_applied_at)
    return [f"Not confirmed yet. {name} was applied" + (f" on {applied}" if applied else "") + " and awaits confirmation."]


def _hypothesis(bundle: NoteBundle, w: _Writer) -> list[str]:
    fix, status = bundle.fix, _status(bundle.fix)
    if fix is None or status is FixStatus.DISMISSED:
        return [NONE_RECORDED]
    if _input(bundle).fix_author is FixAuthor.ENGINEER:
        name = f"{_fix_name(fix, w)} (the engineer's own fix)"  # an engineer's fix has no confidence to show
    else:
        name = f"{_fix_name(fix, w)} (confidence {max(0, min(100, fix.confidence))}%)"
    if status is FixStatus.APPLIED_FAILED:
        return [f"The previous hypothesis behind {name} did not hold; no new one recorded."]
    if status is FixStatus.APPLIED_PARTIAL:
        return [f"{name} partly worked: {w.text(fix.description)}"]
    return [f"{name}: {w.text(fix.description)}"]


def _render(sections: dict[str, list[str]], order: tuple[str, ...]) -> str:
    parts: list[str] = []
    for title in order:
        body = "\n".join(sections.get(title, [])).strip("\n")
        parts.append(f"## {title}\n" + (body if body.strip() else NONE_RECORDED))
    return "\n\n".join(parts) + "\n\n" + DETERMINISTIC_MARKER


_Builder = Callable[[NoteBundle, "_Writer"], str]


def _fit(build: _Builder, bundle: NoteBundle) -> str:
    """Tighten the per-item and per-list limits until the note fits R15's 20,000 characters."""
    note = ""
    time_zone = _input(bundle).time_zone
    for item_chars, max_items in _BUDGETS:
        note = build(bundle, _Writer(item_chars, max_items, time_zone))
        if len(note) <= MAX_NOTE_CHARS:
            break
    return note


def _build_resolution(bundle: NoteBundle, w: _Writer) -> str:
    sections = {
        "Problem": _problem(bundle, w),
        "What we confirmed": w.bullets(list(bundle.facts)),
        **_resolution_sections(bundle, w),
    }
    return _render(sections, RESOLUTION_SECTIONS)


def handoff_lines(*, reason: str | None, target: str | None, w: _Writer | None = None) -> list[str]:
    """The escalation's own lines in a package's Problem section (R21): why, and to whom."""
    w = w or _Writer(*_BUDGETS[0])
    lines = [f"Reason for escalation: {w.text(reason, MAX_SUMMARY_CHARS)}"] if reason and reason.strip() else []
    if target and target.strip():
        lines.append(f"Escalated to: {w.text(target, 200)}")
    return lines


def _build_escalation(bundle: NoteBundle, w: _Writer) -> str:
    problem = _problem(bundle, w) + handoff_lines(reason=bundle.reason, target=_input(bundle).target, w=w)
    sections = {
        "Problem": problem,
        "What we've confirmed": w.bullets(list(bundle.facts)),
        "What we've tried": w.bullets(_tried(bundle, w)),
        "Current hypothesis": _hypothesis(bundle, w),
        "Suggested next steps": _next_steps(bundle, w),
    }
    return _render(sections, ESCALATION_SECTIONS)


def compose_resolution(bundle: NoteBundle) -> str:
    """Customer-facing note: Problem / What we confirmed / Root cause / Resolution (R13, R16)."""
    return _fit(_build_resolution, bundle)


def compose_escalation(bundle: NoteBundle) -> str:
    """Internal package: Problem (with the reason and target) / confirmed / tried / hypothesis /
    next steps (R13, R16)."""
    return _fit(_build_escalation, bundle)


def summary_line(markdown_or_title: str) -> str:
    """R15's default summary: the first line that is not a heading, at most 500 characters."""
    fallback = ""
    for raw in markdown_or_title.splitlines():
        line = raw.strip()
        if not line or line == DETERMINISTIC_MARKER:
            continue
        if line.startswith("#"):
            fallback = fallback or line.lstrip("#").strip()
            continue
        line = line.removeprefix("- ").removeprefix("* ").removeprefix("> ").strip()
        if line[:1] == "\\" and line[1:2] in ("#", "-", "*", ">"):
            line = line[1:]  # the escape `_problem` adds to a title
        if line:
            return _cut(line)
    return _cut(fallback)


def _cut(line: str) -> str:
    return line if len(line) <= MAX_SUMMARY_CHARS else line[: MAX_SUMMARY_CHARS - 1].rstrip() + "…"
