"""Every action from each surface's entry point (issue 11): one table of cases, each performed on
Slack (signed clicks, modal submissions and /rf commands against the fake Web API), Teams (signed
invokes against the fake Bot Connector) and the console (its command line, in process), with the
same outcome, the same state change read back through the engine, and the same viewer refusal.
Each surface performs every action through its own control (a button, a select, a form, a command):
a lost control fails its row."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from adapters.console import messages as console_m
from adapters.console import render as console_render
from adapters.console.actions import COMMAND_TABLE
from adapters.console.console import Console
from adapters.console.repl import ConsoleNotifier, open_console
from adapters.console.wording import error_text as console_error
from adapters.slack.outcomes import outcome_text as slack_outcome_text
from adapters.slack.wording import error_text as slack_error
from adapters.teams import outcomes as teams_o
from adapters.teams.wording import error_text as teams_error
from bot.bootstrap import App, build_app
from bot.secretbox import new_key
from bot.settings import Settings
from bot.web import make_web_app
from core.access import Actor
from core.actions import SPECS, Action, ActionId, Outcome, OutcomeCode
from core.errors import Forbidden
from core.models import BoardStatus, FixAuthor, FixStatus, ItemStatus, SessionStatus, StatusRole
from tests.e2e.slack.conftest import SECRET, SlackBot, slack_settings
from tests.e2e.slack.conftest import TEAM as SLACK_TEAM
from tests.e2e.teams.conftest import (
    APP_ID,
    DANA_T,
    DESK,
    ESCALATIONS,
    EVE,
    SAM_T,
    SLACK_SECRET,
    TENANT,
    ResponseUrls,
    ShiftedClock,
    TeamsBot,
    TeamsUser,
    button,
    card_of,
    shown_text,
    walk,
)
from tests.fakes.anthropic_api import FakeAnthropic, fact_input, fix_input, outcome_input
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import seed_demo
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackClient, block_action
from tests.fakes.teams_tokens import FakeTeamsIssuer

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUESTION = "Is it every printer on the floor?"
FIX = "Restart the print spooler"
NOTE = "The queue holds 14 jobs"
PROPOSED = "Only floor 2 is affected"
TICKET = "1004"
CONNECT = {"site": "acme.myconnectwise.example", "company": "acme", "public_key": "pub-4f1c",
           "private_key": "PRIV-9d2e-s3cr3t", "client_id": "5b1d6a0e-client-guid"}
VIC_T = TeamsUser("29:vic", "Vic", "vic@contoso.example", "aad-vic")
_problems = itertools.count(1)


# What the engine holds for a session, read back in one transaction ---------------------------------

@dataclass(frozen=True)
class State:
    status: str
    title: str
    handler: str
    ticket: str | None
    ticket_info: dict[str, Any]
    facts: tuple[tuple[str, str, bool], ...]  # (label, text, deleted)
    items: tuple[tuple[str, str, str], ...]  # (label, text, status)
    fixes: tuple[tuple[str, str, str, str | None, str | None, bool, bool], ...]
    handoffs: tuple[tuple[str, str, str | None, str], ...]  # (intent, reason, claimed by, created by)
    writebacks: tuple[tuple[str, str | None], ...]  # (status, finished at)

    def live_facts(self) -> dict[str, str]:
        return {label: text for label, text, deleted in self.facts if not deleted}

    def fix(self, title: str = FIX) -> dict[str, Any]:
        for t, status, author, partial, failed, applied, proposal in self.fixes:
            if t == title:
                return {"status": status, "author": author, "partial": partial, "failed": failed,
                        "applied": applied, "proposal": proposal}
        raise AssertionError(f"no fix {title!r} in {self.fixes}")


async def read_state(app: App, account_id: int, sid: int) -> State:
    async with app.engine.deps.uow_factory() as uow:
        session = await uow.sessions.get(account_id=account_id, session_id=sid)
        assert session is not None
        names = {m.id: m.name for m in await uow.members.list(account_id=account_id, active_only=False)}
        facts = await uow.facts.list(account_id=account_id, session_id=sid, include_deleted=True)
        items = await uow.items.list(account_id=account_id, session_id=sid)
        fixes = await uow.fixes.list(account_id=account_id, session_id=sid)
        handoffs = []
        for intent in ("escalate", "park"):
            h = await uow.handoffs.latest_for_session(account_id=account_id, session_id=sid, intent=intent)
            if h is not None:
                handoffs.append((str(h.intent), h.reason, names.get(h.claimed_by) if h.claimed_by else None,
                                 names.get(h.created_by, "?")))
        writebacks = await uow.writebacks.list(account_id=account_id, session_id=sid)
    return State(
        status=str(session.status), title=session.title, handler=names.get(session.handler_id, "?"), ticket=session.ticket_ref,
        ticket_info=dict(session.ticket_info or {}),
        facts=tuple((f.label, f.text, f.deleted_at is not None) for f in facts),
        items=tuple((i.label, i.text, str(i.status)) for i in items),
        fixes=tuple((f.title, str(f.status), str(f.author), f.partial_notes, f.failure_reason, f.applied_at is not None,
                     f.outcome_proposal is not None) for f in fixes),
        handoffs=tuple(handoffs),
        writebacks=tuple((str(w.status), str(w.finished_at)) for w in writebacks))


# The table -----------------------------------------------------------------------------------------

Check = Callable[[State, State], None]


@dataclass(frozen=True)
class Case:
    """`setup`: base (an open question and a suggested fix), note (plus a note fact F1), proposal
    (the fix applied and the assistant proposing "worked"), fact_proposal (the assistant proposing a
    fact, P1), escalated (escalated by the owner),
    failed_writeback (linked, resolved, its writeback failed). `params`: the outcome's params as
    core hands them out, from the state after. `by`: who acts (the owner, or an engineer)."""

    action: ActionId
    setup: str
    code: OutcomeCode
    check: Check
    values: dict[str, str] = field(default_factory=dict)
    params: Callable[[State], dict[str, Any]] = lambda s: {}
    by: str = "owner"
    xfail: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.action)


def _fact_params(label: str) -> Callable[[State], dict[str, Any]]:
    return lambda s: {"label": label, "text": {lbl: t for lbl, t, _ in s.facts}[label]}


def _fix_params(title: str = FIX, label: str = "") -> Callable[[State], dict[str, Any]]:
    return lambda s: {"title": title, "outcome": s.fix(title)["status"], "outcome_label": label}


def _fix_status(status: FixStatus, **more: Any) -> Check:
    def check(before: State, after: State) -> None:
        got = after.fix()
        assert got["status"] == str(status), got
        for key, value in more.items():
            assert got[key] == value, (key, got)
    return check


def _confirmed(b: State, a: State) -> None:
    assert a.live_facts() == {"F1": "Every printer on floor 2, none elsewhere"}, a.facts
    assert [(lbl, st) for lbl, _, st in a.items if lbl == "Q1"] == [("Q1", str(ItemStatus.PROMOTED))], a.items


def _dismissed(b: State, a: State) -> None:
    assert ("P1", PROPOSED, "open") in b.items and ("P1", PROPOSED, str(ItemStatus.DISMISSED)) in a.items, a.items
    assert a.live_facts() == {}, a.facts


def _added(b: State, a: State) -> None:
    assert a.live_facts() == {"F1": NOTE}, a.facts


def _edited(b: State, a: State) -> None:
    assert a.live_facts() == {"F1": "The queue holds 15 jobs"}, a.facts


def _deleted(b: State, a: State) -> None:
    assert a.live_facts() == {} and a.facts == (("F1", NOTE, True),), a.facts


def _fix_added(b: State, a: State) -> None:
    assert a.fix("Clear the spooler")["author"] == str(FixAuthor.ENGINEER) and len(a.fixes) == len(b.fixes) + 1


def _applied(b: State, a: State) -> None:
    assert a.fix()["applied"] and not b.fix()["applied"], a.fixes


def _not_yet(b: State, a: State) -> None:
    assert b.fix()["proposal"] and not a.fix()["proposal"] and a.fix()["status"] == b.fix()["status"], a.fixes


def _unchanged(b: State, a: State) -> None:
    assert a == b


def _status(status: SessionStatus) -> Check:
    def check(b: State, a: State) -> None:
        assert a.status == str(status), a
    return check


def _escalated(b: State, a: State) -> None:
    assert a.status == str(SessionStatus.ESCALATED) and a.handoffs[0][:3] == ("escalate", "Needs firewall access", None)


def _parked(b: State, a: State) -> None:
    assert a.status == str(SessionStatus.PARKED) and any(h[0] == "park" for h in a.handoffs), a


def _picked_up(b: State, a: State) -> None:
    assert b.handoffs[0][2] is None and a.handoffs[0][2] == "Sam" and a.handler == "Sam", a


def _linked(b: State, a: State) -> None:
    assert b.ticket is None and a.ticket == TICKET and a.ticket_info.get("summary"), a


def _retried(b: State, a: State) -> None:
    assert b.writebacks[-1][0] == "failed" and a.writebacks[-1] != b.writebacks[-1], a.writebacks  # it ran again


CASES = [
    Case(ActionId.CONFIRM_ITEM, "base", OutcomeCode.FACT_CONFIRMED, _confirmed,
         values={"text": "Every printer on floor 2, none elsewhere"}, params=_fact_params("F1")),
    Case(ActionId.DISMISS_ITEM, "fact_proposal", OutcomeCode.ITEM_DISMISSED, _dismissed,
         params=lambda s: {"label": "P1", "text": PROPOSED}),
    Case(ActionId.ADD_FACT, "base", OutcomeCode.FACT_ADDED, _added, values={"text": NOTE}, params=_fact_params("F1")),
    Case(ActionId.EDIT_FACT, "note", OutcomeCode.FACT_EDITED, _edited, values={"text": "The queue holds 15 jobs"},
         params=_fact_params("F1")),
    Case(ActionId.DELETE_FACT, "note", OutcomeCode.FACT_DELETED, _deleted, params=_fact_params("F1")),
    Case(ActionId.ADD_FIX, "base", OutcomeCode.FIX_ADDED, _fix_added,
         values={"title": "Clear the spooler", "description": "Stop it, clear the queue, start it"},
         params=_fix_params("Clear the spooler")),
    Case(ActionId.APPLY_FIX, "base", OutcomeCode.FIX_APPLIED, _applied, params=_fix_params()),
    Case(ActionId.FIX_WORKED, "base", OutcomeCode.FIX_OUTCOME, _fix_status(FixStatus.APPLIED_SUCCESS),
         params=_fix_params(label="worked")),
    Case(ActionId.FIX_FAILED, "base", OutcomeCode.FIX_OUTCOME,
         _fix_status(FixStatus.APPLIED_FAILED, failed="The queue refilled at once"),
         values={"reason": "The queue refilled at once"}, params=_fix_params(label="didn't work")),
    Case(ActionId.FIX_PARTIAL, "base", OutcomeCode.FIX_OUTCOME,
         _fix_status(FixStatus.APPLIED_PARTIAL, partial="Two of three printers print"),
         values={"notes": "Two of three printers print"}, params=_fix_params(label="partly worked")),
    Case(ActionId.FIX_DISMISS, "base", OutcomeCode.FIX_OUTCOME, _fix_status(FixStatus.DISMISSED),
         params=_fix_params(label="was dismissed")),
    Case(ActionId.OUTCOME_CONFIRM, "proposal", OutcomeCode.FIX_OUTCOME, _fix_status(FixStatus.APPLIED_SUCCESS),
         params=_fix_params(label="worked")),
    Case(ActionId.OUTCOME_NOT_YET, "proposal", OutcomeCode.OUTCOME_NOT_YET, _not_yet, params=_fix_params()),
    Case(ActionId.PREVIEW_RESOLVE, "base", OutcomeCode.PREVIEW_READY, _unchanged),
    Case(ActionId.PREVIEW_ESCALATE, "base", OutcomeCode.PREVIEW_READY, _unchanged),
    Case(ActionId.RESOLVE, "base", OutcomeCode.RESOLVED, _status(SessionStatus.RESOLVED),
         values={"summary": "Restarted the spooler"}, params=lambda s: {"outcome": "resolved_local", "ticket_id": None}),
    Case(ActionId.ESCALATE, "base", OutcomeCode.ESCALATED, _escalated, values={"reason": "Needs firewall access"},
         params=lambda s: {"outcome": "escalated_local", "ticket_id": None, "reason": "Needs firewall access",
                           "target": None}),
    Case(ActionId.PARK, "base", OutcomeCode.PARKED, _parked),
    Case(ActionId.PICKUP, "escalated", OutcomeCode.PICKED_UP, _picked_up, by="engineer",
         params=lambda s: {"escalated_by": s.handoffs[0][3], "title": s.title}),
    Case(ActionId.LINK_TICKET, "base", OutcomeCode.TICKET_LINKED, _linked, values={"ticket": TICKET},
         params=lambda s: {"ticket_id": int(TICKET), **{k: s.ticket_info.get(k) for k in ("summary", "company", "board",
                                                                                         "status")}}),
    Case(ActionId.RETRY_WRITEBACK, "failed_writeback", OutcomeCode.WRITEBACK_RETRIED, _retried,
         params=lambda s: {"ticket_id": int(TICKET)}),
]
SURFACES = ("slack", "teams", "console")


async def test_the_table_covers_every_action() -> None:
    assert [c.action for c in CASES] == list(ActionId)


# Drivers: how each surface is set up and driven ----------------------------------------------------

class Driver:
    """A surface: `start` a session through it, `perform` a case through its own entry point and
    return what the acting person was shown; `controls` are the actions it offers on a session."""

    name: str
    app: App
    anthropic: FakeAnthropic
    account_id: int
    owner: Actor

    async def start(self) -> int:
        raise NotImplementedError

    async def settle(self) -> None:
        raise NotImplementedError

    async def refresh(self, sid: int) -> None:
        raise NotImplementedError

    async def perform(self, case: Case, sid: int, who: str) -> Any:
        raise NotImplementedError

    async def controls(self, sid: int) -> set[ActionId]:
        raise NotImplementedError

    async def member(self, name: str) -> Actor:
        for m in await self.app.engine.accounts.members(actor=self.owner):
            if m.name == name:
                return Actor(account_id=self.account_id, member_id=m.id or 0)
        raise AssertionError(f"no member {name}")

    async def new_session(self) -> int:
        self.anthropic.push_update("Let's look.", questions=[QUESTION], fixes=[fix_input(FIX, confidence=40)])
        sid = await self.start()
        await self.settle()
        return sid

    async def setup(self, kind: str, sid: int) -> None:
        perform = self.app.engine.actions.perform
        if kind == "note":
            await perform(self.owner, Action(id=ActionId.ADD_FACT, session_id=sid, values={"text": NOTE}))
        elif kind == "proposal":
            await perform(self.owner, Action(id=ActionId.APPLY_FIX, session_id=sid))
            self.anthropic.push_update("That reads as fixed.", outcome=outcome_input("worked", "it prints now"))
            await self.app.engine.sessions.post_message(actor=self.owner, session_id=sid, text="it prints now")
            await self.app.engine.turns.drain()
        elif kind == "fact_proposal":  # the assistant proposes a fact: it waits on the lane (R6)
            self.anthropic.push_update("Noted.", facts=[fact_input(PROPOSED, "only floor 2")])
            await self.app.engine.sessions.post_message(actor=self.owner, session_id=sid, text="only floor 2")
            await self.app.engine.turns.drain()
        elif kind == "escalated":
            await perform(self.owner, Action(id=ActionId.ESCALATE, session_id=sid, values={"reason": "Over my head"}))
        elif kind == "failed_writeback":
            await self._stale_resolved_status()
            await perform(self.owner, Action(id=ActionId.LINK_TICKET, session_id=sid, values={"ticket": TICKET}))
            await perform(self.owner, Action(id=ActionId.RESOLVE, session_id=sid, values={"summary": "Rebuilt"}))
            await self.app.engine.writebacks.drain()
        await self.settle()
        await self.refresh(sid)
        await self.settle()

    async def _stale_resolved_status(self) -> None:
        """A resolved status saved for the board that is no longer one of its own (another board's
        id, as a stale setting would hold): checked before use, the writeback fails (R40)."""
        async with self.app.engine.deps.uow_factory() as uow:
            await uow.board_statuses.put(BoardStatus(
                account_id=self.owner.account_id, board_id=1, board_name="Help Desk", role=StatusRole.RESOLVED,
                status_id=202, status_name="Done", closes=True, updated_at=self.app.engine.deps.clock.now(),
                updated_by=self.owner.member_id))
            await uow.commit()


# Slack ---------------------------------------------------------------------------------------------

SLACK_USERS = {"owner": "UDANA", "engineer": "USAM", "viewer": "UVIC"}
SLACK_OPENS = {ActionId.CONFIRM_ITEM: "rf_confirm_item_form", ActionId.RESOLVE: "rf_preview_resolve",
               ActionId.PREVIEW_ESCALATE: "rf_escalate"}


class SlackDriver(Driver):
    name = "slack"

    def __init__(self, bot: SlackBot) -> None:
        self.bot, self.app, self.anthropic = bot, bot.app, bot.anthropic

    async def start(self) -> int:
        await self.bot.mention("UDANA", f"Printer on floor 2 prints nothing ({next(_problems)})")
        await self.settle()
        return max(s.id or 0 for s in await self.app.engine.sessions.list(actor=self.owner))

    async def settle(self) -> None:
        await self.bot.settle()

    async def refresh(self, sid: int) -> None:
        assert self.app.slack is not None
        await self.app.slack.surface.refresh_lane(self.account_id, sid)

    def told(self, user: str) -> tuple[int, int]:
        """Where the person's answers stand: ephemerals to them, and posts to command response URLs."""
        return len(self.bot.slack.ephemerals), len(self.bot.slack.responses)

    def told_since(self, user: str, mark: tuple[int, int]) -> list[str]:
        return [e["text"] for e in self.bot.slack.ephemerals[mark[0]:] if e["user"] == user] + \
            [str(r.get("text")) for r in self.bot.slack.responses[mark[1]:]]

    async def perform(self, case: Case, sid: int, who: str) -> Any:
        bot, user, a = self.bot, SLACK_USERS[who], case.action
        await bot.load_lane_ref(sid)
        told = self.told(user)
        opened: dict[str, Any] | None = None
        if a in (ActionId.EDIT_FACT, ActionId.DELETE_FACT):  # a fact picked from the lane's select
            [select] = [n for n in walk(bot.lane_blocks(sid)) if n.get("action_id") == f"rf_{a}"]
            ref = bot.lane_ref(sid)
            payload = block_action(SLACK_TEAM, user, f"rf_{a}", "", channel=ref["channel"], message_ts=ref["ts"],
                                   trigger_id=bot.slack.trigger_id())
            payload["actions"] = [{"type": "static_select", "action_id": f"rf_{a}", "block_id": "actions",
                                   "selected_option": select["options"][0], "action_ts": "1"}]
            assert (await bot.client.post_interaction(payload)).status == 200
        else:
            await bot.click(user, SLACK_OPENS.get(a, f"rf_{a}"), sid)
        await self.settle()
        form = SPECS[a].form
        wants_form = a in SLACK_OPENS or (form is not None and SPECS[a].form_first) or a == ActionId.PREVIEW_RESOLVE
        if wants_form:
            opened = bot.last_view()
            if a not in (ActionId.PREVIEW_RESOLVE, ActionId.PREVIEW_ESCALATE):
                reply = await bot.submit(user, opened, dict(case.values))
                assert reply.status == 200 and not reply.body.strip(), reply.body
                await self.settle()
        return {"told": self.told_since(user, told), "view": opened}

    async def controls(self, sid: int) -> set[ActionId]:
        await self.bot.load_lane_ref(sid)
        ids = {n.get("action_id") for n in walk(self.bot.lane_blocks(sid))}
        return {a for a in ActionId if f"rf_{a}" in ids}


