"""Modals and App Home: valid views, the submission round trip, R15's inline errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack.actions import (
    NOTE_BLOCK,
    SETTINGS_CALLBACK,
    ModalMeta,
    decode_metadata,
    decode_value,
    read_submission,
)
from adapters.slack.limits import check_view
from adapters.slack.views import (
    escalate_modal,
    form_modal,
    home_view,
    loading_modal,
    message_modal,
    note_parts,
    resolve_modal,
    settings_modal,
    settings_values,
    submission_errors,
)
from core.actions import ActionId
from core.forms import FORMS, FormName
from core.metric import DEFINITION, summarize
from core.previews import Preview
from tests.adapters.slack import factories as f


def preview(markdown: str, **kw: Any) -> Preview:
    return Preview(kind="resolve", session_id=7, state_version=3, markdown=markdown, composed_by=kw.pop("composed_by", "assistant"), **kw)


def submit(view: dict[str, Any], edits: dict[str, str | None] | None = None) -> dict[str, str | None]:
    """What Slack sends back for this view: each input's initial value, with `edits` typed over it."""
    edits = edits or {}
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind = element["type"]
        if kind == "plain_text_input":
            value = edits.get(block["block_id"], element.get("initial_value"))
            state[block["block_id"]] = {element["action_id"]: {"type": kind, "value": value}}
        elif kind == "checkboxes":
            chosen = [o for o in element["options"] if o["value"] == edits.get(block["block_id"])]
            state[block["block_id"]] = {element["action_id"]: {"type": kind, "selected_options": chosen}}
        elif kind == "static_select":
            picked = edits.get(block["block_id"])
            state[block["block_id"]] = {element["action_id"]: {
                "type": kind, "selected_option": {"value": picked} if picked else None}}
        elif kind == "conversations_select":
            state[block["block_id"]] = {element["action_id"]: {
                "type": kind, "selected_conversation": edits.get(block["block_id"], element.get("initial_conversation"))}}
    joins = decode_metadata(view["private_metadata"]).joins if "private_metadata" in view else ()
    return read_submission(state, joins=joins)


SUMMARY_BLOCK, TIME_BLOCK, REASON_BLOCK, TARGET_BLOCK, TEXT_BLOCK = "summary", "log_time", "reason", "target", "text"


def input_ids(view: dict[str, Any]) -> set[str]:
    return {b["block_id"] for b in view["blocks"] if b["type"] == "input"}


def test_the_loading_modal_opens_at_once_and_fits_any_title() -> None:
    view = loading_modal("Resolution note for a very long session", "rf_resolve")
    assert view["type"] == "modal" and view["callback_id"] == "rf_resolve"
    assert len(view["title"]["text"]) <= 24 and view["title"]["text"].endswith("…")
    assert "submit" not in view
    with pytest.raises(ValueError, match="callback_id"):
        loading_modal("Loading", "rf_" + "x" * 300)  # the builders check what they return


def test_a_message_modal_only_says_something() -> None:
    view = message_modal("ResolutionFlow", "You can't do <that> & this.")
    assert "submit" not in view and view["close"]["text"] == "Close"
    assert view["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": "You can't do &lt;that&gt; &amp; this."}}]


def test_a_short_note_is_one_box_and_comes_back_as_typed() -> None:
    note = "## Problem\nPrinter offline.\n\n## Resolution\nRestarted the spooler."
    view = resolve_modal(preview(note), summary_default="Restarted the spooler.", offer_time_minutes=None)
    assert view["callback_id"] == "rf_resolve" and view["submit"]["text"] == "Post"
    assert input_ids(view) == {"note_1", SUMMARY_BLOCK}
    note_input = next(b for b in view["blocks"] if b.get("block_id") == "note_1")["element"]
    assert note_input["initial_value"] == note and note_input["max_length"] == 3000 and note_input["multiline"]
    meta = decode_metadata(view["private_metadata"])
    assert (meta.session_id, meta.version) == (7, 3)
    values = submit(view, {"note_1": note + "\nEdited."})
    assert values[NOTE_BLOCK] == note + "\nEdited."
    assert values[SUMMARY_BLOCK] == "Restarted the spooler."
    assert submission_errors("rf_resolve", values) == {}


