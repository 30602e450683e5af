"""Block Kit messages: the task lane, the escalation post, the handoff DM, replies."""

from __future__ import annotations

import json
from typing import Any

from adapters.slack.actions import decode_value, parse_click
from adapters.slack.blocks import escalation_post_blocks, handoff_dm_delivery, lane_blocks
from adapters.slack.limits import MESSAGE_BLOCKS, MESSAGE_BLOCKS_CHARS, blocks_chars, check_blocks, message_chunks
from adapters.slack.text import escape
from core.actions import ActionId
from core.cards import lane_card
from core.models import FactSource, FixStatus, ItemKind, SessionStatus
from core.sessions import SessionView
from core.views import escalation_post, handoff_view
from tests.adapters.slack import factories as f

ADD_FACT, EDIT_FACT = "rf_add_fact", "rf_edit_fact"


def lane(view: SessionView, **kw: Any) -> tuple[str, list[dict[str, Any]]]:
    text, blocks = lane_blocks(lane_card(view), **kw)
    check_blocks(blocks, surface="message")  # the builder checked too; this proves the result
    return text, blocks


def test_each_open_item_has_its_block_with_confirm_and_confirm_in_my_words() -> None:
    s = f.session()
    questions = f.items(7, ItemKind.QUESTION, ["Which driver version?", "Does a test page print?"])
    checks = f.items(7, ItemKind.CHECK, ["Get-Service Spooler"], first_id=300)
    text, blocks = lane(f.view(s, fact_list=f.facts(7, ["Printer is PRN-02"]), item_list=questions + checks))
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "#7 Printer offline"}}
    assert "ticket #4521" in blocks[1]["elements"][0]["text"]
    rows = [(blocks[i - 1], b["elements"]) for i, b in enumerate(blocks)
            if b["type"] == "actions" and b["elements"][0]["action_id"] == "rf_confirm_item"]
    assert [item["text"]["text"] for item, _ in rows] == ["Q1 Which driver version?", "Q2 Does a test page print?",
                                                          "C1 Get-Service Spooler"]
    for (_, (confirm, own_words)), ref in zip(rows, (200, 201, 300), strict=True):
        assert own_words["action_id"] == "rf_confirm_item_form" and own_words["text"]["text"] == "Confirm in my words…"
        assert decode_value(confirm["value"]) == decode_value(own_words["value"]) == (7, ref)
    assert text.startswith("#7 Printer offline — Active")


def test_every_lane_button_follows_the_action_and_value_convention() -> None:
    active_fix = f.fix(7, outcome_proposal={"outcome": "worked"})
    _, blocks = lane(f.view(active_fix=active_fix, item_list=f.items(7, ItemKind.QUESTION, ["Q?"])))
    buttons = f.buttons(blocks)
    seen = set()
    for button in buttons:
        session_id, ref = decode_value(button["value"])
        assert session_id == 7
        seen.add(parse_click(button["action_id"])[0])
    assert seen >= {ActionId.CONFIRM_ITEM, ActionId.APPLY_FIX, ActionId.FIX_WORKED, ActionId.FIX_FAILED,
                    ActionId.FIX_PARTIAL, ActionId.FIX_DISMISS, ActionId.OUTCOME_CONFIRM, ActionId.OUTCOME_NOT_YET,
                    ActionId.PREVIEW_RESOLVE, ActionId.ESCALATE, ActionId.PARK}
    by_id = {b["action_id"]: b for b in buttons}
    assert decode_value(by_id["rf_apply_fix"]["value"]) == (7, 55)
    assert decode_value(by_id["rf_preview_resolve"]["value"]) == (7, None)
    assert by_id["rf_apply_fix"]["style"] == "primary"
    assert by_id["rf_fix_failed"]["style"] == "danger"
    assert "style" not in by_id["rf_fix_worked"] and "style" not in by_id["rf_park"]
    assert by_id["rf_outcome_confirm"]["style"] == "primary"
    assert by_id[ADD_FACT]["text"]["text"] == "Add a fact"


