"""Validate a card against Microsoft's Adaptive Card 1.5 schema, kept in the repo so CI needs no
../shared. The schema declares draft-06; its validator class is taken from that declaration."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "adaptive-card-1.5.json"


@functools.cache
def card_validator() -> Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls: Any = validators.validator_for(schema, default=None)
    if cls is None:
        raise RuntimeError(f"unknown $schema {schema.get('$schema')!r} in {SCHEMA_PATH}")
    cls.check_schema(schema)
    validator: Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def validate_card(card: dict[str, Any]) -> None:
    """Raise the most relevant `jsonschema.ValidationError` when `card` is not a valid 1.5 card."""
    error = best_match(card_validator().iter_errors(card))
    if error is not None:
        raise error
