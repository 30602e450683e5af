"""The handler contract: action ids, button values, private_metadata and submitted values."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.slack.actions import (
    CHANNEL_BLOCK,
    NOTE_BLOCK,
    OPEN_SESSION,
    ModalMeta,
    action_id,
    decode_metadata,
    decode_value,
    encode_metadata,
    encode_value,
    form_action,
    parse_action_id,
    parse_click,
    read_submission,
)
from core.actions import ActionId

IDS = st.integers(min_value=0, max_value=2**63 - 1)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                    max_leaves=8)


@given(session_id=IDS, ref=st.none() | IDS)
def test_button_values_round_trip(session_id: int, ref: int | None) -> None:
    raw = encode_value(session_id, ref)
    assert decode_value(raw) == (session_id, ref)
    assert " " not in raw and len(raw) <= 2000


@given(raw=st.text(max_size=60))
def test_arbitrary_text_is_refused_with_value_error_or_is_a_real_value(raw: str) -> None:
    try:
        session_id, ref = decode_value(raw)
    except ValueError:
        return
    assert json.loads(raw) == {"s": session_id, "r": ref}


@given(data=JSON)
def test_json_that_is_not_exactly_a_value_is_refused(data: object) -> None:
    raw = json.dumps(data)
    valid = (isinstance(data, dict) and set(data) == {"s", "r"} and type(data["s"]) is int and data["s"] >= 0
             and (data["r"] is None or (type(data["r"]) is int and data["r"] >= 0)))
    if valid:
        assert decode_value(raw) == (data["s"], data["r"])  # type: ignore[index]
    else:
        with pytest.raises(ValueError):
            decode_value(raw)


@pytest.mark.parametrize("raw", [
    "", "null", "[]", "{}", '{"s":1}', '{"s":true,"r":null}', '{"s":1.0,"r":null}', '{"s":-1,"r":null}',
    '{"s":"1","r":null}', '{"s":1,"r":null,"x":0}', "{'s':1,'r':null}", f'{{"s":{2**63},"r":null}}',
    "[" * 5000 + "]" * 5000, '{"s":1,"r":2}' + " " * 2000,
])
def test_garbage_values_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        decode_value(raw)


def test_encode_refuses_what_decode_would_refuse() -> None:
    with pytest.raises(ValueError):
        encode_value(-1, None)
    with pytest.raises(ValueError):
        encode_value(True, None)


def test_action_ids_are_prefixed_and_parse_back() -> None:
    for action in ActionId:
        assert action_id(action) == "rf_" + action.value
        assert parse_action_id(action_id(action)) is action
    assert action_id(ActionId.PICKUP) == "rf_pickup"
    for bad in ("confirm_item", "rf_", "rf_nope", OPEN_SESSION, "rf_nope_form", None):
        with pytest.raises(ValueError):
            parse_click(bad)  # type: ignore[arg-type]
    assert parse_click("rf_confirm_item_form") == (ActionId.CONFIRM_ITEM, True)
    assert parse_click("rf_confirm_item") == (ActionId.CONFIRM_ITEM, False)


def test_which_clicks_open_a_form_is_core_s_spec() -> None:
    """Forms first where core says so (no values yet), a preview opens the form it fills in, and an
    optional form (own words) only when asked for."""
    opens = {a: form_action(action_id(a)) for a in ActionId}
    assert {a for a, f in opens.items() if f} == {
        ActionId.ADD_FACT, ActionId.EDIT_FACT, ActionId.ADD_FIX, ActionId.FIX_FAILED, ActionId.FIX_PARTIAL,
        ActionId.RESOLVE, ActionId.ESCALATE, ActionId.LINK_TICKET, ActionId.PREVIEW_RESOLVE, ActionId.PREVIEW_ESCALATE,
        ActionId.PARK}
    assert opens[ActionId.PREVIEW_RESOLVE] == ActionId.RESOLVE and opens[ActionId.PREVIEW_ESCALATE] == ActionId.ESCALATE
    assert form_action("rf_confirm_item_form") == ActionId.CONFIRM_ITEM
    assert form_action("rf_apply_fix_form") is None and form_action("rf_nope") is None


WHITESPACE = st.text(alphabet=" \n\t", max_size=16)


@given(session_id=st.none() | IDS, version=st.none() | IDS, fix_id=st.none() | IDS, fact_id=st.none() | IDS,
       item_id=st.none() | IDS,
       joins=st.lists(WHITESPACE, max_size=20).map(tuple))
def test_metadata_round_trips(session_id: int | None, version: int | None, fix_id: int | None, fact_id: int | None,
                              item_id: int | None,
                              joins: tuple[str, ...]) -> None:
    meta = ModalMeta(session_id=session_id, version=version, fix_id=fix_id, fact_id=fact_id, item_id=item_id, joins=joins)
    raw = encode_metadata(meta)
    assert len(raw) <= 3000
    assert decode_metadata(raw) == meta


@given(data=JSON)
def test_metadata_garbage_is_refused_or_exactly_understood(data: object) -> None:
    raw = json.dumps(data)
    try:
        meta = decode_metadata(raw)
    except ValueError:
        return
    assert isinstance(data, dict)
    assert json.loads(encode_metadata(meta)) == {k: v for k, v in data.items() if v not in (None, [])}


@pytest.mark.parametrize("raw", ['{"s":1,"x":2}', '{"s":"7"}', '{"j":["a"]}', '{"j":" "}', '[]', "nope",
                                 '{"v":true}', "x" * 3001, '{"j":["' + " " * 17 + '"]}'])
def test_metadata_garbage_examples(raw: str) -> None:
    with pytest.raises(ValueError):
        decode_metadata(raw)


def test_metadata_example_is_compact() -> None:
    assert encode_metadata(ModalMeta(session_id=7, version=3, fix_id=55)) == '{"s":7,"v":3,"f":55}'
    assert encode_metadata(ModalMeta(session_id=7, fact_id=9)) == '{"s":7,"fact":9}'
    assert encode_metadata(ModalMeta(session_id=7, item_id=31)) == '{"s":7,"i":31}'
    assert ModalMeta(session_id=7, item_id=31).ref == 31 and ModalMeta(session_id=7).ref is None


def test_read_submission_maps_every_input_kind_to_plain_strings() -> None:
    values = {
        "note_1": {"note_input": {"type": "plain_text_input", "value": "## Problem"}},
        "note_2": {"note_input": {"type": "plain_text_input", "value": "Printer fixed."}},
        "summary": {"summary_input": {"type": "plain_text_input", "value": None}},
        "target": {"target_input": {"type": "static_select", "selected_option": {"text": {}, "value": "12"}}},
        CHANNEL_BLOCK: {"channel_input": {"type": "conversations_select", "selected_conversation": "C0123"}},
        "log_time": {"log_time_input": {"type": "checkboxes", "selected_options": [{"value": "log"}]}},
        "empty_box": {"x": {"type": "checkboxes", "selected_options": []}},
        "none_picked": {"x": {"type": "static_select", "selected_option": None}},
        "two": {"a": {"type": "plain_text_input", "value": "1"}, "b": {"type": "users_select", "selected_user": "U1"}},
    }
    out = read_submission(values, joins=("\n\n",))
    assert out[NOTE_BLOCK] == "## Problem\n\nPrinter fixed."
    assert out["summary"] is None
    assert out["target"] == "12"
    assert out[CHANNEL_BLOCK] == "C0123"
    assert out["log_time"] == "log"
    assert out["empty_box"] is None and out["none_picked"] is None
    assert out["two.a"] == "1" and out["two.b"] == "U1"


def test_read_submission_refuses_malformed_state() -> None:
    bad: object
    for bad in ([], {"b": []}, {"b": {"a": {"type": "file_input"}}}, {"b": {"a": {"type": "plain_text_input", "value": 3}}}):
        with pytest.raises(ValueError):
            read_submission(bad)  # type: ignore[arg-type]