def test_the_resolve_modal_offers_time_and_says_when_composed_deterministically() -> None:
    view = resolve_modal(preview("note", composed_by="deterministic", fallback_reason="timeout"),
                         summary_default="", offer_time_minutes=37)
    texts = " ".join(e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"])
    assert "Composed deterministically" in texts and "(timeout)" in texts
    time = next(b for b in view["blocks"] if b.get("block_id") == TIME_BLOCK)
    assert time["element"]["options"][0]["text"]["text"] == "Log 37 minutes on the ticket"
    assert submit(view, {TIME_BLOCK: "true"})[TIME_BLOCK] == "true"
    assert submit(view)[TIME_BLOCK] is None
    plain = resolve_modal(preview("note"), summary_default="", offer_time_minutes=None)
    assert TIME_BLOCK not in input_ids(plain)
    assert "deterministically" not in str(plain)


def test_a_50000_character_note_is_split_over_boxes_never_cut() -> None:
    note = "\n\n".join(f"## Section {i}\n" + "The spooler & <queue> were reset. " * 30 for i in range(50))
    assert len(note) > 50_000
    view = resolve_modal(preview(note), summary_default="x" * 900, offer_time_minutes=5)
    parts = [b for b in view["blocks"] if b.get("block_id", "").startswith("note_")]
    assert len(parts) >= 17 and len(view["blocks"]) <= 100
    assert all(len(p["element"].get("initial_value", "")) <= p["element"]["max_length"] == 3000 for p in parts)
    texts = str(view)
    assert "split over" in texts and "at most 20,000 can be posted" in texts
    values = submit(view)
    assert values[NOTE_BLOCK] == note  # joined back exactly
    assert len(values[SUMMARY_BLOCK] or "") <= 500
    errors = submission_errors("rf_resolve", values)
    assert set(errors) == {"note_1"} and f"{len(note.strip()):,} characters; at most 20,000" in errors["note_1"]


@settings(max_examples=60)
@given(text=st.text(alphabet=st.sampled_from("ab \n\t#"), max_size=9000))
def test_note_parts_join_back_exactly(text: str) -> None:
    parts, joins = note_parts(text)
    assert all(len(p) <= 3000 for p in parts)
    assert len(joins) == len(parts) - 1 and all(not j.strip() for j in joins)
    view = resolve_modal(preview(text), summary_default="", offer_time_minutes=None)
    assert submit(view)[NOTE_BLOCK] == text


@pytest.mark.parametrize("callback, block, sizes, required", [
    ("rf_resolve", NOTE_BLOCK, {1: True, 20_000: True, 20_001: False}, False),  # empty: written from the session
    ("rf_resolve", SUMMARY_BLOCK, {500: True, 501: False}, False),
    ("rf_escalate", REASON_BLOCK, {1: True, 500: True, 501: False}, True),
    ("rf_add_fact", TEXT_BLOCK, {1: True, 1000: True, 1001: False}, True),
    ("rf_edit_fact", TEXT_BLOCK, {1000: True, 1001: False}, True),
    ("rf_confirm_item", TEXT_BLOCK, {1000: True, 1001: False}, False),  # empty: the assistant words it
    ("rf_fix_partial", "notes", {1: True, 3000: True, 3001: False}, True),
    ("rf_fix_failed", REASON_BLOCK, {3000: True, 3001: False}, False),
])
def test_submission_limits_are_core_s_at_their_boundaries(callback: str, block: str, sizes: dict[int, bool],
                                                          required: bool) -> None:
    error_key = "note_1" if block == NOTE_BLOCK else block
    for size, ok in sizes.items():
        errors = submission_errors(callback, {block: "n" * size})
        assert (errors == {}) is ok, (size, errors)
        if not ok:
            assert error_key in errors and f"{size:,}" in errors[error_key]
    for empty in ("", None, "   \n"):
        assert (error_key in submission_errors(callback, {block: empty})) is required


def modals() -> dict[str, dict[str, Any]]:
    meta = ModalMeta(session_id=7, fix_id=55)
    return {"resolve": resolve_modal(preview("x"), summary_default="", offer_time_minutes=None),
            "escalate": escalate_modal(preview("p"), targets=[]),
            "fact": form_modal(ActionId.ADD_FACT, ModalMeta(session_id=7)),
            "partial": form_modal(ActionId.FIX_PARTIAL, meta), "failed": form_modal(ActionId.FIX_FAILED, meta),
            "own words": form_modal(ActionId.CONFIRM_ITEM, ModalMeta(session_id=7, item_id=31)),
            "settings": settings_modal({})}


def test_error_keys_name_real_input_blocks() -> None:
    bad = {NOTE_BLOCK: "n" * 20_001, SUMMARY_BLOCK: "s" * 501, REASON_BLOCK: "r" * 5000, TEXT_BLOCK: "t" * 3001,
           "notes": "t" * 3001, "time_zone": "Mars/Olympus"}
    for kind, view in modals().items():
        errors = submission_errors(view["callback_id"], bad)
        assert errors and set(errors) <= input_ids(view), kind
    with pytest.raises(ValueError):
        submission_errors("rf_nope", {})


def test_modals_are_rendered_from_core_s_form_declarations() -> None:
    names = {"resolve": FormName.RESOLVE, "escalate": FormName.ESCALATE, "fact": FormName.ADD_FACT,
             "partial": FormName.FIX_PARTIAL, "failed": FormName.FIX_FAILED, "own words": FormName.CONFIRM_ITEM}
    for kind, view in modals().items():
        if kind not in names:
            continue
        form = FORMS[names[kind]]
        assert view["title"]["text"] == form.title and view["submit"]["text"] == form.submit, kind
        inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
        for field in form.fields:
            block = inputs.get("note_1" if field.name == NOTE_BLOCK else field.name)
            if block is None:
                assert field.kind in ("member", "toggle"), (kind, field.name)  # no colleagues, no time to log
                continue
            assert block["label"]["text"] == field.label and bool(block.get("optional")) is not field.required
            assert block.get("hint", {}).get("text") == field.help, (kind, field.name)
            element = block["element"]
            assert element.get("multiline", False) is (field.kind == "long_text")
            assert element["max_length"] == min(field.max_chars or 3000, 3000)


def test_confirm_in_my_words_names_the_item_and_may_be_left_empty() -> None:
    view = form_modal(ActionId.CONFIRM_ITEM, ModalMeta(session_id=7, item_id=31))
    assert view["callback_id"] == "rf_confirm_item" and view["title"]["text"] == "Confirm as a fact"
    meta = decode_metadata(view["private_metadata"])
    assert (meta.session_id, meta.item_id, meta.ref) == (7, 31, 31)
    (box,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert box["block_id"] == TEXT_BLOCK and box["optional"] is True and box["element"]["max_length"] == 1000
    assert submit(view, {TEXT_BLOCK: "Every printer on floor 2"})[TEXT_BLOCK] == "Every printer on floor 2"


def test_the_escalate_modal_has_reason_target_and_the_package_to_edit() -> None:
    targets = [(i, f"Member {i}") for i in range(150)]
    package = "## Problem\nPrinter <!here> & spooler.\n\n" + "We tried things. " * 1200  # ~20k
    view = escalate_modal(preview(package), targets=targets)
    assert view["callback_id"] == "rf_escalate" and view["submit"]["text"] == "Escalate"
    reason = next(b for b in view["blocks"] if b.get("block_id") == REASON_BLOCK)
    assert reason["element"]["max_length"] == 500 and not reason.get("optional")
    target = next(b for b in view["blocks"] if b.get("block_id") == TARGET_BLOCK)
    assert len(target["element"]["options"]) == 100 and target["optional"]
    assert "first 100 of 150" in str(view) and "never customer-visible" in str(view)
    meta = decode_metadata(view["private_metadata"])
    assert (meta.session_id, meta.version) == (7, 3)
    values = submit(view, {REASON_BLOCK: "Needs admin", TARGET_BLOCK: "12"})
    assert (values[REASON_BLOCK], values[TARGET_BLOCK], values[NOTE_BLOCK]) == ("Needs admin", "12", package)
    no_targets = escalate_modal(preview("p"), targets=[])
    assert TARGET_BLOCK not in input_ids(no_targets)


def test_partial_failed_and_fact_modals_remember_what_they_act_on() -> None:
    partial = form_modal(ActionId.FIX_PARTIAL, ModalMeta(session_id=7, fix_id=55))
    assert partial["callback_id"] == "rf_fix_partial" and decode_metadata(partial["private_metadata"]).fix_id == 55
    failed = form_modal(ActionId.FIX_FAILED, ModalMeta(session_id=7, fix_id=55))
    assert failed["callback_id"] == "rf_fix_failed" and failed["blocks"][0]["optional"] is True
    add = form_modal(ActionId.ADD_FACT, ModalMeta(session_id=7))
    assert add["title"]["text"] == "Add a fact" and decode_metadata(add["private_metadata"]).fact_id is None
    edit = form_modal(ActionId.EDIT_FACT, ModalMeta(session_id=7, fact_id=101), initial={"text": "Printer is PRN-02"})
    assert edit["title"]["text"] == "Edit a fact" and decode_metadata(edit["private_metadata"]).fact_id == 101
    assert submit(edit)[TEXT_BLOCK] == "Printer is PRN-02"
    assert submit(failed, {REASON_BLOCK: "Still offline"})[REASON_BLOCK] == "Still offline"
    long_fact = "Printer <x> " * 420  # 5040 chars, more than a fact may hold
    too_long = form_modal(ActionId.EDIT_FACT, ModalMeta(session_id=7, fact_id=101), initial={"text": long_fact})
    assert "initial_value" not in too_long["blocks"][-1]["element"]
    shown = "".join(b["text"]["text"] for b in too_long["blocks"] if b["type"] == "section")
    assert f.words(shown) == f.words(long_fact.replace("<", "&lt;").replace(">", "&gt;"))


def test_settings_show_current_prefs_and_read_back() -> None:
    """The channel and the zone; time entries and the PSA's statuses live behind the PSA panel's
    buttons (test_psa_views.py), so saving these never overwrites them."""
    prefs = {"slack_escalation_channel": "C0ESC", "time_entries": True}
    view = settings_modal(prefs)
    assert view["callback_id"] == "rf_settings"
    channel = view["blocks"][0]["element"]
    assert channel["type"] == "conversations_select" and channel["default_to_current_conversation"] is False
    assert channel["initial_conversation"] == "C0ESC"
    values = submit(view)
    assert submission_errors(SETTINGS_CALLBACK, values) == {}
    assert settings_values(values) == {"slack_escalation_channel": "C0ESC"}
    empty = settings_modal({})
    assert "initial_conversation" not in empty["blocks"][0]["element"]
    assert settings_values(submit(empty)) == {"slack_escalation_channel": None}
    assert input_ids(view) == {"channel", "time_zone"}


def test_settings_take_the_time_zone_core_accepts() -> None:
    """The account's zone (dates in notes are written in it): shown, checked inline with core's
    rule, stored in its canonical spelling by core, and left alone when the box is empty."""
    view = settings_modal({"time_zone": "Europe/Amsterdam"})
    [zone] = [b for b in view["blocks"] if b.get("block_id") == "time_zone"]
    assert zone["element"]["initial_value"] == "Europe/Amsterdam" and zone["optional"] is True
    refused = submission_errors(SETTINGS_CALLBACK, {"time_zone": "Mars/Olympus"})
    assert list(refused) == ["time_zone"] and "Mars/Olympus" in refused["time_zone"], refused
    assert submission_errors(SETTINGS_CALLBACK, {"time_zone": "europe/amsterdam"}) == {}
    assert settings_values(submit(view))["time_zone"] == "Europe/Amsterdam"
    assert "time_zone" not in settings_values(submit(view, {"time_zone": ""}))


def test_home_without_metrics_lists_sessions_and_the_queue_with_pick_up() -> None:
    sessions = [f.session(i, title=f"Session <{i}>") for i in range(1, 31)]
    queue = [f.queue_entry(40 + i, 900 + i, reason="Needs <!channel> admin") for i in range(3)]
    view = home_view(sessions=sessions, queue=queue, metrics=None, links={1: "https://x.slack.com/archives/C1/p1"})
    check_view(view)
    assert view["type"] == "home" and "title" not in view
    text = str(view)
    assert "and 10 more open sessions" in text and "Pickup-to-first-action" not in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    picks = [b for b in f.buttons(view["blocks"]) if b["action_id"] == "rf_pickup"]
    assert [decode_value(b["value"]) for b in picks] == [(40, 900), (41, 901), (42, 902)]
    (link,) = [b for b in f.buttons(view["blocks"]) if b["action_id"] == "rf_open_session"]
    assert link["url"] == "https://x.slack.com/archives/C1/p1"
    hostile = home_view(sessions=[f.session(1, title="<" * 3000, ticket="&" * 3000)],
                        queue=[f.queue_entry(2, 3, reason=">" * 3000)], metrics=None)
    assert "<" not in "".join(f.mrkdwn_texts(hostile["blocks"])).replace("<!date^", "")
    empty = home_view(sessions=[], queue=[], metrics=None)
    assert "No open sessions" in str(empty) and "Nothing is waiting" in str(empty)


def test_home_with_metrics_shows_three_periods_and_the_definition() -> None:
    metrics = [summarize(7, 3, [30.0, 90.0]), summarize(30, 5, [30.0, 90.0, 600.0]), summarize(90, 0, [])]
    view = home_view(sessions=[], queue=[], metrics=metrics)
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert "*Last 7 days*: 3 claimed, 2 with an action\naverage 60s · median 60s · p95 90s" in texts
    assert any(t.startswith("*Last 30 days*") and "p95 10.0min" in t for t in texts)
    assert "*Last 90 days*: 0 claimed, 0 with an action\naverage — · median — · p95 —" in texts
    assert view["blocks"][-1]["elements"][0]["text"] == DEFINITION
