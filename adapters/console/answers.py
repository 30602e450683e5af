"""What a background turn added, for the interactive console (R37).

A TurnAnswered carries the reply but not the lane proposals a drained TurnResult lists. The console
remembers what the assistant had put on the session's lane before, reads the lane once the answer is
stored, and prints the difference the way a drained turn prints its proposals. Only the assistant's
own additions count, so whatever the engineer did by hand in the meantime is never shown as proposed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.models import Fix, FixAuthor, FixStatus, TaskItem
from core.sessions import SessionView


@dataclass(frozen=True)
class Known:
    """The assistant's part of a lane at one moment: item labels (proposed facts included), the fix and its proposal."""

    items: frozenset[str] = frozenset()
    fix_id: int | None = None
    proposal: str | None = None


@dataclass(frozen=True)
class Added:
    items: list[TaskItem] = field(default_factory=list)
    fix: Fix | None = None
    outcome: str | None = None


def _proposal(fix: Fix | None) -> str | None:
    if fix is None or not fix.outcome_proposal:
        return None
    return f"{fix.id}:{fix.outcome_proposal.get('outcome')}:{fix.outcome_proposal.get('notes')}"


def known_of(view: SessionView) -> Known:
    fix = view.active_fix
    return Known(items=frozenset(i.label for i in view.items),
                 fix_id=fix.id if fix is not None and fix.author == FixAuthor.ASSISTANT else None,
                 proposal=_proposal(fix))


def added(before: Known, view: SessionView) -> Added:
    fix = view.active_fix
    new_fix = fix is not None and fix.author == FixAuthor.ASSISTANT and fix.id != before.fix_id
    proposal = _proposal(fix)
    outcome = fix.outcome_proposal.get("outcome") if fix and fix.outcome_proposal and proposal != before.proposal else None
    return Added(
        items=[i for i in view.items if i.label not in before.items],
        fix=fix if new_fix and fix is not None and fix.status == FixStatus.PROPOSED else None,
        outcome=str(outcome) if outcome else None,
    )
