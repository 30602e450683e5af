"""Card forms rendered from core's declarations (core/forms.py): each field's label, limit, whether
it is required and its help come from there, so Teams asks for what Slack and the console ask for and
`perform` refuses the same. A form unfolds on the card (`Action.ShowCard`) or, after a refusal,
comes back as a card of its own with the error by the field at fault. A field listed in `SEARCHED`
is a typeahead (adapters/teams/typeahead.py): the ticket to link is searched among the open tickets
as it is typed, and the chosen ticket's number is what the action gets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.teams import cards_text as t
from adapters.teams.card_actions import CHOSEN_REF, TOGGLE_OFF, TOGGLE_ON, execute
from adapters.teams.cards_base import Element, adaptive_card, safe, show_card, subtle, text_blocks, title
from adapters.teams.typeahead import Dataset, typeahead
from core.actions import SPECS, ActionId
from core.cards import CardChoice
from core.forms import FORMS, FieldKind, Form, FormField, FormName

Members = Sequence[tuple[int, str]]  # (member id, name): whom a MEMBER field offers
SEARCHED: dict[tuple[FormName, str], Dataset] = {(FormName.LINK_TICKET, "ticket"): Dataset.TICKETS}


def form_of(kind: ActionId) -> Form:
    form = SPECS[kind].form
    if form is None:
        raise ValueError(f"{kind} takes no form")
    return FORMS[form]


def form_body(form: Form, *, values: Mapping[str, object] | None = None, members: Members = (),
              hints: Mapping[str, str] | None = None, skip: frozenset[str] = frozenset(),
              error: tuple[str, str] | None = None) -> list[Element]:
    """The form's inputs, each followed by its help; `error` is (field, line) of a refusal. A
    colleague picker with nobody to offer is left out (its field is optional: anyone)."""
    values, hints = values or {}, hints or {}
    body: list[Element] = subtle(form.intro) if form.intro else []
    for field in form.fields:
        if field.name in skip or (field.kind == FieldKind.MEMBER and not members and not field.required):
            continue
        dataset = SEARCHED.get((form.name, field.name))
        value = values.get(field.name)
        body.append(_input(field, value, members) if dataset is None else _searched(field, value, dataset))
        hint = hints.get(field.name) or field.help
        if hint:
            body += text_blocks(hint, isSubtle=True, size="Small", spacing="None")
        if error is not None and error[0] == field.name:
            body += text_blocks(error[1], color="Attention", weight="Bolder", spacing="Small")
    if error is not None and error[0] not in {f.name for f in form.fields}:
        body += text_blocks(error[1], color="Attention", weight="Bolder")
    return body


def _searched(field: FormField, value: object, dataset: Dataset) -> Element:
    """A ticket typed before (a form sent back after a refusal) stays chosen, as `#number`."""
    typed = "" if value is None else str(value).strip()
    shown = f"#{typed}" if typed.isdigit() else typed
    return typeahead(field.name, field.label, dataset, value=typed or None, shown=shown, placeholder=t.TICKET_SEARCH,
                     required=field.required, error_message=t.REQUIRED.format(label=field.label))


def _input(field: FormField, value: object, members: Members) -> Element:
    if field.kind == FieldKind.TOGGLE:
        on = value is True or str(value).strip().casefold() == TOGGLE_ON
        return {"type": "Input.Toggle", "id": field.name, "title": field.label, "wrap": True,
                "value": TOGGLE_ON if on else TOGGLE_OFF, "valueOn": TOGGLE_ON, "valueOff": TOGGLE_OFF}
    element: Element
    if field.kind == FieldKind.MEMBER:  # the value is the member id as text; "" means anyone
        element = {"type": "Input.ChoiceSet", "id": field.name, "label": field.label, "style": "compact",
                   "value": "" if value is None else str(value),
                   "choices": [{"title": safe(name), "value": str(member_id)} for member_id, name in members]}
        if field.placeholder:
            element["placeholder"] = field.placeholder
    else:
        element = {"type": "Input.Text", "id": field.name, "label": field.label,
                   "isMultiline": field.kind == FieldKind.LONG_TEXT}
        if field.max_chars is not None:
            element["maxLength"] = field.max_chars
        if field.placeholder:
            element["placeholder"] = field.placeholder
        if value is not None:
            element["value"] = str(value)
    if field.required:
        element["isRequired"] = True
        element["errorMessage"] = t.REQUIRED.format(label=field.label)
    return element


def form_submit(kind: ActionId, session_id: int, ref: int | None = None) -> Element:
    return execute(kind, form_of(kind).submit, session_id, ref, style="positive")


def form_button(label: str, kind: ActionId, session_id: int, ref: int | None = None, *, members: Members = (),
                style: str | None = None) -> Element:
    """A button that unfolds the action's form on the card; its submit carries the action itself.
    An action with a preview (the escalation package) offers it beside the submit."""
    preview = SPECS[kind].preview
    extra = [execute(preview, t.PREVIEW_FIRST, session_id)] if preview is not None else []
    return show_card(label, form_body(form_of(kind), members=members), form_submit(kind, session_id, ref),
                     style=style, extra=extra)


def form_card(kind: ActionId, session_id: int, ref: int | None = None, *, values: Mapping[str, object] | None = None,
              members: Members = (), error: tuple[str, str] | None = None) -> dict[str, Any]:
    """The form as a card of its own: asked for when a click came without its inputs, or answered
    again with what was typed and the refusal by its field."""
    form = form_of(kind)
    body = [*title(t.FORM_TITLE.format(title=form.title, id=session_id)),
            *form_body(form, values=values, members=members, error=error)]
    return adaptive_card(body, [form_submit(kind, session_id, ref)])


def choice_button(choice: CardChoice, *, style: str | None = None) -> Element:
    """A pick-one-object action (which fact to edit or delete) unfolded on the card: a choice of the
    objects, the action's form if it has one, and its submit, which carries the chosen id."""
    picker: Element = {"type": "Input.ChoiceSet", "id": CHOSEN_REF, "label": t.CHOOSE, "style": "compact",
                       "isRequired": True, "errorMessage": t.CHOOSE_REQUIRED,
                       "choices": [{"title": safe(text), "value": str(ref)} for ref, text in reversed(choice.options)]}
    form = SPECS[choice.id].form
    body = [picker, *(form_body(FORMS[form]) if form is not None else [])]
    submit = execute(choice.id, FORMS[form].submit if form is not None else choice.label.rstrip("…"), choice.session_id,
                     style=style or "positive")
    return show_card(choice.label, body, submit)
