"""Validate a card against Microsoft's Adaptive Card 1.5 schema, kept in the repo so CI needs no
../shared. The schema declares draft-06; its validator class is taken from that declaration.

Teams adds typeahead to `Input.ChoiceSet` in 1.5 cards ("Typeahead search in Adaptive Cards",
learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/dynamic-search): the style
`filtered` and `choices.data`, a `Data.Query` object. The published 1.5 schema lists neither, so
they are checked here against that page's table and taken out before the schema sees the card."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "adaptive-card-1.5.json"
DATA_QUERY_KEYS = frozenset({"type", "dataset", "value", "count", "skip", "associatedInputs"})


@functools.cache
def card_validator() -> Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls: Any = validators.validator_for(schema, default=None)
    if cls is None:
        raise RuntimeError(f"unknown $schema {schema.get('$schema')!r} in {SCHEMA_PATH}")
    cls.check_schema(schema)
    validator: Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def _check_data_query(query: object) -> None:
    if not isinstance(query, dict) or query.get("type") != "Data.Query":
        raise ValidationError(f"choices.data must be a Data.Query object, not {query!r}")
    if not isinstance(query.get("dataset"), str) or not query["dataset"]:
        raise ValidationError("a Data.Query names its dataset")
    if set(query) - DATA_QUERY_KEYS:
        raise ValidationError(f"unknown Data.Query properties {sorted(set(query) - DATA_QUERY_KEYS)}")
    for key in ("count", "skip"):
        if key in query and type(query[key]) is not int:
            raise ValidationError(f"Data.Query {key} is a number")
    if query.get("associatedInputs", "auto") not in ("auto", "none"):
        raise ValidationError("Data.Query associatedInputs is auto or none")


def without_typeahead(card: dict[str, Any]) -> dict[str, Any]:
    """A copy of the card with Teams' typeahead additions checked and taken out."""
    plain = copy.deepcopy(card)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Input.ChoiceSet":
                if "choices.data" in node:
                    _check_data_query(node.pop("choices.data"))
                if str(node.get("style", "")).lower() == "filtered":
                    node["style"] = "compact"
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(plain)
    return plain


def validate_card(card: dict[str, Any]) -> None:
    """Raise the most relevant `jsonschema.ValidationError` when `card` is not a valid 1.5 card."""
    error = best_match(card_validator().iter_errors(without_typeahead(card)))
    if error is not None:
        raise error
