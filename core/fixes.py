"""Suggested fixes: one active per session (R7), decisions (R8), apply (R9), outcomes (R10–R12)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.access import Actor, load_member, load_session, require_can_change
from core.assistant.types import FixSuggestion, OutcomeProposal
from core.deps import Deps
from core.errors import InvalidInput, NotFound
from core.labels import OUTCOME_WORDS as OUTCOME_WORDS  # re-exported: surfaces read it from here
from core.machines import FixEvent, fix_allows, fix_move, next_fix_status, outcome_rules
from core.models import DraftTemplate, Fix, FixAuthor, FixDecision, FixStatus, Member, Session
from core.ports import UnitOfWork
from core.redaction import redact_text
from core.sessions import bump, record_action

log = logging.getLogger("rflow.fixes")

PROPOSAL_OUTCOMES = {"worked": FixStatus.APPLIED_SUCCESS, "failed": FixStatus.APPLIED_FAILED, "partial": FixStatus.APPLIED_PARTIAL}
NO_PROPOSAL = "fix.no_proposal"  # a refusal code (core.errors) shared by two checks


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What a script decision hands back: the script to run and, for draft_template, the draft."""

    fix: Fix
    script: str | None
    draft: DraftTemplate | None = None


def clamp_confidence(value: int) -> int:
    return max(0, min(100, int(value)))


async def add_fix(uow: UnitOfWork, *, session: Session, fix: Fix, now: datetime) -> Fix:
    """R7: the new fix supersedes the active one, in the same transaction."""
    active = await uow.fixes.active(account_id=session.account_id, session_id=session.id or 0)
    if active is not None:
        active.superseded_at = now
    added = await uow.fixes.add(fix)
    await bump(uow, session)
    return added


async def suggest_from_assistant(uow: UnitOfWork, *, session: Session, suggestion: FixSuggestion,
                                 now: datetime) -> Fix | None:
    """R7, with the applied fix kept: while the engineer is verifying an applied fix (no outcome
    yet), a new suggestion does not take its place; it is dropped, and may come again once the
    outcome is recorded."""
    active = await uow.fixes.active(account_id=session.account_id, session_id=session.id or 0)
    if active is not None and _verifying(active):
        log.info("fix suggestion dropped: the applied fix awaits its outcome")
        return None
    fix = Fix(
        account_id=session.account_id, session_id=session.id or 0, title=redact_text(suggestion.title),
        description=redact_text(suggestion.description), confidence=clamp_confidence(suggestion.confidence),
        author=FixAuthor.ASSISTANT, created_at=now, script=suggestion.script,
        script_language=suggestion.script_language,
        script_params=[p.model_dump() for p in suggestion.parameters],
    )
    return await add_fix(uow, session=session, fix=fix, now=now)


async def store_outcome_proposal(uow: UnitOfWork, *, session: Session, proposal: OutcomeProposal) -> bool:
    """R11: a proposal only; the status changes on Confirm. No state_version change."""
    fix = await uow.fixes.active(account_id=session.account_id, session_id=session.id or 0)
    if fix is None or fix.applied_at is None or not fix_allows(fix.status, FixEvent.PROPOSE_OUTCOME):
        log.info("outcome proposal dropped: no applied fix awaits an outcome")
        return False
    fix.outcome_proposal = {"outcome": proposal.outcome, "notes": proposal.notes}
    return True


def _verifying(fix: Fix) -> bool:
    return fix.applied_at is not None and fix.status == FixStatus.PROPOSED


