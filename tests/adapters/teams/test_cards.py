"""Teams cards: every card validates against the Adaptive Card 1.5 schema, buttons round-trip through
`parse_action` in both the invoke and the Action.Submit form, and size limits hold without losing text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft6Validator, ValidationError

from adapters.teams import cards
from adapters.teams.card_actions import KINDS, action_data, input_names, parse_action, verb
from adapters.teams.cards_base import safe, utf16_size
from adapters.teams.cards_forms import form_card
from adapters.teams.settings_actions import is_settings
from core.actions import Action, ActionId
from core.cards import lane_card as neutral_lane
from core.forms import FORMS, FieldKind, FormName
from core.handoffs import Pickup, QueueEntry
from core.metric import DEFINITION, summarize
from core.models import Fact, FactSource, Fix, FixAuthor, Handoff, HandoffIntent, ItemKind, Member, Role, Session, SessionStatus, TaskItem
from core.previews import Preview
from core.sessions import SessionView
from core.views import escalation_post, handoff_view
from tests.adapters.teams.card_schema import card_validator, validate_card

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ANA = Member(account_id=1, name="Ana", role=Role.ENGINEER, created_at=NOW, id=1)
BEN = Member(account_id=1, name="Ben <at>Boss</at>", role=Role.ENGINEER, created_at=NOW, id=2)


def view(*, status: SessionStatus = SessionStatus.ACTIVE, fix: bool = False, proposal: bool = False,
         facts: list[str] | None = None, description: str = "Rebuild the Outlook profile.") -> SessionView:
    session = Session(account_id=1, title="Outlook crashes on start", status=status, created_by=1, handler_id=1,
                      created_at=NOW, updated_at=NOW, ticket_ref="5120", ticket_info={"summary": "Outlook"}, id=42)
    texts = facts if facts is not None else ["Crashes since the update <at>Boss</at>", "Safe mode works"]
    active = Fix(account_id=1, session_id=42, title="Rebuild profile", description=description, confidence=70,
                 author=FixAuthor.ASSISTANT, created_at=NOW, id=9,
                 outcome_proposal={"outcome": "worked"} if proposal else None) if fix else None
    handoff = Handoff(account_id=1, session_id=42, intent=HandoffIntent.ESCALATE, reason="Needs Exchange admin",
                      created_by=1, created_at=NOW, id=77) if status == SessionStatus.ESCALATED else None
    return SessionView(
        session=session, handler=ANA, active_fix=active, escalation=handoff,
        facts=[Fact(account_id=1, session_id=42, seq=n, text=x, source=FactSource.NOTE, created_at=NOW, id=100 + n)
               for n, x in enumerate(texts, 1)],
        items=[TaskItem(account_id=1, session_id=42, kind=ItemKind.QUESTION, seq=1, text="Which version?", created_at=NOW, id=31),
               TaskItem(account_id=1, session_id=42, kind=ItemKind.CHECK, seq=1, text="Check the add-ins", created_at=NOW, id=32)])


def walk(node: Any) -> Any:
    """Every dict in a card, in document order (ShowCard cards and fallbacks included)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def of_type(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [node for node in walk(card) if node.get("type") == kind]


def shown_text(card: dict[str, Any]) -> str:
    return "".join(node["text"] for node in of_type(card, "TextBlock"))


def inputs_of(card: dict[str, Any]) -> dict[str, str]:
    """What a client merges into the data on submit: the inputs of the button's own card (a card
    unfolded by Action.ShowCard, or the card itself), each with its value (or "x", or a choice's
    first option, as a person picks one)."""
    def value(node: dict[str, Any]) -> str:
        if "value" not in node and node["type"] == "Input.ChoiceSet" and node.get("choices"):
            return str(node["choices"][0]["value"])
        return str(node.get("value", "x"))

    return {node["id"]: value(node) for node in own_elements(card) if str(node.get("type", "")).startswith("Input.")}


def own_elements(node: Any) -> Any:
    """Every dict of a card without descending into the cards its ShowCard buttons unfold."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if not (key == "card" and node.get("type") == "Action.ShowCard"):
                yield from own_elements(value)
    elif isinstance(node, list):
        for value in node:
            yield from own_elements(value)


def cards_with_buttons(card: dict[str, Any]) -> Any:
    """The card and each card its ShowCard buttons unfold, with the Execute buttons of each."""
    yield card, [n for n in own_elements(card) if n.get("type") == "Action.Execute"]
    for shown in of_type(card, "Action.ShowCard"):
        yield from cards_with_buttons(shown["card"])


def clicks(card: dict[str, Any]) -> list[tuple[dict[str, Any], Action, Action]]:
    """Each Execute button parsed from its invoke and from its Action.Submit fallback, with the
    inputs a client gathers for it (its own card's, as `associatedInputs: auto` says)."""
    found = []
    for own, buttons in cards_with_buttons(card):
        inputs = inputs_of(own)
        for button in buttons:
            if is_settings(button["data"]):
                continue  # the settings card's own buttons (tests/adapters/teams/test_cards_psa.py)
            invoke = {"action": {"type": "Action.Execute", "verb": button["verb"],
                                 "data": {**button["data"], **inputs}}, "trigger": "manual"}
            assert button["fallback"]["type"] == "Action.Submit"
            found.append((button, parse_action(invoke), parse_action({**button["fallback"]["data"], **inputs})))
    return found


def every_card() -> dict[str, dict[str, Any]]:
    preview = Preview(kind="resolve", session_id=42, state_version=7, markdown="## Summary\nFixed <b>", composed_by="deterministic",
                      fallback_reason="assistant off")
    pickup = Pickup(session=view().session, handoff=Handoff(account_id=1, session_id=42, intent=HandoffIntent.ESCALATE,
                    reason="Needs admin", created_by=1, created_at=NOW, id=77), escalated_by=ANA,
                    package="## Summary\nOutlook crashes\n## Tried\n- safe mode", facts=("F1 x",), tried=("Rebuild: did not work",))
    entry = QueueEntry(session=view().session, handoff=pickup.handoff, escalated_by=ANA)
    post = dict(session_id=42, title="Outlook", ticket="5120", escalated_by="Ana", reason="Needs admin", target="Ben",
                handoff_id=77)
    return {
        "lane": cards.lane_card(neutral_lane(view()), targets=[(2, BEN.name), (3, "Cy")]),
        "lane_fix": cards.lane_card(neutral_lane(view(fix=True))),
        "lane_banner": cards.lane_card(neutral_lane(view(fix=True, proposal=True))),
        "lane_escalated": cards.lane_card(neutral_lane(view(status=SessionStatus.ESCALATED, fix=True))),
        "lane_resolved": cards.lane_card(neutral_lane(view(status=SessionStatus.RESOLVED))),
        "resolution": cards.resolution_card(preview, summary_default="Profile rebuilt", offer_time_minutes=25),
        "post": cards.escalation_post_card(escalation_post(**post, claimed_by=None)),
        "post_claimed": cards.escalation_post_card(escalation_post(**post, claimed_by="Ben")),
        "handoff": cards.handoff_card(handoff_view(pickup)),
        "queue": cards.queue_card([entry]),
        "queue_empty": cards.queue_card([]),
        "stats": cards.stats_card([summarize(7, 3, [30.0, 200.0]), summarize(30, 0, [])]),
        "help": cards.help_card(),
        "form_refused": form_card(ActionId.ESCALATE, 42, values={"reason": "", "note": "n"}, members=[(2, BEN.name)],
                                  error=("reason", "Why escalate is required.")),
        "form_asked": form_card(ActionId.FIX_FAILED, 42, 9),
    }


def test_the_schema_is_draft6_and_refuses_what_teams_would() -> None:
    assert isinstance(card_validator(), Draft6Validator)
    good = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "hi"}]}
    validate_card(good)
    bad_parts = [{"type": "TextBlock"}, {"type": "TextBlock", "text": "x", "bogus": 1},
                 {"type": "ActionSet", "actions": [{"type": "Action.Bogus", "title": "x"}]},
                 {"type": "ActionSet", "actions": [{"type": "Action.Submit", "title": "x", "style": "primary"}]},
                 {"type": "ActionSet", "actions": [{"type": "Action.Execute", "title": "x", "fallback": "Action.Submit"}]},
                 {"type": "Input.Text", "label": "no id"}]
    for part in bad_parts:
        with pytest.raises(ValidationError):
            validate_card({**good, "body": [part]})
    with pytest.raises(ValidationError):
        validate_card({**good, "msteams": {"width": "Full"}})


