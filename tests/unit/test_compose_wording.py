"""R13/R16 wording of the deterministic note and package: the root cause from confirmed facts and
the outcome, dates in words in the account's zone, no confidence on an engineer's fix, and the
escalation's reason and target in the package, whoever wrote the rest of it."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from core.assistant.types import NoteBundle
from core.compose import MAX_NOTE_CHARS, compose_escalation, compose_resolution
from core.handoff_text import with_handoff
from core.models import FixAuthor
from core.note_input import note_input
from core.root_cause import bearing_facts
from tests.unit.compose_cases import BASE, ESCALATED, FAILED, FIX, PARTIAL, SUCCESS
from tests.unit.test_compose import section


def test_the_root_cause_cites_the_confirmed_facts_that_bear_on_the_fix_not_its_description() -> None:
    root = section(compose_resolution(SUCCESS), "Root cause")
    assert "- The firewall's SSL VPN idle timeout is 60 minutes" in root
    assert "Drops happen at exactly 60 minutes" not in root  # shares no word with the fix
    assert FIX.description not in root
    assert "resolved the problem" in root


def test_without_a_bearing_fact_the_root_cause_says_so() -> None:
    unrelated = replace(SUCCESS, facts=("The printer on floor 2 is fine",))
    root = section(compose_resolution(unrelated), "Root cause")
    assert "none of the confirmed facts names it on its own" in root and "printer" not in root
    assert "No single" not in section(compose_resolution(replace(SUCCESS, facts=())), "Root cause")


def test_failed_and_partial_never_state_a_cause_as_found() -> None:
    assert section(compose_resolution(FAILED), "Root cause").startswith("Not confirmed.")
    partial = section(compose_resolution(PARTIAL), "Root cause")
    assert partial.startswith("Partly explained.") and "home users still drop" in partial
    proposed = section(compose_resolution(BASE), "Root cause")
    assert proposed == "Not confirmed yet. The suggested fix “Raise the VPN idle timeout” has not been tried yet."
    verifying = replace(BASE, fix=replace(FIX, applied=True), fix_applied_at="2026-07-01T08:00:00+00:00")
    assert "was applied on 1 July 2026, 10:00 (Europe/Amsterdam) and awaits confirmation" in section(
        compose_resolution(verifying), "Root cause")


def test_bearing_facts_are_the_best_matches_in_their_own_order() -> None:
    facts = ("VPN idle timeout is 60", "nothing here", "the VPN timeout is set per group", "VPN users only")
    assert bearing_facts(facts, FIX) == ["VPN idle timeout is 60"]
    assert bearing_facts(("timeout A", "timeout B", "timeout C", "timeout D"), FIX) == ["timeout A", "timeout B",
                                                                                          "timeout C"]
    assert bearing_facts(("the and for",), FIX) == []  # stop words carry nothing


def test_dates_are_in_words_in_the_accounts_zone_and_utc_by_default() -> None:
    resolution = section(compose_resolution(SUCCESS), "Resolution")
    assert "on 3 December 2026, 13:40 (Europe/Amsterdam); confirmed working on 3 December 2026, 14:05" in resolution
    assert "T13:05" not in compose_resolution(SUCCESS)
    plain = NoteBundle(**{k: getattr(SUCCESS, k) for k in NoteBundle.__dataclass_fields__})
    assert "on 3 December 2026, 12:40 (UTC)" in section(compose_resolution(plain), "Resolution")
    summer = replace(SUCCESS, fix_applied_at="2026-07-01T08:00:00Z", fix_verified_at="not a date")
    assert "on 1 July 2026, 10:00 (Europe/Amsterdam); confirmed working on not a date." in section(
        compose_resolution(summer), "Resolution")


def test_an_engineers_fix_shows_no_confidence() -> None:
    hypothesis = section(compose_escalation(ESCALATED), "Current hypothesis")
    assert "confidence" not in hypothesis and "(the engineer's own fix)" in hypothesis
    assistant = section(compose_escalation(replace(ESCALATED, fix_author=FixAuthor.ASSISTANT)), "Current hypothesis")
    assert "(confidence 0%)" in assistant


def test_the_package_names_the_reason_and_the_target() -> None:
    problem = section(compose_escalation(ESCALATED), "Problem")
    assert problem.splitlines()[-2:] == ["Reason for escalation: Needs firewall admin access for the home users' VPN policy",
                                         "Escalated to: Sam Senior"]
    no_target = section(compose_escalation(replace(ESCALATED, target=None)), "Problem")
    assert "Escalated to" not in no_target


def test_adding_the_handoff_to_a_preview_gives_the_package_composed_with_it() -> None:
    """The preview is composed before the reason is typed; adding it at escalation time yields
    exactly the package composed with the reason and target."""
    preview = compose_escalation(replace(ESCALATED, reason=None, target=None))
    added = with_handoff(preview, reason=ESCALATED.reason, target=ESCALATED.target)
    assert added == compose_escalation(ESCALATED)
    assert with_handoff(added, reason=ESCALATED.reason, target=ESCALATED.target) == added


def test_the_handoff_goes_into_any_packages_problem_section_or_on_top() -> None:
    bold = "**Problem**\nPrinter offline.\n\n**What we tried**\n- restart"
    assert with_handoff(bold, reason="onsite visit", target="Sam") == (
        "**Problem**\nPrinter offline.\nReason for escalation: onsite visit\nEscalated to: Sam\n\n**What we tried**\n- restart")
    edited = "Printer offline since Monday; tried a restart."
    assert with_handoff(edited, reason="onsite visit", target=None) == (
        "Reason for escalation: onsite visit\n\nPrinter offline since Monday; tried a restart.")
    said = "## Problem\nx\nReason for escalation: onsite visit\nEscalated to: Sam"
    assert with_handoff(said, reason="onsite   visit", target="Sam") == said
    assert with_handoff("## Problem\nx", reason=" ", target=None) == "## Problem\nx"


def test_a_handoff_that_would_not_fit_leaves_the_package_alone() -> None:
    full = "## Problem\n" + "x" * (MAX_NOTE_CHARS - 20)
    assert with_handoff(full, reason="r" * 400, target="Sam") == full


def test_the_reason_is_redacted_and_kept_on_one_line() -> None:
    added = with_handoff("## Problem\nx", reason="creds: password: hunter2\n## Injected", target=None)
    assert "hunter2" not in added and [line for line in added.splitlines() if line.startswith("#")] == ["## Problem"]


TEXT = st.text(max_size=40)


@settings(max_examples=150)
@given(reason=st.none() | TEXT, target=st.none() | TEXT, zone=st.sampled_from(["UTC", "Europe/Amsterdam", "Nope/Zone"]),
       author=st.sampled_from(list(FixAuthor)), applied=st.none() | TEXT | st.just("2026-03-29T01:30:00+00:00"))
def test_any_context_composes_and_the_handoff_lands_once(reason: str | None, target: str | None, zone: str,
                                                         author: FixAuthor, applied: str | None) -> None:
    bundle = note_input(PARTIAL, kind="escalate", reason=None, time_zone=zone, fix_author=author, fix_applied_at=applied)
    preview = compose_escalation(bundle)
    added = with_handoff(preview, reason=reason, target=target)
    assert with_handoff(added, reason=reason, target=target) == added
    assert added == compose_escalation(replace(bundle, reason=reason, target=target))
    assert ("confidence" in section(preview, "Current hypothesis")) == (author is FixAuthor.ASSISTANT)
