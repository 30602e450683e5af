"""The console's account-level commands: the escalation queue, the metric, preferences, connect codes."""

from __future__ import annotations

import json
from typing import Any

from adapters.console import messages as m
from adapters.console import render
from adapters.console.console import Console, command
from core.accounts import parse_pref_value
from core.errors import InvalidInput
from core.metric import parse_period

MAX_PERIOD_CHARS = 8


@command("queue")
async def _queue(c: Console, rest: str) -> None:
    entries = await c.engine.handoffs.queue(actor=c.actor)
    c.say(*render.queue(entries, c.engine.deps.clock.now()))


@command("stats", "/stats [7d|30d|90d]")
async def _stats(c: Console, rest: str) -> None:
    if len(rest) > MAX_PERIOD_CHARS:  # not a period; and core would read its digits as a number first
        raise InvalidInput(m.USAGE.format(usage="/stats [7d|30d|90d]"))
    result = await c.engine.metric.pickup(actor=c.actor, days=parse_period(rest))
    c.say(*render.metric(result))


@command("prefs", "/prefs [key=value ...]")
async def _prefs(c: Console, rest: str) -> None:
    """Account preferences. The PSA connection and its settings are `/psa`'s (secrets never shown)."""
    values: dict[str, object] = {}
    for pair in rest.split():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(m.USAGE.format(usage="/prefs [key=value ...]"))
        if key.lower().startswith("cw_"):
            raise InvalidInput(m.PREFS_PSA_MOVED)
        values[key] = _pref_value(value)
    prefs = (await c.engine.accounts.set_preferences(actor=c.actor, values=values) if values
             else await c.engine.accounts.preferences(actor=c.actor))
    c.say(*([m.PREFS_LINE.format(key=k, value=v) for k, v in sorted(prefs.items())] or [m.PREFS_EMPTY]))


def _pref_value(raw: str) -> Any:
    """The value as core reads it (JSON when it parses, else the text), kept as text when the JSON
    is not storable: NaN and infinities (`1e999`) are not JSON to the database, and nesting deeper
    than the parser goes is words, not a setting."""
    try:
        value = parse_pref_value(raw)
        json.dumps(value, allow_nan=False)
    except (ValueError, RecursionError):
        return raw
    return value


@command("connect", "/connect")
async def _connect(c: Console, rest: str) -> None:
    """A one-time code that joins a Teams tenant (or another Slack workspace) to this account."""
    code, _ = await c.engine.tenants.create_connect_code(actor=c.actor)
    c.say(m.CONNECT_CODE.format(code=code))