def test_the_fact_editor_lists_only_note_facts() -> None:
    notes = f.facts(7, ["Printer is PRN-02", "Driver 3.1"])
    promoted = f.facts(7, ["Test page fails"], source=FactSource.QUESTION, first_id=150)
    v = f.view(fact_list=notes + promoted)
    _, blocks = lane(v)
    select = next(n for n in f.walk(blocks) if n.get("action_id") == EDIT_FACT)
    assert select["type"] == "static_select"
    assert [decode_value(o["value"]) for o in select["options"]] == [(7, 100), (7, 101)]
    delete = next(n for n in f.walk(blocks) if n.get("action_id") == "rf_delete_fact")
    assert [decode_value(o["value"]) for o in delete["options"]] == [(7, 100), (7, 101), (7, 150)]
    assert delete["confirm"]["style"] == "danger"  # Slack asks before a fact leaves the notes
    _, without = lane(f.view(fact_list=promoted))
    assert not any(n.get("action_id") == EDIT_FACT for n in f.walk(without))
    assert any(n.get("action_id") == "rf_delete_fact" for n in f.walk(without))


def test_closed_sessions_have_no_working_buttons_and_escalated_ones_offer_pick_up() -> None:
    _, resolved = lane(f.view(f.session(status=SessionStatus.RESOLVED), item_list=f.items(7, ItemKind.CHECK, ["x"]),
                              active_fix=f.fix(7, status=FixStatus.APPLIED_SUCCESS)))
    assert f.buttons(resolved) == []
    _, escalated = lane(f.view(f.session(status=SessionStatus.ESCALATED), escalation=f.handoff(7, hid=901)))
    (pick,) = f.buttons(escalated)
    assert pick["action_id"] == "rf_pickup" and pick["style"] == "primary"
    assert decode_value(pick["value"]) == (7, 901)


def test_user_text_cannot_ping_anyone() -> None:
    s = f.session(title="<!here> printer")
    evil = "<!channel> & <@U123> <https://evil.example|click>"
    text, blocks = lane(f.view(s, fact_list=f.facts(7, [evil]), item_list=f.items(7, ItemKind.QUESTION, [evil])))
    for t in f.mrkdwn_texts(blocks) + [text]:
        assert "<" not in t and ">" not in t
    assert any(escape(evil) in t for t in f.mrkdwn_texts(blocks))


def test_a_5000_character_fact_is_shown_in_full_across_sections() -> None:
    long_fact = " ".join(f"w{i}" for i in range(1300))[:5000]
    _, blocks = lane(f.view(fact_list=f.facts(7, [long_fact])))
    assert f.words(long_fact) in f.words("".join(f.mrkdwn_texts(blocks)))
    assert "shortened" not in json.dumps(blocks)


def test_a_huge_lane_fits_one_message_and_says_what_it_left_out() -> None:
    fact_list = f.facts(7, [f"fact {i} " + "detail " * 700 for i in range(60)])  # 60 facts of ~5000 chars
    questions = f.items(7, ItemKind.QUESTION, [f"question {i} " + "why " * 300 for i in range(30)])
    checks = f.items(7, ItemKind.CHECK, [f"check {i}" for i in range(30)], first_id=400)
    active_fix = f.fix(7, description="step " * 2000, outcome_proposal={"outcome": "failed"})
    v = f.view(fact_list=fact_list, item_list=questions + checks, active_fix=active_fix)
    _, blocks = lane(v)
    assert len(blocks) <= MESSAGE_BLOCKS and blocks_chars(blocks) <= MESSAGE_BLOCKS_CHARS
    texts = " ".join(f.mrkdwn_texts(blocks))
    assert "more not shown here" in texts
    assert "shortened here" in texts
    item_ids = {i.id for i in v.items}
    confirms = [b for b in f.buttons(blocks) if b["action_id"] == "rf_confirm_item"]
    assert confirms and all(decode_value(b["value"])[1] in item_ids for b in confirms)
    assert {b["action_id"] for b in f.buttons(blocks)} >= {"rf_outcome_confirm", "rf_preview_resolve", "rf_fix_worked"}
    select = next(n for n in f.walk(blocks) if n.get("action_id") == EDIT_FACT)
    offered = [decode_value(o["value"])[1] for o in select["options"]]
    assert offered and offered[-1] == fact_list[-1].id  # the latest notes are the ones offered