@pytest.mark.parametrize("name", sorted(every_card()))
def test_every_card_validates_fits_and_its_buttons_round_trip(name: str) -> None:
    card = every_card()[name]
    validate_card(card)
    assert card["version"] == "1.5" and cards.card_size_ok(card)
    for button, invoked, submitted in clicks(card):
        assert invoked == submitted
        assert button["verb"] == verb(invoked.id) and invoked.session_id == 42
        assert set(invoked.values) <= set(input_names(invoked.id))
    assert "<at>" not in json.dumps(card, ensure_ascii=False)


def test_open_lane_buttons_name_objects_by_id_and_unfold_forms() -> None:
    card = every_card()["lane"]
    by_action = {parsed.id: parsed for _, parsed, _ in clicks(card)}
    assert by_action[ActionId.CONFIRM_ITEM].ref in (31, 32)
    assert {b["data"]["r"] for b in of_type(card, "Action.Execute") if b["verb"] == "rf_confirm_item"} == {31, 32}
    assert {ActionId.PREVIEW_RESOLVE, ActionId.PARK, ActionId.ESCALATE, ActionId.ADD_FACT} <= set(by_action)
    forms = {a["title"]: a["card"] for a in of_type(card, "Action.ShowCard")}
    choice = of_type(forms["Escalate"], "Input.ChoiceSet")[0]
    assert choice["id"] == "target" and [c["value"] for c in choice["choices"]] == ["2", "3"]
    assert choice["choices"][0]["title"] == "Ben ＜at>Boss＜/at>"
    assert [i["id"] for i in of_type(forms["Escalate"], "Input.Text")] == ["reason", "note"]
    assert [i["id"] for i in of_type(forms["Add a fact"], "Input.Text")] == ["text"]
    assert "No fix suggested yet." in shown_text(card) and "F1 Crashes since the update ＜at>Boss＜/at>" in shown_text(card)