def slack_shows(case: Case, sid: int, before: State, after: State, shown: dict[str, Any]) -> None:
    outcome = Outcome(code=case.code, action=case.action, session_id=sid, params=case.params(after))
    said = slack_outcome_text(outcome)
    assert shown["told"] == ([said] if said else []), shown["told"]
    if case.code == OutcomeCode.PREVIEW_READY:
        kind = "rf_resolve" if case.action == ActionId.PREVIEW_RESOLVE else "rf_escalate"
        assert shown["view"]["callback_id"] == kind and any(b.get("block_id") == "note_1" for b in shown["view"]["blocks"])


# Teams ---------------------------------------------------------------------------------------------

TEAMS_USERS = {"owner": EVE, "engineer": SAM_T, "viewer": VIC_T}


class TeamsDriver(Driver):
    name = "teams"

    def __init__(self, bot: TeamsBot) -> None:
        self.bot, self.app, self.anthropic = bot, bot.app, bot.anthropic
        self.chains: dict[int, str] = {}

    async def start(self) -> int:
        chain = await self.bot.mention(EVE, f"Printer on floor 2 prints nothing ({next(_problems)})")
        await self.settle()
        sid = max(s.id or 0 for s in await self.app.engine.sessions.list(actor=self.owner))
        self.chains[sid] = chain
        return sid

    async def settle(self) -> None:
        await self.bot.settle()

    async def refresh(self, sid: int) -> None:
        assert self.app.teams is not None
        await self.app.teams.surface.refresh_lane(self.account_id, sid)

    async def lane_card(self, sid: int) -> tuple[str, dict[str, Any]]:
        lane = await self.bot.lane(sid)
        card = card_of(self.bot.current(self.chains[sid], lane["activity_id"]))
        assert card is not None
        return lane["activity_id"], card

    async def perform(self, case: Case, sid: int, who: str) -> Any:
        bot, user, a = self.bot, TEAMS_USERS[who], case.action
        chain = self.chains[sid]
        conversation = bot.channel(DESK, chain.split("=")[-1])
        activity_id, card = await self.lane_card(sid)
        said = len(bot.texts(chain))
        if a == ActionId.RESOLVE:  # the resolution form comes from the preview
            status, body = await bot.click(user, conversation, button(card, "rf_preview_resolve"), reply_to=activity_id)
            assert status == 200, body
            await self.settle()
            activity_id, card = next((i, c) for i, c in reversed(bot.cards(chain))
                                     if any(n.get("verb") == "rf_resolve" for n in walk(c)))
        if a == ActionId.CONFIRM_ITEM:  # in own words: the form unfolded under the question
            [form] = [n["card"] for n in walk(card) if n.get("type") == "Action.ShowCard"
                      and any(x.get("verb") == "rf_confirm_item" for x in walk(n["card"]))]
            card = form
        status, body = await bot.click(user, conversation, button(card, f"rf_{a}"), reply_to=activity_id,
                                       inputs={**form_inputs(card, f"rf_{a}"), **case.values})
        assert status == 200, body
        await self.settle()
        return {"body": body, "said": bot.texts(chain)[said:], "cards": bot.cards(chain)}

    async def controls(self, sid: int) -> set[ActionId]:
        _, card = await self.lane_card(sid)
        verbs = {n.get("verb") for n in walk(card)}
        return {a for a in ActionId if f"rf_{a}" in verbs}


