"""The deterministic note and package as people read them (R13, R16), compared with committed
snapshots under tests/unit/snapshots/compose_*.md (apart from tests/snapshots/, which holds
the surfaces' renderings of core/views.py only). After a deliberate wording change, rewrite them with
`RF_UPDATE_SNAPSHOTS=1` and read the diff."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from core.compose import compose_escalation, compose_resolution
from tests.unit.compose_cases import CASES, ESCALATED

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("RF_UPDATE_SNAPSHOTS") == "1"


def matches_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        path.write_text(text + "\n", encoding="utf-8")
    assert path.exists(), f"no snapshot {name}: run with RF_UPDATE_SNAPSHOTS=1 and read it"
    assert text + "\n" == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", CASES)
def test_resolution_note(name: str) -> None:
    matches_snapshot(f"compose_note_{name}.md", compose_resolution(CASES[name]))


@pytest.mark.parametrize("name", CASES)
def test_escalation_package(name: str) -> None:
    bundle = replace(CASES[name], kind="escalate", reason="The customer asks for a second opinion", target=None)
    matches_snapshot(f"compose_package_{name}.md", compose_escalation(bundle))


def test_escalated_with_a_target_and_an_engineers_fix() -> None:
    matches_snapshot("compose_package_escalated.md", compose_escalation(ESCALATED))
