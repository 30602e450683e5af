"""The escalation post, the handoff and the pickup result (core/views.py) rendered by each surface,
compared with committed snapshots under tests/snapshots/. After a deliberate change, rewrite them
with `RF_UPDATE_SNAPSHOTS=1` and read the diff. Slack and Teams must show the same fields in the
same order, and every payload must be one the platform accepts."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from adapters.console import render as console
from adapters.slack import blocks as slack
from adapters.slack.limits import check_blocks, message_chunks
from adapters.teams import cards as teams
from core.events import EscalationClaimed
from core.views import (
    EscalationPostView,
    HandoffView,
    PickupResultView,
    escalation_post,
    handoff_view,
    pickup_result,
)
from tests.adapters.slack import factories as f
from tests.adapters.teams.card_schema import validate_card

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"
UPDATE = os.environ.get("RF_UPDATE_SNAPSHOTS") == "1"
PACKAGE = "## Problem\nPrinter PRN-02 is offline.\n\n## What we've tried\n- Restart the <spooler>\n\n## Next steps\nCheck the GPO."


def post(claimed_by: str | None) -> EscalationPostView:
    return escalation_post(session_id=7, handoff_id=900, title="Printer offline", ticket="4521", escalated_by="Alice",
                           reason="Needs domain admin & GPO access", target="Bob", claimed_by=claimed_by)


def handoff() -> HandoffView:
    return handoff_view(f.pickup(package=PACKAGE))


def picked_up() -> PickupResultView:
    return pickup_result(EscalationClaimed(
        account_id=1, session_id=7, handoff_id=900, title="Printer offline", claimed_by_id=12, claimed_by="Bob",
        escalated_by_id=11, escalated_by="Alice", package=PACKAGE, facts=(), tried=(), thread_ref=None, surface="slack"))


def slack_post(view: EscalationPostView) -> dict[str, Any]:
    text, blocks = slack.escalation_post_blocks(view)
    check_blocks(blocks, surface="message")
    return {"text": text, "blocks": blocks}


def slack_handoff(view: HandoffView) -> dict[str, Any]:
    delivery = slack.handoff_dm_delivery(view)
    for _, blocks in delivery.messages:
        check_blocks(blocks, surface="message")
    return {"messages": [{"text": t, "blocks": b} for t, b in delivery.messages], "snippet": delivery.snippet,
            "filename": delivery.filename}


def slack_pickup(view: PickupResultView) -> dict[str, Any]:
    delivery = message_chunks(slack.pickup_result_text(view))  # how `say` posts it in the thread
    for _, blocks in delivery.messages:
        check_blocks(blocks, surface="message")
    return {"messages": [{"text": t, "blocks": b} for t, b in delivery.messages]}


def teams_card(card: dict[str, Any]) -> dict[str, Any]:
    validate_card(card)
    return card


def teams_handoff(view: HandoffView) -> dict[str, Any]:
    rendered = teams.render_handoff(view)
    return {"card": teams_card(rendered.card), "overflow": list(rendered.overflow)}


RENDERINGS: dict[str, Any] = {
    "post_awaiting.slack.json": lambda: slack_post(post(None)),
    "post_awaiting.teams.json": lambda: teams_card(teams.escalation_post_card(post(None))),
    "post_awaiting.console.txt": lambda: console.escalation_post(post(None)),
    "post_claimed.slack.json": lambda: slack_post(post("Bob")),
    "post_claimed.teams.json": lambda: teams_card(teams.escalation_post_card(post("Bob"))),
    "post_claimed.console.txt": lambda: console.escalation_post(post("Bob")),
    "handoff.slack.json": lambda: slack_handoff(handoff()),
    "handoff.teams.json": lambda: teams_handoff(handoff()),
    "handoff.console.txt": lambda: console.handoff(handoff()),
    "pickup_result.slack.json": lambda: slack_pickup(picked_up()),
    "pickup_result.teams.txt": lambda: [teams.pickup_result_text(picked_up())],
    "pickup_result.console.txt": lambda: [console.pickup_result(picked_up())],
}


def serialized(name: str, value: Any) -> str:
    if name.endswith(".txt"):
        return "\n".join(value) + "\n"
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


@pytest.mark.parametrize("name", sorted(RENDERINGS))
def test_rendering_matches_its_snapshot(name: str) -> None:
    rendered = serialized(name, RENDERINGS[name]())
    path = SNAPSHOTS / name
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; write it with RF_UPDATE_SNAPSHOTS=1 and read it"
    assert rendered == path.read_text(encoding="utf-8"), f"{name} differs from its snapshot (RF_UPDATE_SNAPSHOTS=1 rewrites it)"


def test_every_snapshot_file_has_a_rendering() -> None:
    assert sorted(p.name for p in SNAPSHOTS.iterdir()) == sorted(RENDERINGS)


LABEL = re.compile(r"^\*([^*\n]+)\*$", re.MULTILINE)  # "*Ticket*\n#4521" and a section's "*What we know*"


def slack_labels(blocks: list[dict[str, Any]]) -> list[str]:
    texts = []
    for block in blocks:
        texts += [x["text"] for x in block.get("fields", [])]
        if block["type"] == "section" and "text" in block:
            texts.append(block["text"]["text"])
    return [label for text in texts for label in LABEL.findall(text)]


def teams_labels(card: dict[str, Any]) -> list[str]:
    labels = []
    for node in card["body"]:
        if node["type"] == "FactSet":
            labels += [fact["title"] for fact in node["facts"]]
        elif node["type"] == "TextBlock" and node.get("separator"):
            labels.append(node["text"])
    return labels


def console_labels(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        if line.startswith("── "):
            out.append(line[3:])
        elif ": " in line and " · " in line:
            out += [part.split(": ", 1)[0].strip() for part in line.split(" · ")]
    return out


@pytest.mark.parametrize("claimed_by", [None, "Bob"])
def test_the_post_shows_the_same_fields_in_the_same_order_everywhere(claimed_by: str | None) -> None:
    view = post(claimed_by)
    expected = [x.label for x in view.fields]
    assert expected == ["Ticket", "Escalated by", "Asked for", "Reason"]
    assert slack_labels(slack_post(view)["blocks"]) == expected
    assert teams_labels(teams.escalation_post_card(view)) == expected
    assert console_labels(console.escalation_post(view)) == expected


def test_the_handoff_shows_the_same_fields_and_sections_in_the_same_order_everywhere() -> None:
    view = handoff()
    expected = [x.label for x in view.fields] + [s.heading for s in view.sections]
    assert expected == ["Ticket", "Escalated by", "Reason", "What we know", "What was tried", "Escalation package"]
    slack_blocks = [b for m in slack_handoff(view)["messages"] for b in m["blocks"]]
    package_headings = ["Problem", "What we've tried", "Next steps"]  # the package's own, as bold lines
    assert [x for x in slack_labels(slack_blocks) if x not in package_headings] == expected
    assert teams_labels(teams.render_handoff(view).card) == expected
    assert console_labels(console.handoff(view)) == expected


def test_the_pickup_result_says_the_same_everywhere() -> None:
    view = picked_up()
    said = f"{view.headline} {view.next_step}"
    assert said == ("Bob picked up this session from Alice and is on it. "
                    "Bob is its handler now: changes to the session are theirs (and admins').")
    assert said in slack.pickup_result_text(view) and said in teams.pickup_result_text(view)
    assert said in console.pickup_result(view)
