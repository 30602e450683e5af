"""The console's action commands (issue 11): each turns its words into a core `Action`, hands it to
`engine.actions.perform` and says the outcome. A command's usage is drawn from its form's
declaration (core/forms.py), so the help and the validation answer from core, not from here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from adapters.console import messages as m
from adapters.console import render
from adapters.console.console import Console, _int, command
from core.actions import SPECS, Action, ActionId, Outcome, OutcomeCode
from core.errors import InvalidInput
from core.forms import FORMS, FieldKind

Values = dict[str, object]
MAX_REF_CHARS = 12  # an object of the session as written: F12, Q3, 7; a longer word is not one

# How a form field is typed on the command line when it isn't just its name.
TOKENS = {"log_time": "+time", "target": "@name", "description": ":: description", "ticket": "ticket# or words"}


def _resolve_words(rest: str) -> Values:
    log_time = rest == "+time" or rest.startswith("+time ")
    return {"log_time": log_time, "summary": rest.removeprefix("+time") if log_time else rest}


def _escalate_words(rest: str) -> Values:
    words = rest.split()
    target = words[-1] if len(words) > 1 and words[-1].startswith("@") else None
    return {"reason": " ".join(words[:-1]) if target else rest, "target": target}


def _fix_words(rest: str) -> Values:
    title, _, description = rest.partition("::")
    return {"title": title, "description": description}


@dataclass(frozen=True, kw_only=True)
class ActionCommand:
    """One command. `ref`: the first word names an object of the session (how it is written, e.g.
    `Q1|C1`); `session`: the first word is a session number; `choices`: the first word picks the
    action. `fields`: the form fields it takes, in the order typed; one field takes the rest of the
    line, several need `words` to split it."""

    name: str
    action: ActionId
    ref: str | None = None
    session: bool = False
    choices: Mapping[str, ActionId] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    words: Callable[[str], Values] | None = None

    def usage(self) -> str:
        parts = [f"/{self.name}"]
        if self.choices:
            parts.append("|".join(self.choices))
        if self.session:
            parts.append("<session>")
        if self.ref:
            parts.append(f"<{self.ref}>")
        form = SPECS[self.action].form
        for name in self.fields:
            assert form is not None, f"/{self.name} takes fields but {self.action} has no form"
            f = FORMS[form].field(name)
            token = TOKENS.get(name, name)
            parts.append(f"<{token}>" if f.required and f.kind != FieldKind.TOGGLE else f"[{token}]")
        return " ".join(parts)

    def parse(self, c: Console, rest: str) -> Action:
        action, session_id, ref = self.action, None, None
        if self.choices or self.session or self.ref:
            words = rest.split(None, 1)  # the first word ends at any space, tab or newline
            first, rest = (words[0], words[1].strip() if len(words) > 1 else "") if words else ("", "")
            if self.ref and len(first) > MAX_REF_CHARS:
                raise InvalidInput(m.USAGE.format(usage=self.usage()))
            if self.choices:
                if first.lower() not in self.choices:
                    raise InvalidInput(m.USAGE.format(usage=self.usage()))
                action = self.choices[first.lower()]
            elif self.session:
                session_id = _int(first, self.usage())
            else:
                ref = first or None
        values: Values = self.words(rest) if self.words else {self.fields[0]: rest} if self.fields else {}
        return Action(id=action, session_id=c.session_id() if session_id is None else session_id, ref=ref,
                      values=values)

    def refused(self, exc: InvalidInput) -> InvalidInput:
        """A refused field (or a missing object) said as this command's usage."""
        usage = self.usage()
        if exc.reason == "form.too_long" and exc.field:
            return InvalidInput(m.FORM_TOO_LONG.format(token=TOKENS.get(exc.field, exc.field), length=exc.params["length"],
                                                       max=exc.params["max"], usage=usage))
        return InvalidInput(m.USAGE.format(usage=usage))


COMMAND_TABLE = (
    ActionCommand(name="promote", action=ActionId.CONFIRM_ITEM, ref="Q1|C1|P1", fields=("text",)),
    ActionCommand(name="reject", action=ActionId.DISMISS_ITEM, ref="P1|Q1|C1"),
    ActionCommand(name="fact", action=ActionId.ADD_FACT, fields=("text",)),
    ActionCommand(name="editfact", action=ActionId.EDIT_FACT, ref="n", fields=("text",)),
    ActionCommand(name="delfact", action=ActionId.DELETE_FACT, ref="n"),
    ActionCommand(name="fix", action=ActionId.ADD_FIX, fields=("title", "description"), words=_fix_words),
    ActionCommand(name="apply", action=ActionId.APPLY_FIX),
    ActionCommand(name="worked", action=ActionId.FIX_WORKED),
    ActionCommand(name="failed", action=ActionId.FIX_FAILED, fields=("reason",)),
    ActionCommand(name="partial", action=ActionId.FIX_PARTIAL, fields=("notes",)),
    ActionCommand(name="dismiss", action=ActionId.FIX_DISMISS),
    ActionCommand(name="confirm", action=ActionId.OUTCOME_CONFIRM),
    ActionCommand(name="notyet", action=ActionId.OUTCOME_NOT_YET),
    ActionCommand(name="preview", action=ActionId.PREVIEW_RESOLVE,
                  choices={"resolve": ActionId.PREVIEW_RESOLVE, "escalate": ActionId.PREVIEW_ESCALATE}),
    ActionCommand(name="resolve", action=ActionId.RESOLVE, fields=("log_time", "summary"), words=_resolve_words),
    ActionCommand(name="escalate", action=ActionId.ESCALATE, fields=("reason", "target"), words=_escalate_words),
    ActionCommand(name="park", action=ActionId.PARK, fields=("reason",)),
    ActionCommand(name="pickup", action=ActionId.PICKUP, session=True),
    ActionCommand(name="link", action=ActionId.LINK_TICKET, fields=("ticket",)),
    ActionCommand(name="retry", action=ActionId.RETRY_WRITEBACK),
)


async def perform(c: Console, cmd: ActionCommand, rest: str) -> None:
    action = cmd.parse(c, rest)
    try:
        outcome = await c.engine.actions.perform(c.actor, action)
    except InvalidInput as exc:
        if exc.field is None and exc.reason != "action.no_ref":
            raise
        raise cmd.refused(exc) from exc
    await show(c, outcome)


async def show(c: Console, outcome: Outcome) -> None:
    """The outcome's lines, then what the console does next: follow a pickup, offer the working
    time after a resolution preview, deliver a writeback now."""
    if outcome.code == OutcomeCode.PICKED_UP:
        c.current = outcome.session_id
    c.say(*render.outcome(outcome))
    if outcome.action == ActionId.PREVIEW_RESOLVE and outcome.params.get("time_minutes") is not None:
        c.say(m.TIME_OFFER.format(minutes=outcome.params["time_minutes"], id=outcome.params["ticket_ref"]))
    if outcome.params.get("ticket_id") and outcome.code in (OutcomeCode.RESOLVED, OutcomeCode.ESCALATED,
                                                            OutcomeCode.WRITEBACK_RETRIED):
        await c.run_writebacks()


def _register(cmd: ActionCommand) -> None:
    async def handler(c: Console, rest: str) -> None:
        await perform(c, cmd, rest)
    command(cmd.name, cmd.usage())(handler)


for _cmd in COMMAND_TABLE:
    _register(_cmd)