def test_forms_are_rendered_from_the_declarations() -> None:
    """Label, required (with its error), limit, kind and help of every field come from core/forms.py."""
    lane = every_card()["lane"]
    fix = every_card()["lane_fix"]
    forms = {a["title"]: a["card"] for card in (fix, lane) for a in of_type(card, "Action.ShowCard")}
    shown = {"Escalate": FormName.ESCALATE, "Add a fact": FormName.ADD_FACT, "Partly": FormName.FIX_PARTIAL,
             "Didn't work": FormName.FIX_FAILED, "Confirm in my words…": FormName.CONFIRM_ITEM,
             "Park": FormName.PARK, "Propose a fix": FormName.ADD_FIX}  # the view has its ticket linked already
    for name, form_name in shown.items():
        form, card = FORMS[form_name], forms[name]
        inputs = {n["id"]: n for n in walk(card) if str(n.get("type", "")).startswith("Input.")}
        assert list(inputs) == [f.name for f in form.fields]
        for field in form.fields:
            element = inputs[field.name]
            assert element["label"] == field.label
            assert element.get("isRequired", False) == field.required
            assert ("errorMessage" in element) == field.required
            assert element.get("maxLength") == field.max_chars
            kind = {FieldKind.MEMBER: "Input.ChoiceSet", FieldKind.TOGGLE: "Input.Toggle"}.get(field.kind, "Input.Text")
            assert element["type"] == kind
            if kind == "Input.Text":
                assert element["isMultiline"] == (field.kind == FieldKind.LONG_TEXT)
            if field.help:
                assert field.help in shown_text(card)
        submit, *others = of_type(card, "Action.Execute")
        assert submit["title"] == form.submit and submit["data"]["rf"] == str(form_name)
        assert [b["verb"] for b in others] == (["rf_preview_escalate"] if form_name == FormName.ESCALATE else [])


