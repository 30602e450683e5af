"""Dynamic typeahead on a card: an `Input.ChoiceSet` whose choices Teams asks the bot for while the
person types. The element carries `choices.data` of type `Data.Query` naming a dataset; Teams sends
an `application/search` invoke with `value.queryText`, `value.dataset` and `value.queryOptions`
(`skip`, `top`), and the bot answers it (adapters/teams/search.py).

Microsoft documents this for Teams in "Typeahead search in Adaptive Cards"
(https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/dynamic-search,
source MicrosoftDocs/msteams-docs msteams-platform/task-modules-and-cards/cards/dynamic-search.md):
the `filtered` style, `"choices.data": {"type": "Data.Query", "dataset": ...}`, static `choices`
beside it, and at most 15 options in the dropdown. Its examples use it in cards of version 1.5,
which is as far as Teams renders, so our cards stay at 1.5; `choices.data` is the one property the
1.5 schema does not list (the tests check it separately, tests/adapters/teams/card_schema.py)."""

from __future__ import annotations

from enum import StrEnum

from adapters.teams.cards_base import Element, safe

PAGE = 15  # what Teams asks for (queryOptions.top) and shows at once


class Dataset(StrEnum):
    """What a typeahead searches; `application/search` answers each (anything else is refused)."""

    TICKETS = "tickets"  # open tickets of the account's PSA; the value is the ticket number
    MEMBERS = "members"  # the PSA's active members; the value is the PSA member id


def typeahead(input_id: str, label: str, dataset: Dataset, *, value: str | None = None, shown: str | None = None,
              placeholder: str | None = None, required: bool = False, error_message: str | None = None) -> Element:
    """The ChoiceSet; a current `value` is offered as a static choice (titled `shown`) so it reads
    as chosen before anyone types."""
    element: Element = {"type": "Input.ChoiceSet", "id": input_id, "label": label, "style": "filtered",
                        "choices": [{"title": safe(shown or value), "value": value}] if value else [],
                        "choices.data": {"type": "Data.Query", "dataset": dataset.value}}
    if value:
        element["value"] = value
    if placeholder:
        element["placeholder"] = placeholder
    if required:
        element["isRequired"] = True
        if error_message:
            element["errorMessage"] = error_message
    return element
