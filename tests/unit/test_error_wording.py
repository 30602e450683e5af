"""Issue 11: every refusal core can raise, as Slack and Teams word it, names none of the console's
commands (and Teams none of Slack's); the console names its own where that helps. Also: raw status
and outcome names never reach people in the task lane. The refusals are found by reading core's
source, so a new `raise` is covered the day it is written."""

from __future__ import annotations

import ast
import json
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.console import wording as console_wording
from adapters.slack import wording as slack_wording
from adapters.teams import wording as teams_wording
from core.errors import DomainError
from core.models import FixStatus, SessionStatus

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"

COMMANDS = ("promote|partial|failed|escalate|link|prefs|retry|fix|new|open|as|fact|editfact|delfact|resolve|park|"
            "apply|worked|dismiss|confirm|notyet|preview|pickup|queue|stats|sessions|lane|help|quit|connect")
CONSOLE_SYNTAX = re.compile(rf"(?<![\w/])/({COMMANDS})\b")
SLACK_SYNTAX = re.compile(r"(?<![\w/])/rf\b")
RAW_NAMES = re.compile(r"\b(applied_success|applied_failed|applied_partial|writeback_pending|writeback_failed|"
                       r"resolved_local|escalated_local|status_not_verified)\b")
CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
ERRORS = {"DomainError", "NotFound", "Conflict", "Forbidden", "InvalidInput", "IllegalTransition"}

# What a refusal's parameters look like, by name (anything else reads "x").
SAMPLE_PARAMS: dict[str, Any] = {"label": "Q1", "why": "the assistant timed out", "session_id": 7, "fix_id": 55,
                                 "item_id": 201, "ref": "Q9", "pref": "cw_time_entries", "length": 600, "max": 500,
                                 "by": "Sam", "name": "Val", "target": "@nobody", "status": "applied_success",
                                 "status_label": "worked", "outcome": "applied_failed", "outcome_label": "didn't work"}

# Where the console's own command is the way on, its wording says so.
CONSOLE_HINTS = {"fact.synthesis_unavailable": "/promote Q1 <text>", "fact.nothing_confirms": "/promote Q1 <text>",
                 "fix.partial_notes_missing": "/partial <notes>", "escalate.reason_missing": "/escalate <reason>",
                 "fix.title_missing": "/fix <title>", "session.problem_missing": "/new <problem>",
                 "ticket.ref_invalid": "/link 12345", "time_entries.off": "/psa time on",
                 "psa.not_configured": "/psa connect"}
SURFACES = {"slack": slack_wording, "teams": teams_wording, "console": console_wording}


@dataclass(frozen=True)
class Raise:
    where: str
    reason: str | None  # None: the construction names no refusal code
    message: str | None  # the default message with its placeholders as "x"; None when built elsewhere
    params: frozenset[str]


def _constants() -> dict[str, str]:
    """Module-level string constants of core (reason codes and messages are often named once)."""
    found: dict[str, str] = {}
    for path in CORE.rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, node.value.value)
    return found


def _text(node: ast.expr | None, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "x" for part in node.values)  # type: ignore[misc]
    return None


def _error_classes(trees: list[ast.Module]) -> set[str]:
    """ERRORS and core's subclasses of them."""
    classes = set(ERRORS)
    grew = True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in classes and any(
                        isinstance(b, ast.Name) and b.id in classes for b in node.bases):
                    classes.add(node.name)
                    grew = True
    return classes


def _builders(trees: list[ast.Module], classes: set[str]) -> dict[str, list[str]]:
    """Core functions that build a refusal from their caller's code (`-> InvalidInput`, with a
    `reason` parameter): their parameters. A builder with its own code is counted inside."""
    return {node.name: names
            for tree in trees for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and isinstance(node.returns, ast.Name) and node.returns.id in classes
            and "reason" in (names := [a.arg for a in node.args.args])}


def core_raises() -> list[Raise]:
    paths = sorted(CORE.rglob("*.py"))
    trees = [ast.parse(p.read_text()) for p in paths]
    constants = _constants()
    classes = _error_classes(trees)
    builders = _builders(trees, classes)
    found: list[Raise] = []
    for path, tree in zip(paths, trees, strict=True):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            args: dict[str, ast.expr] = {k.arg: k.value for k in node.keywords if k.arg}
            if node.func.id in classes:
                if node.args:
                    args["message"] = node.args[0]
            elif node.func.id in builders:
                args.update(zip(builders[node.func.id], node.args, strict=False))
            else:
                continue
            reason_node = args.get("reason")
            reason = _text(reason_node, constants)
            if reason_node is not None and reason is None:
                continue  # a builder passing its caller's code on (`reason=reason`): counted at the caller
            params = args.get("params")
            keys = frozenset(k.value for k in params.keys if isinstance(k, ast.Constant)) if isinstance(params, ast.Dict) else frozenset()
            if node.func.id in builders:
                keys |= {k.arg for k in node.keywords if k.arg and k.arg not in builders[node.func.id]}
            found.append(Raise(where=where, reason=reason, message=_text(args.get("message"), constants), params=keys))
    return found


RAISES = core_raises()
REASONS = sorted({r.reason for r in RAISES if r.reason})