def form_inputs(card: dict[str, Any], verb: str) -> dict[str, str]:
    """What a Teams client sends with a submit inside a ShowCard: each input of that form, as it
    stands (empty, or its first choice, as a person picks one). Buttons outside forms send none."""
    for node in walk(card):
        if node.get("type") == "Action.ShowCard" and any(x.get("verb") == verb for x in node["card"].get("actions", [])):
            inputs = [n for n in walk(node["card"]) if str(n.get("type", "")).startswith("Input.")]
            return {n["id"]: str(n.get("value") or (n.get("choices") or [{"value": ""}])[0]["value"]) for n in inputs}
    return {}


def teams_shows(case: Case, sid: int, before: State, after: State, shown: dict[str, Any]) -> None:
    body = shown["body"]
    outcome = Outcome(code=case.code, action=case.action, session_id=sid, params=case.params(after))
    if SPECS[case.action].slow:  # answered at once with a line, worked from the inbox
        assert body["value"] == teams_o.pending_text(case.action, sid), body
    elif body.get("type") == "application/vnd.microsoft.card.adaptive":
        text = shown_text(body["value"])
        if case.code == OutcomeCode.FACT_ADDED:
            assert f"F1 {NOTE}" in text, text
        if case.code == OutcomeCode.PICKED_UP:
            assert "Sam" in text, text
    else:
        assert body["value"] == teams_o.outcome_text(outcome), body
    if case.action == ActionId.PREVIEW_RESOLVE:
        assert any(any(n.get("verb") == "rf_resolve" for n in walk(c)) for _, c in shown["cards"])
    elif case.action == ActionId.PREVIEW_ESCALATE:  # the package, said in the conversation
        assert any("## Problem" in text for text in shown["said"]), shown["said"]
    elif body.get("type") == "application/vnd.microsoft.card.adaptive" and teams_o.outcome_text(outcome):
        assert teams_o.outcome_text(outcome) in shown_text(body["value"])  # the click's outcome, atop the card


