"""One troubleshooting session in each outcome, as the deterministic writer receives it (R13, R16):
an account in Amsterdam, an assistant's fix, an engineer's fix, an escalation with its target."""

from __future__ import annotations

from dataclasses import replace

from core.assistant.types import FixEntry
from core.models import FixAuthor
from core.note_input import NoteInput

FIX = FixEntry(title="Raise the VPN idle timeout", description="Set the SSL VPN idle timeout to 8 hours.",
               confidence=85, status="proposed", applied=False)
BASE = NoteInput(
    kind="resolve", session_title="VPN drops every hour", ticket="#4821",
    facts=("Drops happen at exactly 60 minutes", "The firewall's SSL VPN idle timeout is 60 minutes",
           "Only users on the SSL VPN are affected"),
    fix=FIX, fix_applied_at=None, fix_verified_at=None, script_runs=(), tried=(),
    time_zone="Europe/Amsterdam", fix_author=FixAuthor.ASSISTANT,
)
SUCCESS = replace(BASE, fix=replace(FIX, status="applied_success", applied=True),
                  fix_applied_at="2026-12-03T12:40:00+00:00", fix_verified_at="2026-12-03T13:05:00+00:00",
                  tried=("Raise the VPN idle timeout: worked",))
FAILED = replace(BASE, fix=replace(FIX, status="applied_failed", applied=True, failure_reason="still drops at 60 minutes"),
                 fix_applied_at="2026-12-03T12:40:00+00:00",
                 tried=("Raise the VPN idle timeout: did not work (still drops at 60 minutes)",))
PARTIAL = replace(BASE, fix=replace(FIX, status="applied_partial", applied=True,
                                    partial_notes="office users stay connected; home users still drop"),
                  fix_applied_at="2026-12-03T12:40:00+00:00",
                  tried=("Raise the VPN idle timeout: partly worked (office users stay connected; home users still drop)",))
ENGINEER_FIX = FixEntry(title="Replace the home users' VPN client profile", description="Push profile v2 to home laptops.",
                        confidence=0, status="applied_failed", applied=True, failure_reason="profile v2 changed nothing")
ESCALATED = replace(PARTIAL, kind="escalate", fix=ENGINEER_FIX, fix_author=FixAuthor.ENGINEER,
                    tried=PARTIAL.tried + ("Replace the home users' VPN client profile: did not work (profile v2 changed nothing)",),
                    reason="Needs firewall admin access for the home users' VPN policy", target="Sam Senior")
CASES = {"success": SUCCESS, "failed": FAILED, "partial": PARTIAL}
