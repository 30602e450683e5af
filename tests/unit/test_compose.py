"""R13/R16: deterministic notes state only the given facts and word the outcome honestly."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.assistant.types import FixEntry, NoteBundle
from core.compose import (
    DETERMINISTIC_MARKER,
    ESCALATION_SECTIONS,
    MAX_NOTE_CHARS,
    NONE_RECORDED,
    RESOLUTION_SECTIONS,
    compose_escalation,
    compose_resolution,
    summary_line,
)

CLOSURE = "The fix was confirmed working and the issue is resolved."
FIX = FixEntry(
    title="Raise the VPN idle timeout",
    description="The firewall drops idle tunnels after 60 minutes.",
    confidence=85,
    status="proposed",
    applied=False,
)
BUNDLE = NoteBundle(
    kind="resolve",
    session_title="VPN drops every hour",
    ticket="#4821",
    facts=("Drops happen at exactly 60 minutes", "Only users on the SSL VPN are affected"),
    fix=FIX,
    fix_applied_at=None,
    fix_verified_at=None,
    script_runs=(),
    tried=(),
)


def with_fix(**changes: object) -> NoteBundle:
    return replace(BUNDLE, fix=replace(FIX, **changes))  # type: ignore[arg-type]


SUCCESS = replace(
    with_fix(status="applied_success", applied=True),
    fix_applied_at="2026-11-02T09:00:00+00:00",
    fix_verified_at="2026-11-02T10:00:00+00:00",
    tried=("Raise the VPN idle timeout: worked",),
)
FAILED = replace(
    with_fix(status="applied_failed", applied=True, failure_reason="still drops at 60 minutes"),
    tried=("Raise the VPN idle timeout: did not work (still drops at 60 minutes)",),
)
PARTIAL = with_fix(status="applied_partial", applied=True, partial_notes="works for office users, not for home users")
VERIFYING = replace(with_fix(applied=True), fix_applied_at="2026-11-02T09:00:00+00:00")
PROPOSED = BUNDLE
DISMISSED = with_fix(status="dismissed")
NO_FIX = replace(BUNDLE, fix=None)
OUTCOMES = {
    "success": SUCCESS,
    "failed": FAILED,
    "partial": PARTIAL,
    "verifying": VERIFYING,
    "proposed": PROPOSED,
    "dismissed": DISMISSED,
    "none": NO_FIX,
}


def headings(markdown: str) -> list[str]:
    return re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)


def section(markdown: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, flags=re.MULTILINE | re.DOTALL)
    assert match, f"no section {title}"
    return match.group(1).replace(DETERMINISTIC_MARKER, "").strip()


@pytest.mark.parametrize("name", OUTCOMES)
def test_resolution_has_exactly_the_four_sections_and_the_marker(name: str) -> None:
    note = compose_resolution(OUTCOMES[name])
    assert headings(note) == list(RESOLUTION_SECTIONS)
    assert note.rstrip().splitlines()[-1] == DETERMINISTIC_MARKER
    for title in RESOLUTION_SECTIONS:
        assert section(note, title), f"{title} is empty"
    assert "- Drops happen at exactly 60 minutes" in section(note, "What we confirmed")


@pytest.mark.parametrize("name", OUTCOMES)
def test_escalation_has_exactly_the_five_sections_and_the_marker(name: str) -> None:
    package = compose_escalation(replace(OUTCOMES[name], kind="escalate", reason="Needs firewall access"))
    assert headings(package) == list(ESCALATION_SECTIONS)
    assert package.rstrip().splitlines()[-1] == DETERMINISTIC_MARKER
    for title in ESCALATION_SECTIONS:
        assert section(package, title), f"{title} is empty"
    assert "Reason for escalation: Needs firewall access" in section(package, "Problem")


def test_closure_language_only_on_success() -> None:
    for name, bundle in OUTCOMES.items():
        note = compose_resolution(bundle)
        if name == "success":
            assert CLOSURE in note
            assert ("Applied “Raise the VPN idle timeout” on 2 November 2026, 09:00 (UTC); confirmed working on "
                    "2 November 2026, 10:00 (UTC).") in section(note, "Resolution")
            assert "- Drops happen at exactly 60 minutes" in section(note, "Root cause")
            assert "The firewall drops idle tunnels" not in section(note, "Root cause")  # the fix's words, not a cause
        else:
            assert not re.search(r"\b(resolved|fixed)\b", note, flags=re.IGNORECASE), name
            assert "No confirmed fix." in section(note, "Resolution")
            assert "Next steps:" in section(note, "Resolution")


def test_failed_fix_says_what_was_tried_and_why_it_failed() -> None:
    note = compose_resolution(FAILED)
    resolution = section(note, "Resolution")
    assert "Raise the VPN idle timeout: did not work (still drops at 60 minutes)" in resolution
    assert "did not hold" in section(note, "Root cause")
    package = compose_escalation(replace(FAILED, kind="escalate"))
    assert "still drops at 60 minutes" in section(package, "What we've tried")
    assert "did not hold" in section(package, "Current hypothesis")
    assert "Find out why “Raise the VPN idle timeout” did not work" in section(package, "Suggested next steps")


def test_partial_fix_carries_its_notes_into_tried_and_next_steps() -> None:
    package = compose_escalation(replace(PARTIAL, kind="escalate"))
    assert "partly worked (works for office users, not for home users)" in section(package, "What we've tried")
    assert "left open: works for office users, not for home users" in section(package, "Suggested next steps")
    assert "partly worked" in section(package, "Current hypothesis")


def test_proposed_fix_is_a_hypothesis_not_something_tried() -> None:
    package = compose_escalation(replace(PROPOSED, kind="escalate"))
    assert section(package, "What we've tried") == NONE_RECORDED
    assert "(confidence 85%)" in section(package, "Current hypothesis")
    assert "Apply “Raise the VPN idle timeout” and verify" in section(package, "Suggested next steps")
    verifying = compose_escalation(replace(VERIFYING, kind="escalate"))
    assert "applied on 2 November 2026, 09:00 (UTC), outcome not yet confirmed" in section(verifying, "What we've tried")
    assert "not yet confirmed" in section(verifying, "Suggested next steps")


def test_empty_lists_render_none_recorded() -> None:
    empty = replace(NO_FIX, facts=(), ticket=None, kind="escalate")
    package = compose_escalation(empty)
    for title in ("What we've confirmed", "What we've tried", "Current hypothesis"):
        assert section(package, title) == NONE_RECORDED
    assert "no fix has been proposed yet" in section(package, "Suggested next steps")
    assert section(compose_resolution(empty), "What we confirmed") == NONE_RECORDED


def test_script_runs_are_listed() -> None:
    bundle = replace(FAILED, script_runs=("Set-VpnTimeout -Minutes 480 (exit 0)",), kind="escalate")
    assert "- Script run: Set-VpnTimeout -Minutes 480 (exit 0)" in section(compose_escalation(bundle), "What we've tried")


def test_only_provided_facts_appear_and_they_cannot_open_sections() -> None:
    hostile = replace(SUCCESS, facts=("Real fact\n## Resolution\nInjected closure", "password: hunter2"))
    note = compose_resolution(hostile)
    assert headings(note) == list(RESOLUTION_SECTIONS)
    assert "- Real fact ## Resolution Injected closure" in note
    titled = compose_escalation(replace(hostile, session_title="## Suggested next steps"))
    assert headings(titled) == list(ESCALATION_SECTIONS)
    assert "hunter2" not in note and "[REDACTED:password]" in note


def test_a_huge_session_still_fits_r15() -> None:
    bundle = replace(
        FAILED,
        kind="escalate",
        facts=tuple(f"fact {i} " + "x" * 3000 for i in range(300)),
        tried=tuple(f"try {i} " + "y" * 3000 for i in range(300)),
        session_title="t" * 5000,
    )
    for note in (compose_resolution(bundle), compose_escalation(bundle)):
        assert len(note) <= MAX_NOTE_CHARS
        assert note.endswith(DETERMINISTIC_MARKER)
        assert "- … and " in note


def test_summary_line_takes_the_first_non_heading_line() -> None:
    assert summary_line(compose_resolution(SUCCESS)) == "VPN drops every hour"
    assert summary_line("## Problem\n\n- printer offline\nmore") == "printer offline"
    assert summary_line("Just a title") == "Just a title"
    assert summary_line("## Only heading") == "Only heading"
    assert summary_line("") == ""
    long = summary_line("a" * 900)
    assert len(long) == 500 and long.endswith("…")


TEXT = st.text(max_size=60)
BUNDLES = st.builds(
    NoteBundle,
    kind=st.sampled_from(["resolve", "escalate"]),
    session_title=TEXT,
    ticket=st.none() | TEXT,
    facts=st.lists(TEXT, max_size=5).map(tuple),
    fix=st.none()
    | st.builds(
        FixEntry,
        title=TEXT,
        description=TEXT,
        confidence=st.integers(-50, 150),
        status=st.sampled_from(["proposed", "applied_success", "applied_failed", "applied_partial", "dismissed", "odd"]),
        applied=st.booleans(),
        partial_notes=st.none() | TEXT,
        failure_reason=st.none() | TEXT,
    ),
    fix_applied_at=st.none() | TEXT,
    fix_verified_at=st.none() | TEXT,
    script_runs=st.lists(TEXT, max_size=3).map(tuple),
    tried=st.lists(TEXT, max_size=3).map(tuple),
    reason=st.none() | TEXT,
)


@settings(max_examples=150)
@given(BUNDLES)
def test_any_bundle_renders_exact_sections(bundle: NoteBundle) -> None:
    note = compose_resolution(bundle)
    package = compose_escalation(bundle)
    assert headings(note) == list(RESOLUTION_SECTIONS)
    assert headings(package) == list(ESCALATION_SECTIONS)
    assert note.endswith(DETERMINISTIC_MARKER) and package.endswith(DETERMINISTIC_MARKER)
    for title in RESOLUTION_SECTIONS:
        assert section(note, title), f"{title} is empty"
    for title in ESCALATION_SECTIONS:
        assert section(package, title), f"{title} is empty"
    closing = bundle.fix is not None and bundle.fix.status == "applied_success"
    assert (CLOSURE in note) == closing
