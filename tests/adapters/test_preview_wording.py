"""R16 on every surface: a deterministic preview says it was composed without the assistant and
why (the assistant was unavailable, or its drafts stated what the session does not hold); an
assistant's preview says neither."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.console.render import preview as console_preview
from adapters.slack.views import escalate_modal, resolve_modal
from adapters.teams.cards import resolution_card
from core.previews import Fallback, Preview
from tests.adapters.teams.card_schema import validate_card

UNGROUNDED = "not in this session"


def make(kind: str = "resolve", **kw: Any) -> Preview:
    return Preview(kind=kind, session_id=7, state_version=3, markdown="## Problem\np", **kw)  # type: ignore[arg-type]


GROUNDING = {"composed_by": "deterministic", "fallback": Fallback.GROUNDING, "ungrounded": ("10.9.8.7",)}
UNAVAILABLE = {"composed_by": "deterministic", "fallback": Fallback.UNAVAILABLE, "fallback_reason": "timeout"}
ASSISTANT = {"composed_by": "assistant"}


def slack_text(view: dict[str, Any]) -> str:
    return " ".join(e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"])


def surfaces(preview: Preview) -> dict[str, str]:
    shown = {"slack": slack_text(resolve_modal(preview, summary_default="", offer_time_minutes=None))
             if preview.kind == "resolve" else slack_text(escalate_modal(preview, targets=())),
             "console": console_preview(preview)[0]}  # fmt: skip
    if preview.kind == "resolve":
        card = resolution_card(preview, summary_default="", offer_time_minutes=None)
        validate_card(card)
        shown["teams"] = str(card)
    return shown


@pytest.mark.parametrize("kind", ["resolve", "escalate"])
def test_a_grounding_fallback_says_why_on_every_surface(kind: str) -> None:
    for surface, text in surfaces(make(kind, **GROUNDING)).items():
        assert UNGROUNDED in text and "unavailable" not in text, (surface, text)
        assert "10.9.8.7" not in text


def test_an_unavailable_assistant_is_said_on_every_surface() -> None:
    for surface, text in surfaces(make(**UNAVAILABLE)).items():
        assert "unavailable" in text or "without the assistant" in text, (surface, text)
        assert UNGROUNDED not in text, (surface, text)


def test_the_assistants_preview_carries_no_fallback_wording() -> None:
    for surface, text in surfaces(make(**ASSISTANT)).items():
        assert "deterministic" not in text.casefold() and "without the assistant" not in text, (surface, text)