def test_a_fact_to_edit_or_delete_is_chosen_on_the_card() -> None:
    """R5: only notes are offered for editing (with the edit form); every fact for deleting. The
    choice comes back as the action's object."""
    card = every_card()["lane"]
    forms = {a["title"]: a["card"] for a in of_type(card, "Action.ShowCard")}
    for title, action, inputs in (("Edit a fact…", ActionId.EDIT_FACT, ["rf_ref", "text"]),
                                  ("Delete a fact…", ActionId.DELETE_FACT, ["rf_ref"])):
        form = forms[title]
        assert [n["id"] for n in walk(form) if str(n.get("type", "")).startswith("Input.")] == inputs
        [picker] = of_type(form, "Input.ChoiceSet")
        assert picker["isRequired"] and picker["choices"]
        [submit] = of_type(form, "Action.Execute")
        chosen = parse_action({**submit["data"], "rf_ref": picker["choices"][0]["value"], "text": "new"})
        assert chosen.id == action and chosen.ref == int(picker["choices"][0]["value"])
    for forged in ("x", "-1", "1e3", "9" * 20, 5):
        with pytest.raises(ValueError):
            parse_action({"rf": "delete_fact", "s": 42, "rf_ref": forged})


def test_each_open_item_can_be_confirmed_in_own_words() -> None:
    card = every_card()["lane"]
    own = [a for a in of_type(card, "Action.ShowCard") if a["title"] == "Confirm in my words…"]
    assert len(own) == 2
    for show, item in zip(own, (31, 32), strict=True):
        [text] = of_type(show["card"], "Input.Text")
        [submit] = of_type(show["card"], "Action.Execute")
        assert (text["id"], submit["verb"], submit["data"]["r"]) == ("text", "rf_confirm_item", item)
        parsed = parse_action({"action": {"type": "Action.Execute", "verb": submit["verb"],
                                          "data": {**submit["data"], "text": "Outlook 2021"}}})
        assert parsed == Action(id=ActionId.CONFIRM_ITEM, session_id=42, ref=item, values={"text": "Outlook 2021"})
    assert not [a for a in of_type(every_card()["lane_escalated"], "Action.ShowCard")]


def test_a_refused_form_comes_back_with_the_error_by_its_field() -> None:
    card = every_card()["form_refused"]
    body = card["body"]
    at = next(i for i, n in enumerate(body) if n.get("id") == "reason")
    after = [n for n in body[at + 1:at + 4] if n.get("type") == "TextBlock"]
    assert any(n["text"] == "Why escalate is required." and n.get("color") == "Attention" for n in after)
    assert next(n for n in body if n.get("id") == "note")["value"] == "n"
    [(_, parsed, _)] = clicks(card)
    assert parsed.id == ActionId.ESCALATE and set(parsed.values) == {"reason", "target", "note"}
    [(_, asked, _)] = clicks(every_card()["form_asked"])
    assert (asked.id, asked.ref) == (ActionId.FIX_FAILED, 9)


def test_fix_outcome_forms_and_banner() -> None:
    card = every_card()["lane_banner"]
    forms = {a["title"]: a["card"] for a in of_type(card, "Action.ShowCard")}
    assert of_type(forms["Partly"], "Input.Text")[0]["id"] == "notes"
    assert of_type(forms["Didn't work"], "Input.Text")[0]["id"] == "reason"
    parsed = {p.id: p for _, p, _ in clicks(card)}
    assert parsed[ActionId.FIX_PARTIAL].ref == parsed[ActionId.FIX_FAILED].ref == 9
    assert parsed[ActionId.APPLY_FIX].ref == parsed[ActionId.OUTCOME_CONFIRM].ref == 9
    banner = [c for c in of_type(card, "Container") if c.get("style") == "warning"]
    assert len(banner) == 1 and "Confirm outcome?" in shown_text(banner[0])
    assert {b["title"] for b in of_type(banner[0], "Action.Execute")} == {"Confirm", "Not yet"}
    assert not [c for c in of_type(every_card()["lane_fix"], "Container") if c.get("style") == "warning"]


def test_escalated_lane_offers_only_pick_up_and_resolved_none() -> None:
    parsed = [p for _, p, _ in clicks(every_card()["lane_escalated"])]
    assert [(p.id, p.ref) for p in parsed] == [(ActionId.PICKUP, 77)]
    assert clicks(every_card()["lane_resolved"]) == [] and not of_type(every_card()["lane_resolved"], "Action.ShowCard")


def test_escalation_post_before_and_after_claim() -> None:
    open_post, claimed = every_card()["post"], every_card()["post_claimed"]
    [(_, pick, _)] = clicks(open_post)
    assert (pick.id, pick.session_id, pick.ref) == (ActionId.PICKUP, 42, 77)
    assert clicks(claimed) == [] and "Picked up by Ben." in shown_text(claimed)
    assert {f["title"]: f["value"] for f in of_type(open_post, "FactSet")[0]["facts"]}["Ticket"] == "#5120"


