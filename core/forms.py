"""Every form a person fills in, declared once (R15): its fields, their kinds, limits, whether they
are required, and their help. Slack modals, Teams cards and console prompts are rendered from these
declarations, and `validate` answers the same on every surface, naming the field at fault.

Values come in as the raw strings a surface read (a Slack view's state, a Teams card's inputs, a
console argument); `validate` hands back clean values: stripped text, a bool for a toggle, a member
id, or None for an empty optional field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.compose import MAX_NOTE_CHARS, MAX_SUMMARY_CHARS
from core.errors import InvalidInput
from core.handoffs import MAX_REASON_CHARS
from core.proposals import MAX_FACT_CHARS

MAX_FIX_NOTES_CHARS = 3000  # partial notes, failure reasons: one input box on every surface
MAX_FIX_TITLE_CHARS = 200
MAX_FIX_DESCRIPTION_CHARS = 3000  # what the engineer types fits one box on every surface (a Slack input holds 3000)
MAX_TICKET_CHARS = 300  # a ticket number, #number or a ConnectWise ticket URL
MAX_PARK_REASON_CHARS = 500
MAX_ID = 2**63 - 1


class FieldKind(StrEnum):
    TEXT = "text"  # one line
    LONG_TEXT = "long_text"  # several lines (a note, a reason)
    TOGGLE = "toggle"  # on or off
    MEMBER = "member"  # a colleague in the account: a member id (or a typed name)


class FormName(StrEnum):
    CONFIRM_ITEM = "confirm_item"
    ADD_FACT = "add_fact"
    EDIT_FACT = "edit_fact"
    ADD_FIX = "add_fix"
    FIX_PARTIAL = "fix_partial"
    FIX_FAILED = "fix_failed"
    RESOLVE = "resolve"
    ESCALATE = "escalate"
    PARK = "park"
    LINK_TICKET = "link_ticket"


@dataclass(frozen=True, kw_only=True)
class FormField:
    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = False
    max_chars: int | None = None
    help: str | None = None
    placeholder: str | None = None


@dataclass(frozen=True, kw_only=True)
class Form:
    name: FormName
    title: str
    submit: str
    fields: tuple[FormField, ...]
    intro: str | None = None

    def field(self, name: str) -> FormField:
        return next(f for f in self.fields if f.name == name)


FORMS: dict[FormName, Form] = {form.name: form for form in (
    Form(name=FormName.CONFIRM_ITEM, title="Confirm as a fact", submit="Confirm",
         intro="What the answer or the check showed becomes a fact of the session (R4).",
         fields=(FormField(name="text", label="The fact, in your words", kind=FieldKind.LONG_TEXT,
                           max_chars=MAX_FACT_CHARS,
                           help="Leave it empty and the assistant writes it from the conversation."),)),
    Form(name=FormName.ADD_FACT, title="Add a fact", submit="Add",
         fields=(FormField(name="text", label="Fact", kind=FieldKind.LONG_TEXT, required=True,
                           max_chars=MAX_FACT_CHARS),)),
    Form(name=FormName.EDIT_FACT, title="Edit a fact", submit="Save",
         fields=(FormField(name="text", label="Fact", kind=FieldKind.LONG_TEXT, required=True,
                           max_chars=MAX_FACT_CHARS),)),
    Form(name=FormName.ADD_FIX, title="Propose a fix", submit="Propose",
         fields=(FormField(name="title", label="Fix", required=True, max_chars=MAX_FIX_TITLE_CHARS),
                 FormField(name="description", label="What to do", kind=FieldKind.LONG_TEXT,
                           max_chars=MAX_FIX_DESCRIPTION_CHARS))),
    Form(name=FormName.FIX_PARTIAL, title="Partly worked", submit="Save",
         fields=(FormField(name="notes", label="What changed, and what still fails", kind=FieldKind.LONG_TEXT,
                           required=True, max_chars=MAX_FIX_NOTES_CHARS),)),
    Form(name=FormName.FIX_FAILED, title="Didn't work", submit="Save",
         fields=(FormField(name="reason", label="Why it didn't work", kind=FieldKind.LONG_TEXT,
                           max_chars=MAX_FIX_NOTES_CHARS, help="Optional; it goes into the handoff and the note."),)),
    Form(name=FormName.RESOLVE, title="Resolution note", submit="Post",
         fields=(FormField(name="note", label="Resolution note", kind=FieldKind.LONG_TEXT,
                           max_chars=MAX_NOTE_CHARS, help="Leave it empty and it is written from the session."),
                 FormField(name="summary", label="Summary", max_chars=MAX_SUMMARY_CHARS,
                           help=f"One line for the ticket's history, at most {MAX_SUMMARY_CHARS} characters."),
                 FormField(name="log_time", label="Log the working time", kind=FieldKind.TOGGLE))),
    Form(name=FormName.ESCALATE, title="Escalate", submit="Escalate",
         fields=(FormField(name="reason", label="Why escalate", kind=FieldKind.LONG_TEXT, required=True,
                           max_chars=MAX_REASON_CHARS),
                 FormField(name="target", label="Escalate to (optional)", kind=FieldKind.MEMBER,
                           help="Leave it empty for whoever is on duty."),
                 FormField(name="note", label="Handoff package", kind=FieldKind.LONG_TEXT, max_chars=MAX_NOTE_CHARS,
                           help="Leave it empty and it is written from the session."))),
    Form(name=FormName.PARK, title="Park the session", submit="Park",
         fields=(FormField(name="reason", label="Why park it (optional)", max_chars=MAX_PARK_REASON_CHARS),)),
    Form(name=FormName.LINK_TICKET, title="Link a ticket", submit="Link",
         fields=(FormField(name="ticket", label="Ticket", required=True, max_chars=MAX_TICKET_CHARS,
                           placeholder="12345, #12345 or the ticket's URL"),)),
)}

TOGGLE_ON = frozenset({"true", "on", "yes", "1", "log"})
TOGGLE_OFF = frozenset({"false", "off", "no", "0", ""})


def validate(form: Form, raw: Mapping[str, object]) -> dict[str, Any]:
    """The form's clean values, or InvalidInput naming the first field at fault (`field`, and
    `params` with its label and limit). Unknown keys are ignored: they were never ours to read."""
    values: dict[str, Any] = {}
    for field in form.fields:
        values[field.name] = _clean(form, field, raw.get(field.name))
    return values


def _clean(form: Form, field: FormField, value: object) -> Any:
    if value is not None and not isinstance(value, (str, bool, int)):
        raise _refused(form, field, "form.not_text", f"{field.label}: that is not text.")
    if field.kind == FieldKind.TOGGLE:
        return _toggle(form, field, value)
    text = "" if value is None else str(value).strip()
    if not text:
        if field.required:
            raise _refused(form, field, "form.required", f"{field.label} is required.")
        return None
    if field.max_chars is not None and len(text) > field.max_chars:
        raise _refused(form, field, "form.too_long",
                       f"{field.label} is {len(text):,} characters; at most {field.max_chars:,}.",
                       length=len(text), max=field.max_chars)
    if "\x00" in text:
        raise _refused(form, field, "form.not_text", f"{field.label} holds a character that can't be stored.")
    if field.kind == FieldKind.MEMBER:
        return _member_id(form, field, text)
    return text


def _toggle(form: Form, field: FormField, value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = "" if value is None else str(value).strip().casefold()
    if word in TOGGLE_ON:
        return True
    if word in TOGGLE_OFF:
        return False
    raise _refused(form, field, "form.not_a_choice", f"{field.label} is on or off.")


def _member_id(form: Form, field: FormField, text: str) -> int | str:
    """A member id from a picker, or a name (`@dana`, `dana`) typed where there is no picker; the
    engine finds the member either way."""
    if text.isascii() and text.isdigit():
        if not 0 < int(text) <= MAX_ID:
            raise _refused(form, field, "form.not_a_member", f"{field.label}: choose a colleague from the list.")
        return int(text)
    return text.removeprefix("@")


def _refused(form: Form, field: FormField, reason: str, message: str, **params: Any) -> InvalidInput:
    return InvalidInput(message, reason=reason, field=field.name,
                        params={"form": str(form.name), "field": field.name, "label": field.label, **params})