def test_the_escalation_post_offers_pick_up_until_claimed() -> None:
    kw = dict(session_id=7, title="Printer <offline>", ticket="4521", escalated_by="Alice",
              reason="Needs domain admin & GPO access", target="Bob", handoff_id=900)
    text, blocks = escalation_post_blocks(escalation_post(**kw, claimed_by=None))  # type: ignore[arg-type]
    (pick,) = f.buttons(blocks)
    assert pick["action_id"] == "rf_pickup" and pick["style"] == "primary" and pick["text"]["text"] == "Pick up"
    assert decode_value(pick["value"]) == (7, 900)
    fields = [x["text"] for x in blocks[1]["fields"]]
    assert fields == ["*Ticket*\n#4521", "*Escalated by*\nAlice", "*Asked for*\nBob"]
    assert "Needs domain admin &amp; GPO access" in blocks[2]["text"]["text"]
    assert "&lt;offline&gt;" in text
    text2, claimed = escalation_post_blocks(escalation_post(**kw, claimed_by="Bob"))  # type: ignore[arg-type]
    assert f.buttons(claimed) == []
    assert claimed[-1]["text"]["text"] == ":white_check_mark: Picked up by Bob."
    assert "Picked up by Bob" in text2
    _, no_ticket = escalation_post_blocks(escalation_post(**{**kw, "ticket": None, "target": None}, claimed_by=None))  # type: ignore[arg-type]
    assert [x["text"] for x in no_ticket[1]["fields"]] == ["*Ticket*\nno ticket linked", "*Escalated by*\nAlice"]


def test_hostile_sizes_still_give_valid_posts() -> None:
    evil = "<&>" * 1500
    for claimed_by in (None, evil):
        text, blocks = escalation_post_blocks(escalation_post(session_id=7, title=evil, ticket=evil, escalated_by=evil,
                                                              reason=evil, target=evil, handoff_id=900, claimed_by=claimed_by))
        assert "<" not in text + "".join(f.mrkdwn_texts(blocks))
        assert all(len(x["text"]) <= 2000 for x in blocks[1]["fields"])


def test_the_handoff_dm_carries_package_facts_and_what_was_tried() -> None:
    package = "## Problem\nPrinter offline.\n\n## What we've tried\nRestart <spooler>."
    delivery = handoff_dm_delivery(handoff_view(f.pickup(package=package)))
    assert delivery.snippet is None and len(delivery.messages) == 1
    text, blocks = delivery.messages[0]
    check_blocks(blocks, surface="message")
    assert text == "You picked up #7 Printer offline, escalated by Alice."
    assert blocks[0]["text"]["text"] == "You picked up #7 Printer offline"
    body = "\n".join(f.mrkdwn_texts(blocks))
    for needle in ("*Escalated by*\nAlice", "*Ticket*\n#4521", "Needs domain admin rights", "Spooler crashes on job 12",
                   "did not work (crashed again)", "*Problem*", "Restart &lt;spooler&gt;."):
        assert needle in body


def test_the_handoff_delivery_sends_everything_split_or_as_a_file() -> None:
    package = "\n\n".join(f"## Step {i}\n" + "tried the thing " * 60 for i in range(20))  # ~19.5k chars
    delivery = handoff_dm_delivery(handoff_view(f.pickup(package=package)))
    assert delivery.snippet is None and 2 <= len(delivery.messages) <= 5
    shown = ""
    for _, blocks in delivery.messages:
        check_blocks(blocks, surface="message")
        shown += "".join(f.mrkdwn_texts(blocks))
    assert shown.count("tried the thing") == package.count("tried the thing")
    assert delivery.messages[0][1][0]["type"] == "header"
    huge = handoff_dm_delivery(handoff_view(f.pickup(package="x y " * 15_000)))
    assert huge.snippet is not None and huge.snippet.endswith("x y " * 15_000)
    assert huge.filename == "handoff-7.md" and len(huge.messages) == 1
    check_blocks(huge.messages[0][1], surface="message")


def test_replies_are_escaped_and_chunked() -> None:
    delivery = message_chunks("**Try this:** restart <!everyone>")
    assert delivery.messages[0][1][0]["text"]["text"] == "*Try this:* restart &lt;!everyone&gt;"
    assert message_chunks("y " * 30_000).snippet == "y " * 30_000