# Console -------------------------------------------------------------------------------------------

CONSOLE_LINES = {
    ActionId.CONFIRM_ITEM: "/promote Q1 {text}", ActionId.DISMISS_ITEM: "/reject P1", ActionId.ADD_FACT: "/fact {text}",
    ActionId.EDIT_FACT: "/editfact 1 {text}",
    ActionId.DELETE_FACT: "/delfact 1", ActionId.ADD_FIX: "/fix {title} :: {description}", ActionId.APPLY_FIX: "/apply",
    ActionId.FIX_WORKED: "/worked", ActionId.FIX_FAILED: "/failed {reason}", ActionId.FIX_PARTIAL: "/partial {notes}",
    ActionId.FIX_DISMISS: "/dismiss", ActionId.OUTCOME_CONFIRM: "/confirm", ActionId.OUTCOME_NOT_YET: "/notyet",
    ActionId.PREVIEW_RESOLVE: "/preview resolve", ActionId.PREVIEW_ESCALATE: "/preview escalate",
    ActionId.RESOLVE: "/resolve {summary}", ActionId.ESCALATE: "/escalate {reason}", ActionId.PARK: "/park",
    ActionId.PICKUP: "/pickup {sid}", ActionId.LINK_TICKET: "/link {ticket}", ActionId.RETRY_WRITEBACK: "/retry",
}
CONSOLE_AS = {"owner": "/as Dana", "engineer": "/as Sam engineer", "viewer": "/as Vic viewer"}