def test_resolution_card_is_an_editable_form_at_its_version() -> None:
    card = every_card()["resolution"]
    note, summary = of_type(card, "Input.Text")
    assert (note["id"], note["value"], note["maxLength"], note["isMultiline"]) == ("note", "## Summary\nFixed <b>", 20000, True)
    assert (summary["id"], summary["maxLength"], summary["value"]) == ("summary", 500, "Profile rebuilt")
    assert of_type(card, "Input.Toggle")[0]["id"] == "log_time"
    [(_, parsed, _)] = clicks(card)
    assert (parsed.id, parsed.values["note"], parsed.values["summary"]) == (
        ActionId.RESOLVE, "## Summary\nFixed <b>", "Profile rebuilt")
    assert "25 minutes" in shown_text(card)
    assert "without the assistant (assistant off)" in shown_text(card)
    plain = cards.resolution_card(Preview(kind="resolve", session_id=42, state_version=1, markdown="n", composed_by="assistant"),
                                  summary_default="", offer_time_minutes=None)
    assert not of_type(plain, "Input.Toggle") and "without the assistant" not in shown_text(plain)
    with pytest.raises(ValueError):
        cards.resolution_card(Preview(kind="escalate", session_id=42, state_version=1, markdown="n", composed_by="x"),
                              summary_default="", offer_time_minutes=None)


def test_handoff_queue_stats_and_help_say_what_they_must() -> None:
    every = every_card()
    assert "**Summary**\nOutlook crashes" in shown_text(every["handoff"]) and "Rebuild: did not work" in shown_text(every["handoff"])
    assert "{{DATE(2025-03-01T12:00:00Z, SHORT)}}" in shown_text(every["queue"])
    assert [p.ref for _, p, _ in clicks(every["queue"])] == [77]
    assert "No escalations are awaiting pickup." in shown_text(every["queue_empty"])
    stats = shown_text(every["stats"])
    assert DEFINITION in stats and "Last 30 days" in stats
    assert ["115s", "115s", "3.3min"] == [f["value"] for f in of_type(every["stats"], "FactSet")[0]["facts"][2:]]
    for command in ("help", "new", "queue", "stats", "escalations here", "connect"):
        assert f"**{command}**" in shown_text(every["help"])


def test_a_long_lane_splits_text_into_blocks_and_keeps_all_of_it() -> None:
    facts = [f"fact number {n} " + "detail " * 20 for n in range(60)]
    description = ("A long paragraph of steps. " * 40 + "\n\n") * 28
    description = description[:30_000]
    render = cards.render_lane(neutral_lane(view(fix=True, facts=facts, description=description)))
    validate_card(render.card)
    assert cards.card_size_ok(render.card)
    shown = shown_text(render.card)
    assert all(f"F{n} {text}" in shown for n, text in enumerate(facts, 1))
    assert description in shown or any(description in extra for extra in render.overflow)
    assert max(len(b["text"]) for b in of_type(render.card, "TextBlock")) <= 4000
    assert len(clicks(render.card)) >= 8  # every button survives


def test_an_oversized_lane_moves_text_out_visibly_and_loses_nothing() -> None:
    facts = [f"{n:02d} " + "x" * 990 for n in range(60)]
    description = "word " * 6_000
    neutral = neutral_lane(view(fix=True, facts=facts, description=description))
    render = cards.render_lane(neutral)
    validate_card(render.card)
    assert cards.card_size_ok(render.card) and render.overflow
    shown, overflow = shown_text(render.card), "\n".join(render.overflow)
    assert "more, posted in the conversation below" in shown
    for section in neutral.sections:
        for line in section.lines:
            assert safe(line.text) in shown or safe(line.text) in overflow, line.text[:40]
    assert {p.id for _, p, _ in clicks(render.card)} == {p.id for _, p, _ in clicks(cards.render_card(neutral))}