class FixService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def _open(self, uow: UnitOfWork, actor: Actor, session_id: int, fix_id: int | None) -> tuple[Member, Session, Fix]:
        member = await load_member(uow, actor)
        session = await load_session(uow, actor, session_id)
        await require_can_change(uow, member, session)
        if fix_id is None:
            fix = await uow.fixes.active(account_id=actor.account_id, session_id=session_id)
            if fix is None:
                raise NotFound("There is no suggested fix in this session.", reason="fix.none",
                               params={"session_id": session_id})
        else:
            fix = await uow.fixes.get(account_id=actor.account_id, fix_id=fix_id)
            if fix is None or fix.session_id != session_id:
                raise NotFound("That fix is not part of this session.", reason="fix.not_in_session",
                               params={"session_id": session_id, "fix_id": fix_id})
        return member, session, fix

    async def add_engineer_fix(self, *, actor: Actor, session_id: int, title: str, description: str = "") -> Fix:
        title = redact_text(title.strip())
        if not title:
            raise InvalidInput("A fix needs a title.", reason="fix.title_missing")
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            await require_can_change(uow, member, session)
            now = self.deps.clock.now()
            fix = await add_fix(uow, session=session, now=now, fix=Fix(
                account_id=actor.account_id, session_id=session_id, title=title[:200],
                description=redact_text(description.strip())[:4000] or title[:200], confidence=100,
                author=FixAuthor.ENGINEER, created_at=now))
            await record_action(uow, self.deps, session, member.id, f"{member.name} proposed a fix: {fix.title}")
            await uow.commit()
        return fix

    async def apply(self, *, actor: Actor, session_id: int, fix_id: int | None = None) -> Fix:
        """R9: stamps applied_at, status stays proposed ("verifying"). Idempotent."""
        async with self.deps.uow_factory() as uow:
            member, session, fix = await self._open(uow, actor, session_id, fix_id)
            fix_move(fix.status, FixEvent.APPLY, fix_id=fix.id, superseded=fix.superseded_at is not None)
            if fix.applied_at is None:
                fix.applied_at = self.deps.clock.now()
                await bump(uow, session)
                await record_action(uow, self.deps, session, member.id, f"{member.name} applied the fix: {fix.title}")
                await uow.commit()
        return fix

    async def record_outcome(self, *, actor: Actor, session_id: int, outcome: FixStatus,
                             notes: str | None = None, fix_id: int | None = None) -> Fix:
        """R10: success/failed/dismissed are final; partial needs notes and may still move on."""
        notes = redact_text(notes.strip()) if notes and notes.strip() else None
        rules = outcome_rules(outcome)
        if rules.notes_required and not notes:
            raise InvalidInput("Partly worked needs notes on what changed.", reason="fix.partial_notes_missing")
        async with self.deps.uow_factory() as uow:
            member, session, fix = await self._open(uow, actor, session_id, fix_id)
            fix.status = next_fix_status(fix.status, outcome, fix_id=fix.id, superseded=fix.superseded_at is not None)
            now = self.deps.clock.now()
            if rules.supersedes:
                fix.decision, fix.decided_at, fix.superseded_at = FixDecision.DISMISSED, now, now
            else:
                fix.applied_at = fix.applied_at or now
            if rules.verifies:
                fix.verified_at = now
            if rules.notes_into is not None:
                setattr(fix, rules.notes_into, notes)
            fix.outcome_proposal = None
            await bump(uow, session)
            await record_action(uow, self.deps, session, member.id, f"{member.name}: the fix {OUTCOME_WORDS[outcome]}.",
                                outcome=str(outcome))
            await uow.commit()
        return fix

    async def confirm_proposal(self, *, actor: Actor, session_id: int) -> Fix:
        async with self.deps.uow_factory() as uow:
            _, _, fix = await self._open(uow, actor, session_id, None)
            proposal = fix.outcome_proposal
        if not proposal:
            raise NotFound("There is no outcome waiting for confirmation.", reason=NO_PROPOSAL)
        return await self.record_outcome(actor=actor, session_id=session_id, fix_id=fix.id,
                                         outcome=PROPOSAL_OUTCOMES[proposal["outcome"]], notes=proposal.get("notes"))

    async def reject_proposal(self, *, actor: Actor, session_id: int) -> Fix:
        """R11 'Not yet': clears the proposal; status and state_version stay as they are."""
        async with self.deps.uow_factory() as uow:
            _, _, fix = await self._open(uow, actor, session_id, None)
            if not fix.outcome_proposal:
                raise NotFound("There is no outcome waiting for confirmation.", reason=NO_PROPOSAL)
            fix.outcome_proposal = None
            await uow.commit()
        return fix

    async def decide(self, *, actor: Actor, session_id: int, decision: FixDecision,
                     edited_script: str | None = None, fix_id: int | None = None) -> Decision:
        """R8: one_off / draft_template / build_template return the script; dismissed supersedes."""
        if decision == FixDecision.DISMISSED:
            fix = await self.record_outcome(actor=actor, session_id=session_id, outcome=FixStatus.DISMISSED, fix_id=fix_id)
            return Decision(fix=fix, script=None)
        async with self.deps.uow_factory() as uow:
            member, session, fix = await self._open(uow, actor, session_id, fix_id)
            fix_move(fix.status, FixEvent.DECIDE, fix_id=fix.id)
            script = edited_script if edited_script and edited_script.strip() else fix.script
            if not script and fix.template_id is None:
                raise InvalidInput("This fix has neither a script nor a template to run.", reason="fix.nothing_to_run",
                                   params={"fix_id": fix.id})
            now = self.deps.clock.now()
            fix.decision, fix.decided_at = decision, now
            draft = None
            if decision == FixDecision.DRAFT_TEMPLATE and script:
                draft = await uow.drafts.add(DraftTemplate(
                    account_id=actor.account_id, session_id=session_id, fix_id=fix.id or 0, name=fix.title[:120],
                    body=script, language=fix.script_language or "powershell", parameters=list(fix.script_params),
                    created_by=member.id or 0, created_at=now))
            await bump(uow, session)
            await record_action(uow, self.deps, session, member.id, f"{member.name} chose {decision} for the fix.")
            await uow.commit()
        return Decision(fix=fix, script=script, draft=draft)

    async def save_script(self, *, actor: Actor, session_id: int, script: str,
                          params: list[dict[str, Any]] | None = None, fix_id: int | None = None) -> Fix:
        """R12: store the edited script without stamping applied_at."""
        if not script.strip():
            raise InvalidInput("An empty script can't be saved.", reason="fix.script_empty")
        async with self.deps.uow_factory() as uow:
            _, session, fix = await self._open(uow, actor, session_id, fix_id)
            fix_move(fix.status, FixEvent.SAVE_SCRIPT, fix_id=fix.id)
            fix.script = script
            if params is not None:
                fix.script_params = params
            await bump(uow, session)
            await uow.commit()
        return fix