class ConsoleDriver(Driver):
    name = "console"

    def __init__(self, app: App, console: Console, anthropic: FakeAnthropic) -> None:
        self.app, self.console, self.anthropic = app, console, anthropic

    async def run(self, line: str) -> list[str]:
        self.console.out.clear()
        await self.console.handle(line)
        out = list(self.console.out)
        self.console.out.clear()
        return out

    async def start(self) -> int:
        await self.run(f"/new Printer on floor 2 prints nothing ({next(_problems)})")
        assert self.console.current is not None
        return self.console.current

    async def settle(self) -> None:
        await self.app.engine.turns.drain()

    async def refresh(self, sid: int) -> None:
        pass

    async def perform(self, case: Case, sid: int, who: str) -> Any:
        await self.run(CONSOLE_AS[who])
        await self.run(f"/open {sid}")
        out = await self.run(CONSOLE_LINES[case.action].format(sid=sid, **case.values))
        await self.run("/as Dana")
        return out

    async def controls(self, sid: int) -> set[ActionId]:
        return {a for cmd in COMMAND_TABLE for a in (cmd.action, *cmd.choices.values())}


def console_shows(case: Case, sid: int, before: State, after: State, out: list[str]) -> None:
    if case.code == OutcomeCode.PREVIEW_READY:
        kind = console_m.PREVIEW_KINDS["resolve" if case.action == ActionId.PREVIEW_RESOLVE else "escalate"]
        assert out and out[0].startswith(f"── {kind} preview (state v"), out
        return
    outcome = Outcome(code=case.code, action=case.action, session_id=sid, params=case.params(after))
    assert out[:1] == console_render.outcome(outcome)[:1], out


