"""`perform(actor, action)`: the one way a person's action reaches the engine (issue 11). It
validates the action's form (core/forms.py, the same answer on every surface), names the object,
calls the feature service (which checks the account and role and commits one transaction) and
returns a neutral `Outcome`. Surfaces only translate their input into an `Action` and word the
outcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from core.access import Actor
from core.actions import SPECS, Action, ActionId, Outcome, OutcomeCode
from core.errors import InvalidInput
from core.facts import FactService
from core.fixes import OUTCOME_WORDS, FixService
from core.forms import FORMS, validate
from core.handoffs import HandoffService
from core.models import Fact, Fix, FixStatus, TaskItem
from core.previews import PreviewService
from core.psa_link import PsaLinkService
from core.resolution import ResolutionService
from core.sessions import SessionService
from core.writeback import WritebackService

FIX_OUTCOMES = {ActionId.FIX_WORKED: FixStatus.APPLIED_SUCCESS, ActionId.FIX_FAILED: FixStatus.APPLIED_FAILED,
                ActionId.FIX_PARTIAL: FixStatus.APPLIED_PARTIAL, ActionId.FIX_DISMISS: FixStatus.DISMISSED}
FIX_NOTES_FIELD = {ActionId.FIX_FAILED: "reason", ActionId.FIX_PARTIAL: "notes"}

Handler = Callable[["ActionService", Actor, Action, Mapping[str, Any]], Awaitable[Outcome]]


class ActionService:
    def __init__(self, *, sessions: SessionService, facts: FactService, fixes: FixService,
                 previews: PreviewService, resolution: ResolutionService, handoffs: HandoffService,
                 psa: PsaLinkService, writebacks: WritebackService) -> None:
        self.sessions = sessions
        self.facts = facts
        self.fixes = fixes
        self.previews = previews
        self.resolution = resolution
        self.handoffs = handoffs
        self.psa = psa
        self.writebacks = writebacks

    async def perform(self, actor: Actor, action: Action) -> Outcome:
        spec = SPECS[action.id]
        values = validate(FORMS[spec.form], action.values) if spec.form is not None else {}
        if spec.ref_required and action.ref is None:
            raise InvalidInput("That names nothing to act on; refresh the lane and try again.",
                               reason="action.no_ref", params={"action": str(action.id)})
        return await HANDLERS[action.id](self, actor, action, values)


def _fix_int(ref: int | str | None) -> int | None:
    """A fix is named by id from buttons; the console names none (the active fix)."""
    if ref is None or isinstance(ref, int):
        return ref
    if ref.isascii() and ref.isdigit():
        return int(ref)
    raise InvalidInput("That names no fix of this session.", reason="fix.unknown_ref", params={"ref": ref})


def _ref(action: Action) -> int | str:
    assert action.ref is not None  # ref_required was checked
    return action.ref


def _fact(action: Action, code: OutcomeCode, fact: Fact, **params: Any) -> Outcome:
    return Outcome(code=code, action=action.id, session_id=action.session_id,
                   params={"label": fact.label, "text": fact.text, "fact_id": fact.id, **params})


def _item(action: Action, code: OutcomeCode, item: TaskItem) -> Outcome:
    return Outcome(code=code, action=action.id, session_id=action.session_id,
                   params={"label": item.label, "text": item.text, "item_id": item.id})


def _fix(action: Action, code: OutcomeCode, fix: Fix) -> Outcome:
    status = FixStatus(fix.status)
    return Outcome(code=code, action=action.id, session_id=action.session_id,
                   params={"title": fix.title, "fix_id": fix.id, "outcome": str(status),
                           "outcome_label": OUTCOME_WORDS.get(status, "")})


async def _confirm_item(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    confirmed = await s.facts.promote(actor=actor, session_id=a.session_id, item_ref=_ref(a), text=v["text"])
    if isinstance(confirmed, TaskItem):  # synthesized: shown for the engineer to confirm or reword (R4, R6)
        return _item(a, OutcomeCode.FACT_PROPOSED, confirmed)
    return _fact(a, OutcomeCode.FACT_CONFIRMED, confirmed, own_words=v["text"] is not None)


async def _dismiss_item(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    return _item(a, OutcomeCode.ITEM_DISMISSED, await s.facts.dismiss(actor=actor, session_id=a.session_id,
                                                                      item_ref=_ref(a)))


async def _add_fact(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    fact = await s.facts.add_note(actor=actor, session_id=a.session_id, text=v["text"])
    return _fact(a, OutcomeCode.FACT_ADDED, fact)


async def _edit_fact(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    fact = await s.facts.edit(actor=actor, session_id=a.session_id, fact_ref=_ref(a), text=v["text"])
    return _fact(a, OutcomeCode.FACT_EDITED, fact)


async def _delete_fact(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    fact = await s.facts.delete(actor=actor, session_id=a.session_id, fact_ref=_ref(a))
    return _fact(a, OutcomeCode.FACT_DELETED, fact)


async def _add_fix(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    fix = await s.fixes.add_engineer_fix(actor=actor, session_id=a.session_id, title=v["title"],
                                         description=v["description"] or "")
    return _fix(a, OutcomeCode.FIX_ADDED, fix)


async def _apply_fix(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    fix = await s.fixes.apply(actor=actor, session_id=a.session_id, fix_id=_fix_int(a.ref))
    return _fix(a, OutcomeCode.FIX_APPLIED, fix)


async def _fix_outcome(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    notes = v.get(FIX_NOTES_FIELD[a.id]) if a.id in FIX_NOTES_FIELD else None
    fix = await s.fixes.record_outcome(actor=actor, session_id=a.session_id, outcome=FIX_OUTCOMES[a.id],
                                       notes=notes, fix_id=_fix_int(a.ref))
    return _fix(a, OutcomeCode.FIX_OUTCOME, fix)


async def _outcome_confirm(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    fix = await s.fixes.confirm_proposal(actor=actor, session_id=a.session_id)
    return _fix(a, OutcomeCode.FIX_OUTCOME, fix)


async def _outcome_not_yet(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    fix = await s.fixes.reject_proposal(actor=actor, session_id=a.session_id)
    return _fix(a, OutcomeCode.OUTCOME_NOT_YET, fix)


async def _preview(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    kind: Literal["resolve", "escalate"] = "resolve" if a.id == ActionId.PREVIEW_RESOLVE else "escalate"
    preview = await s.previews.preview(actor=actor, session_id=a.session_id, kind=kind)
    # The resolution form's time entry offer (R19) is a rule: decided here, for every surface.
    params: dict[str, Any] = {"kind": kind, "version": preview.state_version, "composed_by": preview.composed_by}
    if kind == "resolve":
        defaults = await s.resolution.form_defaults(actor=actor, session_id=a.session_id)
        params |= {"time_minutes": defaults.time_minutes, "summary_default": defaults.summary,
                   "ticket_ref": defaults.ticket_ref}
    return Outcome(code=OutcomeCode.PREVIEW_READY, action=a.id, session_id=a.session_id, changed=frozenset(),
                   params=params, preview=preview)


async def _resolve(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    done = await s.resolution.resolve(actor=actor, session_id=a.session_id, summary=v["summary"], markdown=v["note"],
                                      log_time=v["log_time"])
    return Outcome(code=OutcomeCode.RESOLVED, action=a.id, session_id=a.session_id,
                   params={"outcome": done.outcome, "ticket_id": done.ticket_id, "time_minutes": done.time_minutes,
                           "summary": done.writeup.summary})


async def _escalate(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    done = await s.handoffs.escalate(actor=actor, session_id=a.session_id, reason=v["reason"], target=v["target"],
                                     markdown=v["note"])
    return Outcome(code=OutcomeCode.ESCALATED, action=a.id, session_id=a.session_id,
                   params={"outcome": done.outcome, "ticket_id": done.ticket_id, "reason": done.handoff.reason,
                           "target": done.target.name if done.target else None})


async def _park(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    await s.sessions.park(actor=actor, session_id=a.session_id, reason=v["reason"] or "")
    return Outcome(code=OutcomeCode.PARKED, action=a.id, session_id=a.session_id)


async def _pickup(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    pickup = await s.handoffs.pickup(actor=actor, session_id=a.session_id)
    by = pickup.escalated_by.name if pickup.escalated_by else None
    return Outcome(code=OutcomeCode.PICKED_UP, action=a.id, session_id=a.session_id,
                   params={"escalated_by": by, "title": pickup.session.title}, pickup=pickup)


async def _link_ticket(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    link = await s.psa.link(actor=actor, session_id=a.session_id, ref=v["ticket"])
    t = link.ticket
    return Outcome(code=OutcomeCode.TICKET_LINKED, action=a.id, session_id=a.session_id,
                   params={"ticket_id": t.id, "summary": t.summary, "company": t.company_name, "board": t.board_name,
                           "status": t.status_name})


async def _retry_writeback(s: ActionService, actor: Actor, a: Action, v: Mapping[str, Any]) -> Outcome:
    wb = await s.writebacks.retry(actor=actor, session_id=a.session_id)
    return Outcome(code=OutcomeCode.WRITEBACK_RETRIED, action=a.id, session_id=a.session_id,
                   params={"ticket_id": wb.ticket_id})


HANDLERS: dict[ActionId, Handler] = {
    ActionId.CONFIRM_ITEM: _confirm_item,
    ActionId.DISMISS_ITEM: _dismiss_item,
    ActionId.ADD_FACT: _add_fact,
    ActionId.EDIT_FACT: _edit_fact,
    ActionId.DELETE_FACT: _delete_fact,
    ActionId.ADD_FIX: _add_fix,
    ActionId.APPLY_FIX: _apply_fix,
    ActionId.FIX_WORKED: _fix_outcome,
    ActionId.FIX_FAILED: _fix_outcome,
    ActionId.FIX_PARTIAL: _fix_outcome,
    ActionId.FIX_DISMISS: _fix_outcome,
    ActionId.OUTCOME_CONFIRM: _outcome_confirm,
    ActionId.OUTCOME_NOT_YET: _outcome_not_yet,
    ActionId.PREVIEW_RESOLVE: _preview,
    ActionId.PREVIEW_ESCALATE: _preview,
    ActionId.RESOLVE: _resolve,
    ActionId.ESCALATE: _escalate,
    ActionId.PARK: _park,
    ActionId.PICKUP: _pickup,
    ActionId.LINK_TICKET: _link_ticket,
    ActionId.RETRY_WRITEBACK: _retry_writeback,
}
