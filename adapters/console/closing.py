"""Console commands that close or hand off a session, and the account-level ones."""

from __future__ import annotations

from adapters.console import messages as m
from adapters.console import render
from adapters.console.console import Console, _int, _need, command
from core.accounts import parse_pref_value
from core.errors import InvalidInput
from core.metric import parse_period
from core.psa_link import CW_FIELDS
from core.resolution import TIME_PREF, working_minutes


@command("preview", "/preview resolve|escalate")
async def _preview(c: Console, rest: str) -> None:
    kind = rest.strip().lower()
    match kind:  # `match` narrows the word to the literal kinds the preview takes
        case "resolve" | "escalate":
            preview = await c.engine.previews.preview(actor=c.actor, session_id=c.session_id(), kind=kind)
        case _:
            raise InvalidInput(m.USAGE.format(usage="/preview resolve|escalate"))
    c.say(*render.preview(preview))
    if kind == "resolve":
        view = await c.engine.sessions.view(actor=c.actor, session_id=c.session_id())
        prefs = await c.engine.accounts.preferences(actor=c.actor)
        if view.session.ticket_ref and prefs.get(TIME_PREF) is True:
            minutes = working_minutes(view.session, c.engine.deps.clock.now())
            c.say(m.TIME_OFFER.format(minutes=minutes, id=view.session.ticket_ref))


@command("resolve", "/resolve [+time] [summary]")
async def _resolve(c: Console, rest: str) -> None:
    log_time = rest == "+time" or rest.startswith("+time ")
    summary = rest.removeprefix("+time").strip() if log_time else rest
    result = await c.engine.resolution.resolve(actor=c.actor, session_id=c.session_id(), summary=summary or None,
                                               log_time=log_time)
    detail = m.RESOLVED_PSA_DETAIL if result.ticket_id else m.RESOLVED_LOCAL_DETAIL
    c.say(m.RESOLVED.format(id=result.session.id, outcome=result.outcome, detail=detail))
    if result.ticket_id:
        c.say(m.WRITEBACK_QUEUED.format(id=result.ticket_id))
        await c.run_writebacks()


@command("escalate", "/escalate <reason> [@name]")
async def _escalate(c: Console, rest: str) -> None:
    text = _need(rest, "/escalate <reason> [@name]")
    words = text.split()
    target = words[-1] if words[-1].startswith("@") and len(words) > 1 else None
    reason = " ".join(words[:-1]) if target else text
    result = await c.engine.handoffs.escalate(actor=c.actor, session_id=c.session_id(), reason=reason, target=target)
    to = f" Target: {result.target.name}." if result.target else ""
    detail = m.ESCALATED_PSA_DETAIL if result.ticket_id else m.ESCALATED_LOCAL_DETAIL
    c.say(m.ESCALATED.format(id=result.session.id, outcome=result.outcome, target=to, detail=detail))
    if result.ticket_id:
        c.say(m.WRITEBACK_QUEUED.format(id=result.ticket_id))
        await c.run_writebacks()


@command("park")
async def _park(c: Console, rest: str) -> None:
    session = await c.engine.sessions.park(actor=c.actor, session_id=c.session_id(), reason=rest)
    c.say(m.PARKED.format(id=session.id))


@command("queue")
async def _queue(c: Console, rest: str) -> None:
    entries = await c.engine.handoffs.queue(actor=c.actor)
    c.say(*render.queue(entries, c.engine.deps.clock.now()))


@command("pickup", "/pickup <session>")
async def _pickup(c: Console, rest: str) -> None:
    pickup = await c.engine.handoffs.pickup(actor=c.actor, session_id=_int(rest, "/pickup <session>"))
    c.current = pickup.session.id
    c.say(m.PICKED_UP.format(id=pickup.session.id, by=pickup.escalated_by.name if pickup.escalated_by else "?"))
    c.say(*pickup.package.splitlines())


@command("stats", "/stats [7d|30d|90d]")
async def _stats(c: Console, rest: str) -> None:
    result = await c.engine.metric.pickup(actor=c.actor, days=parse_period(rest))
    c.say(*render.metric(result))


@command("prefs", "/prefs [key=value ...]")
async def _prefs(c: Console, rest: str) -> None:
    """Account preferences; the cw_* keys are the ConnectWise connection (keys encrypted, never shown)."""
    values: dict[str, object] = {}
    connection: dict[str, str] = {}
    for pair in rest.split():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(m.USAGE.format(usage="/prefs [key=value ...]"))
        if key in CW_FIELDS:
            connection[key] = value
        else:
            values[key] = parse_pref_value(value)
    if connection:
        await c.engine.psa.configure(actor=c.actor, values=connection)
    prefs = (await c.engine.accounts.set_preferences(actor=c.actor, values=values) if values
             else await c.engine.accounts.preferences(actor=c.actor))
    shown = {**prefs, **await c.engine.psa.shown_settings(actor=c.actor)}
    c.say(*([m.PREFS_LINE.format(key=k, value=v) for k, v in sorted(shown.items())] or [m.PREFS_EMPTY]))


@command("link", "/link <ticket#>")
async def _link(c: Console, rest: str) -> None:
    link = await c.engine.psa.link(actor=c.actor, session_id=c.session_id(), ref=_need(rest, "/link <ticket#>"))
    t = link.ticket
    c.say(m.LINKED.format(id=t.id, summary=t.summary, company=t.company_name, board=t.board_name, status=t.status_name))


@command("retry")
async def _retry(c: Console, rest: str) -> None:
    wb = await c.engine.writebacks.retry(actor=c.actor, session_id=c.session_id())
    c.say(m.RETRY_QUEUED.format(id=wb.ticket_id))
    await c.run_writebacks()


@command("connect", "/connect")
async def _connect(c: Console, rest: str) -> None:
    """A one-time code that joins a Teams tenant (or another Slack workspace) to this account."""
    code, _ = await c.engine.tenants.create_connect_code(actor=c.actor)
    c.say(m.CONNECT_CODE.format(code=code))