SHOWS = {"slack": slack_shows, "teams": teams_shows, "console": console_shows}


# One running bot per surface for the module --------------------------------------------------------

@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cw() -> AsyncIterator[FakeConnectWise]:
    async with FakeConnectWise() as fake:
        seed_demo(fake)
        yield fake


def _cw_settings(cw: FakeConnectWise) -> dict[str, Any]:
    return {"RF_CW_API_URL": cw.base_url, "RF_SECRET_KEY": new_key(), "RF_PSA_TIMEOUT": 3}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def slack_driver(tmp_path_factory: pytest.TempPathFactory, cw: FakeConnectWise) -> AsyncIterator[SlackDriver]:
    tmp = tmp_path_factory.mktemp("slack")
    async with FakeSlack() as slack, FakeAnthropic() as anthropic:
        for uid, name, admin in (("UDANA", "Dana", True), ("USAM", "Sam", False), ("UVIC", "Vic", False)):
            slack.add_user(uid, name, email=f"{name.lower()}@acme.example", is_admin=admin)
        slack.add_channel("C1", "helpdesk")
        settings = slack_settings(tmp, slack, anthropic, **_cw_settings(cw))
        app = await build_app(settings, platforms=True)
        server = TestServer(make_web_app(app))
        await server.start_server()
        try:
            async with SlackClient(str(server.make_url("")), SECRET) as client:
                bot = SlackBot(app=app, slack=slack, anthropic=anthropic, client=client, base_url=str(server.make_url("")),
                               settings=settings)
                driver = SlackDriver(bot)
                assert app.slack is not None
                dana = await app.slack.surface.sign_in(SLACK_TEAM, "UDANA")
                driver.account_id, driver.owner = dana.actor.account_id, dana.actor
                await app.slack.surface.sign_in(SLACK_TEAM, "USAM")
                vic = await app.slack.surface.sign_in(SLACK_TEAM, "UVIC")
                await app.engine.tenants.set_role(actor=dana.actor, member_id=vic.member.id or 0, role="viewer")
                await app.engine.psa.configure(actor=dana.actor, values=dict(CONNECT))
                yield driver
        finally:
            await server.close()
            await app.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def teams_driver(tmp_path_factory: pytest.TempPathFactory, cw: FakeConnectWise) -> AsyncIterator[TeamsDriver]:
    tmp = tmp_path_factory.mktemp("teams")
    connector, issuer, hooks = FakeBotConnector(), FakeTeamsIssuer(), ResponseUrls()
    await connector.start()
    await issuer.start()
    await hooks.start()
    for user in (EVE, DANA_T, SAM_T, VIC_T):
        for channel in (DESK, ESCALATIONS):
            connector.add_member(channel, id=user.id, name=user.name, email=user.email, aad_object_id=user.aad,
                                 user_principal_name=user.email, tenant_id=TENANT)
    try:
        async with FakeSlack() as slack, FakeAnthropic() as anthropic:
            settings = Settings(
                RF_SQLITE_PATH=tmp / "teams.db", ANTHROPIC_API_KEY="sk-ant-test", ANTHROPIC_BASE_URL=anthropic.base_url,
                RF_LLM_MAX_RETRIES=0, RF_LLM_TIMEOUT=10, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SLACK_SECRET,
                RF_SLACK_API_URL=slack.base_url, RF_SLACK_POST_INTERVAL=0.0, MICROSOFT_APP_ID=APP_ID,
                RF_TEAMS_OPENID_URL=issuer.metadata_url, **_cw_settings(cw))
            app = await build_app(settings, platforms=True)
            clock = ShiftedClock()
            app.engine.deps.clock = clock
            server = TestServer(make_web_app(app), host="127.0.0.1")
            await server.start_server()
            try:
                async with aiohttp.ClientSession() as http, SlackClient(str(server.make_url("")), SLACK_SECRET) as sc:
                    bot = TeamsBot(app=app, connector=connector, issuer=issuer, anthropic=anthropic, slack=slack,
                                   hooks=hooks, slack_client=sc, base_url=str(server.make_url("")).rstrip("/"),
                                   clock=clock, http=http)
                    driver = TeamsDriver(bot)
                    for user in (EVE, SAM_T, VIC_T):  # signed in by a message that is no session's
                        await bot.say(user, bot.channel(DESK, f"hello-{user.name}"), "hello")
                        await bot.settle()
                    account = await bot.account_of()
                    assert account is not None
                    driver.account_id = account
                    driver.owner = await _owner_of(app, account)
                    vic = await driver.member("Vic")
                    await app.engine.tenants.set_role(actor=driver.owner, member_id=vic.member_id, role="viewer")
                    await app.engine.psa.configure(actor=driver.owner, values=dict(CONNECT))
                    yield driver
            finally:
                await server.close()
                await app.close()
    finally:
        await hooks.close()
        await issuer.close()
        await connector.close()


