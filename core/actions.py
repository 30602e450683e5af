"""What a person can do, as neutral values (issue 11): an action is a name, the session and object
it names by id (R3), and the raw values of its form; its outcome is a code with neutral parameters
and the views that changed. Slack, Teams and the console turn a click, a form or a command into an
`Action`, hand it to `ActionService.perform` (core/perform.py) and word the `Outcome`; none of them
decides a rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.forms import FormName
from core.handoffs import Pickup
from core.previews import Preview


class ActionId(StrEnum):
    """Every action. The values travel in buttons (`rf_<value>` in Slack and Teams): keep them."""

    CONFIRM_ITEM = "confirm_item"
    DISMISS_ITEM = "dismiss_item"
    ADD_FACT = "add_fact"
    EDIT_FACT = "edit_fact"
    DELETE_FACT = "delete_fact"
    ADD_FIX = "add_fix"
    APPLY_FIX = "apply_fix"
    FIX_WORKED = "fix_worked"
    FIX_FAILED = "fix_failed"
    FIX_PARTIAL = "fix_partial"
    FIX_DISMISS = "fix_dismiss"
    OUTCOME_CONFIRM = "outcome_confirm"
    OUTCOME_NOT_YET = "outcome_not_yet"
    PREVIEW_RESOLVE = "preview_resolve"
    PREVIEW_ESCALATE = "preview_escalate"
    RESOLVE = "resolve"
    ESCALATE = "escalate"
    PARK = "park"
    PICKUP = "pickup"
    LINK_TICKET = "link_ticket"
    RETRY_WRITEBACK = "retry_writeback"


@dataclass(frozen=True, kw_only=True)
class ActionSpec:
    """How an action is asked for. `form`: the values it takes (a surface that has none of them
    yet shows the form first, when `form_first`). `ref`: it names an object of the session (an
    item, a fact, a fix); `ref_required` when there is no sensible default (the active fix is
    one). `slow`: it may wait for the assistant, so a surface acknowledges first and answers later.
    `preview`: the action whose outcome fills the form in (the note to edit before posting)."""

    id: ActionId
    form: FormName | None = None
    form_first: bool = False
    ref: bool = False
    ref_required: bool = False
    slow: bool = False
    preview: ActionId | None = None


SPECS: dict[ActionId, ActionSpec] = {spec.id: spec for spec in (
    ActionSpec(id=ActionId.CONFIRM_ITEM, form=FormName.CONFIRM_ITEM, ref=True, ref_required=True, slow=True),
    ActionSpec(id=ActionId.DISMISS_ITEM, ref=True, ref_required=True),
    ActionSpec(id=ActionId.ADD_FACT, form=FormName.ADD_FACT, form_first=True),
    ActionSpec(id=ActionId.EDIT_FACT, form=FormName.EDIT_FACT, form_first=True, ref=True, ref_required=True),
    ActionSpec(id=ActionId.DELETE_FACT, ref=True, ref_required=True),
    ActionSpec(id=ActionId.ADD_FIX, form=FormName.ADD_FIX, form_first=True),
    ActionSpec(id=ActionId.APPLY_FIX, ref=True),
    ActionSpec(id=ActionId.FIX_WORKED, ref=True),
    ActionSpec(id=ActionId.FIX_FAILED, form=FormName.FIX_FAILED, form_first=True, ref=True),
    ActionSpec(id=ActionId.FIX_PARTIAL, form=FormName.FIX_PARTIAL, form_first=True, ref=True),
    ActionSpec(id=ActionId.FIX_DISMISS, ref=True),
    ActionSpec(id=ActionId.OUTCOME_CONFIRM, ref=True),
    ActionSpec(id=ActionId.OUTCOME_NOT_YET, ref=True),
    ActionSpec(id=ActionId.PREVIEW_RESOLVE, slow=True),
    ActionSpec(id=ActionId.PREVIEW_ESCALATE, slow=True),
    ActionSpec(id=ActionId.RESOLVE, form=FormName.RESOLVE, form_first=True, slow=True,
               preview=ActionId.PREVIEW_RESOLVE),
    ActionSpec(id=ActionId.ESCALATE, form=FormName.ESCALATE, form_first=True, slow=True,
               preview=ActionId.PREVIEW_ESCALATE),
    ActionSpec(id=ActionId.PARK, form=FormName.PARK, form_first=True),
    ActionSpec(id=ActionId.PICKUP, ref=True),
    ActionSpec(id=ActionId.LINK_TICKET, form=FormName.LINK_TICKET, form_first=True, slow=True),
    ActionSpec(id=ActionId.RETRY_WRITEBACK),
)}


@dataclass(frozen=True, kw_only=True)
class Action:
    """One person's request. `ref` names the object by id; the console may name it by its label
    (`Q1`, `F2`), which the engine resolves inside the session all the same."""

    id: ActionId
    session_id: int
    ref: int | str | None = None
    values: Mapping[str, object] = field(default_factory=dict)


class OutcomeCode(StrEnum):
    FACT_ADDED = "fact_added"
    FACT_CONFIRMED = "fact_confirmed"
    FACT_PROPOSED = "fact_proposed"  # synthesized (R4): a proposal for the engineer to confirm or reword
    ITEM_DISMISSED = "item_dismissed"
    FACT_EDITED = "fact_edited"
    FACT_DELETED = "fact_deleted"
    FIX_ADDED = "fix_added"
    FIX_APPLIED = "fix_applied"
    FIX_OUTCOME = "fix_outcome"  # params: outcome (a FixStatus value), outcome_label
    OUTCOME_NOT_YET = "outcome_not_yet"
    PREVIEW_READY = "preview_ready"
    RESOLVED = "resolved"
    ESCALATED = "escalated"
    PARKED = "parked"
    PICKED_UP = "picked_up"
    TICKET_LINKED = "ticket_linked"
    WRITEBACK_RETRIED = "writeback_retried"


class View(StrEnum):
    """What a surface redraws after an outcome (the notifiers tell everyone else)."""

    LANE = "lane"
    HOME = "home"


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """`params` hold neutral values (labels, texts, ids, codes) for the wording. `preview` and
    `pickup` carry what a surface shows next: the note to edit, the handoff to hand over."""

    code: OutcomeCode
    action: ActionId
    session_id: int
    params: Mapping[str, Any] = field(default_factory=dict)
    changed: frozenset[View] = frozenset({View.LANE})
    preview: Preview | None = None
    pickup: Pickup | None = None