def test_long_queues_count_what_does_not_fit() -> None:
    entries = [QueueEntry(session=view().session, handoff=Handoff(account_id=1, session_id=42, intent=HandoffIntent.ESCALATE,
                          reason="r" * 500, created_by=1, created_at=NOW, id=n), escalated_by=ANA) for n in range(1, 301)]
    card = cards.queue_card(entries)
    validate_card(card)
    shown_count = len(clicks(card))
    assert cards.card_size_ok(card) and 0 < shown_count < 300
    assert f"…and {300 - shown_count} more awaiting pickup." in shown_text(card)


def test_card_size_ok_refuses_a_card_over_the_limit() -> None:
    huge = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "é" * 50_000}]}
    assert not cards.card_size_ok(huge)
    assert cards.card_size_ok({**huge, "body": [{"type": "TextBlock", "text": "é" * 40_000}]})


KNOWN = sorted(KINDS)
ids = st.integers(min_value=1, max_value=2**63 - 1)
texts = st.text(max_size=50)


@given(st.sampled_from(KNOWN), ids, st.none() | ids, st.data())
def test_what_buttons_carry_parses_back_in_both_forms(name: str, session: int, ref: int | None,
                                                      draw: st.DataObject) -> None:
    kind = KINDS[name]
    names = input_names(kind)
    inputs = draw.draw(st.dictionaries(st.sampled_from(names), texts)) if names else {}
    data = {**action_data(kind, session, ref), **inputs, "not_a_field": "ignored"}
    expected = Action(id=kind, session_id=session, ref=ref, values=inputs)
    wire = json.loads(json.dumps(data))
    assert parse_action(wire) == expected
    assert parse_action({"action": {"type": "Action.Execute", "verb": verb(kind), "data": wire}}) == expected


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
                           max_leaves=12)


@given(json_values)
def test_garbage_never_parses(value: object) -> None:
    with pytest.raises(ValueError):
        parse_action(value)


@given(st.dictionaries(st.sampled_from(["rf", "s", "r", "v", "note"]), json_values),
       st.text().filter(lambda s: s not in KINDS))
def test_without_a_known_action_nothing_parses(data: dict[str, object], unknown: str) -> None:
    for rf in (unknown, 1, None, True):
        with pytest.raises(ValueError):
            parse_action({**data, "rf": rf})
        with pytest.raises(ValueError):
            parse_action({"action": {"type": "Action.Execute", "verb": f"rf_{rf}", "data": {**data, "rf": rf}}})


@pytest.mark.parametrize("change", [
    {"s": True}, {"s": "42"}, {"s": 0}, {"s": -1}, {"s": 4.0}, {"s": 2**63}, {"r": 0}, {"r": "9"}, {"r": False},
    {"note": 5}, {"reason": None}, {"target": 2}, {"rf": "ESCALATE"},
])
def test_a_damaged_field_is_refused(change: dict[str, object]) -> None:
    data = {**action_data(ActionId.ESCALATE, 42, 77), **change}
    with pytest.raises(ValueError):
        parse_action(data)
    with pytest.raises(ValueError):
        parse_action({"action": {"type": "Action.Execute", "verb": "rf_escalate", "data": data}})


@pytest.mark.parametrize("action", [
    {"type": "Action.Execute", "verb": "rf_park", "data": {"rf": "pickup", "s": 1}},
    {"type": "Action.Submit", "verb": "rf_pickup", "data": {"rf": "pickup", "s": 1}},
    {"type": "Action.Execute", "verb": "rf_pickup", "data": json.dumps({"rf": "pickup", "s": 1})}, "rf_pickup", None,
])
def test_an_invoke_must_be_a_consistent_execute(action: object) -> None:
    with pytest.raises(ValueError):
        parse_action({"action": action})


@given(st.text(), st.integers(min_value=4, max_value=300))
def test_message_chunks_join_back_and_fit(text: str, limit: int) -> None:
    parts = cards.message_chunks(text, limit)
    assert "".join(parts) == text
    assert all(part and utf16_size(part) <= limit for part in parts)


def test_message_chunks_cut_at_paragraphs_and_stay_far_under_teams_limit() -> None:
    paragraph = "A sentence about the fix, with ümlauts and 😀. " * 50 + "\n\n"
    text = paragraph * 60
    parts = cards.message_chunks(text)
    assert "".join(parts) == text and len(parts) > 1
    assert all(utf16_size(p) <= 28_000 for p in parts) and all(p.endswith("\n\n") for p in parts)
    with pytest.raises(ValueError):
        cards.message_chunks("x", 3)