async def _owner_of(app: App, account_id: int) -> Actor:
    async with app.engine.deps.uow_factory() as uow:
        members = await uow.members.list(account_id=account_id, active_only=False)
    [owner] = [m for m in members if str(m.role) == "owner"]
    return Actor(account_id=account_id, member_id=owner.id or 0)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def console_driver(tmp_path_factory: pytest.TempPathFactory, cw: FakeConnectWise) -> AsyncIterator[ConsoleDriver]:
    tmp: Path = tmp_path_factory.mktemp("console")
    async with FakeAnthropic() as anthropic:
        settings = Settings(RF_SQLITE_PATH=tmp / "console.db", ANTHROPIC_API_KEY="sk-ant-test",
                            ANTHROPIC_BASE_URL=anthropic.base_url, RF_LLM_MAX_RETRIES=0, RF_LLM_TIMEOUT=10,
                            **_cw_settings(cw))
        notifier = ConsoleNotifier()
        app = await build_app(settings, notifiers=[notifier])
        try:
            console = await open_console(app.engine, notifier, account_name="Local", user="Dana", model=None)
            driver = ConsoleDriver(app, console, anthropic)
            driver.account_id, driver.owner = console.actor.account_id, console.actor
            for line in ("/as Sam engineer", "/as Vic viewer", "/as Dana"):
                await driver.run(line)
            await app.engine.psa.configure(actor=driver.owner, values=dict(CONNECT))
            yield driver
        finally:
            await app.close()