def sample(r: Raise) -> DomainError:
    return DomainError(r.message or "x", reason=r.reason, params={k: SAMPLE_PARAMS.get(k, "x") for k in r.params})


def test_the_scan_finds_core_refusals() -> None:
    assert len(REASONS) >= 60, REASONS
    for known in ("fact.synthesis_unavailable", "fix.final_outcome", "session.illegal_transition", "form.required"):
        assert known in REASONS


def test_every_refusal_in_core_names_its_code() -> None:
    assert [r.where for r in RAISES if r.reason is None] == []
    assert all(CODE.match(reason) for reason in REASONS), [r for r in REASONS if not CODE.match(r)]


@pytest.mark.parametrize("r", [r for r in RAISES if r.message], ids=lambda r: r.where)
def test_core_messages_name_no_surface_syntax_and_no_raw_names(r: Raise) -> None:
    assert r.message is not None
    assert not CONSOLE_SYNTAX.search(r.message), r
    assert not SLACK_SYNTAX.search(r.message) and "@ResolutionFlow" not in r.message, r
    assert not RAW_NAMES.search(r.message), r


@pytest.mark.parametrize("r", [r for r in RAISES if r.reason], ids=lambda r: f"{r.reason}@{r.where}")
def test_slack_and_teams_word_every_refusal_in_their_own_terms(r: Raise) -> None:
    exc = sample(r)
    slack, teams = slack_wording.error_text(exc), teams_wording.error_text(exc)
    for text in (slack, teams):
        assert text.strip() and not CONSOLE_SYNTAX.search(text), (r, text)
        assert not RAW_NAMES.search(text), (r, text)
    assert not SLACK_SYNTAX.search(teams), (r, teams)  # Teams has no slash commands


@pytest.mark.parametrize("reason", sorted(CONSOLE_HINTS))
def test_the_console_names_its_own_command_where_that_helps(reason: str) -> None:
    [r, *_] = [r for r in RAISES if r.reason == reason]
    assert CONSOLE_HINTS[reason] in console_wording.error_text(sample(r))


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_overrides_word_real_refusals_with_parameters_they_carry(surface: str) -> None:
    overrides: dict[str, str] = SURFACES[surface].OVERRIDES
    for reason, template in overrides.items():
        sites = [r for r in RAISES if r.reason == reason]
        assert sites, f"{surface} words {reason}, which core never raises"
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        for site in sites:
            assert names <= site.params | {"message"}, (surface, reason, site)
            assert SURFACES[surface].error_text(sample(site)) != (site.message or "x") or "{message}" in template


def test_a_refusal_without_an_override_reads_as_core_says_it() -> None:
    exc = DomainError("There is no session #9.", reason="session.not_found", params={"session_id": 9})
    assert {w.error_text(exc) for w in SURFACES.values()} == {"There is no session #9."}
    odd = DomainError("Plain words.", reason="fact.nothing_confirms")  # an override's parameter missing
    assert {w.error_text(odd) for w in SURFACES.values()} == {"Plain words."}


def _texts(paths: list[Path]) -> Iterator[tuple[str, str]]:
    """Every string literal in these modules but docstrings: what they can ever say."""
    for path in paths:
        tree = ast.parse(path.read_text())
        docs = {id(n.body[0].value) for n in ast.walk(tree)
                if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.body
                and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                yield f"{path.relative_to(ROOT)}:{node.lineno}", node.value


def test_nothing_core_says_names_a_console_command() -> None:
    """Beyond refusals: writeback results, lane labels and notes reach Slack and Teams too."""
    assert [(where, text) for where, text in _texts(sorted(CORE.rglob("*.py"))) if CONSOLE_SYNTAX.search(text)] == []


def test_no_slack_or_teams_text_names_a_console_command() -> None:
    paths = sorted([*(ROOT / "adapters" / "slack").glob("*.py"), *(ROOT / "adapters" / "teams").glob("*.py")])
    assert [(where, text) for where, text in _texts(paths) if CONSOLE_SYNTAX.search(text)] == []


# ---- raw status names in the task lane --------------------------------------------------------


def _lanes() -> Iterator[tuple[str, Any]]:
    # Imported here: the renderers change often, and the refusal tests above need none of them.
    from adapters.slack.blocks import lane_blocks
    from adapters.teams.cards import lane_card as teams_lane
    from core.cards import lane_card
    from tests.adapters.slack import factories as f

    for status in SessionStatus:
        for fix_status in FixStatus:
            for applied in (False, True):
                fix = f.fix(7, status=fix_status, applied_at=f.NOW + timedelta(minutes=5) if applied else None,
                            partial_notes="two of three printed" if fix_status == FixStatus.APPLIED_PARTIAL else None)
                view = f.view(f.session(status=status), active_fix=fix,
                              escalation=f.handoff(7) if status == SessionStatus.ESCALATED else None)
                card = lane_card(view)
                yield f"{status}/{fix_status}/{applied}", (lane_blocks(card), teams_lane(card))


def test_no_raw_status_or_outcome_name_in_a_rendered_lane() -> None:
    for name, rendered in _lanes():
        shown = json.dumps(rendered)
        assert not RAW_NAMES.search(shown), (name, RAW_NAMES.search(shown))
        assert not CONSOLE_SYNTAX.search(shown), (name, CONSOLE_SYNTAX.search(shown))