@pytest.fixture
def driver(request: pytest.FixtureRequest) -> Driver:
    return request.getfixturevalue(f"{request.param}_driver")


# The tests ------------------------------------------------------------------------------------------

def _params() -> list[Any]:
    out = []
    for surface in SURFACES:
        for case in CASES:
            marks = [pytest.mark.xfail(reason=case.xfail[surface], strict=True)] if surface in case.xfail else []
            out.append(pytest.param(surface, case, id=f"{surface}-{case.id}", marks=marks))
    return out


@pytest.mark.parametrize(("driver", "case"), _params(), indirect=["driver"])
async def test_every_action_from_every_surface(driver: Driver, case: Case) -> None:
    sid = await driver.new_session()
    await driver.setup(case.setup, sid)
    before = await read_state(driver.app, driver.account_id, sid)
    shown = await driver.perform(case, sid, case.by)
    after = await read_state(driver.app, driver.account_id, sid)
    case.check(before, after)
    SHOWS[driver.name](case, sid, before, after, shown)


@pytest.mark.parametrize("driver", SURFACES, indirect=True)
async def test_a_viewer_is_refused_the_same_everywhere(driver: Driver) -> None:
    sid = await driver.new_session()
    viewer = await driver.member("Vic")
    apply = next(c for c in CASES if c.action == ActionId.APPLY_FIX)
    with pytest.raises(Forbidden) as refused:  # core's refusal, to word it as each surface does
        await driver.app.engine.actions.perform(viewer, Action(id=ActionId.APPLY_FIX, session_id=sid))
    assert refused.value.reason.startswith("access."), refused.value.reason
    before = await read_state(driver.app, driver.account_id, sid)
    shown = await driver.perform(apply, sid, "viewer")
    after = await read_state(driver.app, driver.account_id, sid)
    assert after == before and after.status == str(SessionStatus.ACTIVE)
    if driver.name == "slack":
        assert shown["told"] == [slack_error(refused.value)], shown
    elif driver.name == "teams":
        assert shown["body"]["value"] == teams_error(refused.value), shown["body"]
    else:
        assert shown == [console_m.ERROR.format(message=console_error(refused.value))], shown
