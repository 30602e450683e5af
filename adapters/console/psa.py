"""The console's PSA commands: `/psa` settings (connection, statuses per board, time entries, your
PSA member) and `/link <words>`, which searches open tickets when the words are not a ticket number."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import adapters.console.actions  # noqa: F401  (registers /link, which the ticket search wraps)
from adapters.console import messages as m
from adapters.console.console import COMMANDS, Console, _int, command
from core.errors import InvalidInput
from core.models import BoardStatus, StatusRole
from core.psa import BillableOption, ConnectionReport, PsaList, parse_ticket_ref
from core.psa_settings import UNSET, Unset


def _pairs(words: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise InvalidInput(m.PSA_USAGE)
        pairs[key.lower()] = value
    return pairs


def _optional_id(value: str) -> int | None:
    return None if value.lower() in ("", "none") else _int(value, m.PSA_SYNTAX)


def _billable(option: BillableOption) -> str:
    return m.PSA_BILLABLE.get(option.value, option.value)


def _warning(items: PsaList[Any]) -> list[str]:
    return [m.PSA_LIST_WARNING.format(warning=items.warning)] if items.warning else []


def _chosen(chosen: Mapping[StatusRole, BoardStatus]) -> str:
    return ", ".join(m.PSA_CHOICE.format(role=m.PSA_ROLES[role.value], status=s.status_name)
                     for role, s in sorted(chosen.items(), reverse=True))


async def _overview(c: Console) -> None:
    o = await c.engine.psa_settings.overview(actor=c.actor)
    keys = ", ".join(f.name for f in c.engine.deps.psa.fields) if c.engine.deps.psa else m.PSA_NONE
    c.say(m.PSA_HEAD.format(psa=o.psa_name, state=m.PSA_CONNECTED if o.connected else m.PSA_NOT_CONNECTED.format(keys=keys)))
    c.say(*(m.PSA_SETTING.format(key=k, value=v) for k, v in o.shown.items()))
    c.say(*([m.PSA_BOARD_STATUS.format(board=s.board_name, role=m.PSA_ROLES[s.role.value], status=s.status_name,
                                       closes=m.PSA_CLOSES if s.closes else "") for s in o.board_statuses]
            or [m.PSA_NO_BOARD_STATUS]))
    t = o.time
    c.say(m.PSA_TIME.format(state="on" if t.enabled else "off", work_type=t.work_type_name or m.PSA_TIME_DEFAULT,
                            work_role=t.work_role_name or m.PSA_TIME_DEFAULT, billable=_billable(t.billable)))
    c.say(m.PSA_ME.format(psa=o.psa_name, name=o.me.psa_member_name, id=o.me.psa_member_id,
                          how=m.PSA_MATCHED.get(o.me.matched_by, o.me.matched_by))
          if o.me else m.PSA_ME_NONE.format(psa=o.psa_name))


async def _connect(c: Console, words: list[str]) -> None:
    result = await c.engine.psa.configure(actor=c.actor, values=_pairs(words))
    c.say(*(m.PSA_SETTING.format(key=k, value=v) for k, v in result.shown.items()))
    _say_report(c, result.report)


def _say_report(c: Console, report: ConnectionReport) -> None:
    psa = c.engine.deps.psa.display_name if c.engine.deps.psa else "The PSA"
    c.say(*(m.PSA_DISCOVERED.format(key=k, value=v) for k, v in report.discovered.items()))
    if report.ok:
        member = m.PSA_CHECK_MEMBER.format(name=report.api_member) if report.api_member else ""
        c.say(m.PSA_CHECK_OK.format(psa=psa, member=member))
    c.say(*(m.PSA_CHECK_PROBLEM.format(message=p.message) for p in report.problems))


async def _boards(c: Console) -> None:
    boards = await c.engine.psa_settings.boards(actor=c.actor)
    c.say(*_warning(boards))
    for options in boards:
        chosen = _chosen(options.chosen)
        c.say(m.PSA_BOARD.format(id=options.board.id, name=options.board.name,
                                 chosen=m.PSA_BOARD_CHOSEN.format(choices=chosen) if chosen else ""))
        c.say(*(m.PSA_STATUS_LINE.format(id=s.id, name=s.name, closed=m.PSA_STATUS_CLOSED if s.closed else "")
                for s in options.statuses), *_warning(options.statuses))


async def _statuses(c: Console, words: list[str]) -> None:
    if not words:
        raise InvalidInput(m.PSA_USAGE)
    board_id = _int(words[0], m.PSA_SYNTAX)
    pairs = _pairs(words[1:])
    roles = {role.value: role for role in StatusRole}
    if not pairs or any(key not in roles for key in pairs):
        raise InvalidInput(m.PSA_USAGE)
    options = await c.engine.psa_settings.set_board_statuses(
        actor=c.actor, board_id=board_id, choices={roles[k]: _optional_id(v) for k, v in pairs.items()})
    c.say(m.PSA_BOARD.format(id=options.board.id, name=options.board.name,
                             chosen=m.PSA_BOARD_CHOSEN.format(choices=_chosen(options.chosen) or m.PSA_NONE)))


async def _time(c: Console, words: list[str]) -> None:
    enabled = None
    if words and words[0].lower() in ("on", "off"):
        enabled = words.pop(0).lower() == "on"
    pairs = _pairs(words)
    if any(key not in ("type", "role", "billable") for key in pairs):
        raise InvalidInput(m.PSA_USAGE)
    if enabled is None and not pairs:
        options = await c.engine.psa_settings.time_options(actor=c.actor)
        c.say(m.PSA_WORK_TYPES, *(m.PSA_WORK_CODE.format(id=w.id, name=w.name, default=m.PSA_WORK_DEFAULT if w.default else "")
                                  for w in options.work_types), *_warning(options.work_types))
        c.say(m.PSA_WORK_ROLES, *(m.PSA_WORK_CODE.format(id=w.id, name=w.name, default=m.PSA_WORK_DEFAULT if w.default else "")
                                  for w in options.work_roles), *_warning(options.work_roles))
        return
    work_type: int | None | Unset = _optional_id(pairs["type"]) if "type" in pairs else UNSET
    work_role: int | None | Unset = _optional_id(pairs["role"]) if "role" in pairs else UNSET
    t = await c.engine.psa_settings.set_time(actor=c.actor, enabled=enabled, work_type_id=work_type,
                                             work_role_id=work_role, billable=pairs.get("billable"))
    c.say(m.PSA_TIME.format(state="on" if t.enabled else "off", work_type=t.work_type_name or m.PSA_TIME_DEFAULT,
                            work_role=t.work_role_name or m.PSA_TIME_DEFAULT, billable=_billable(t.billable)))


async def _members(c: Console) -> None:
    members = await c.engine.psa_settings.members(actor=c.actor)
    c.say(*(m.PSA_MEMBER.format(id=x.id, name=x.name, identifier=x.identifier, email=f", {x.email}" if x.email else "")
            for x in members), *_warning(members))


async def _me(c: Console, words: list[str]) -> None:
    chosen = _int(words[0], m.PSA_SYNTAX) if words else None
    link = await c.engine.psa_settings.match_me(actor=c.actor, psa_member_id=chosen)
    psa = c.engine.deps.psa.display_name if c.engine.deps.psa else "PSA"
    c.say(m.PSA_ME.format(psa=psa, name=link.psa_member_name, id=link.psa_member_id,
                      how=m.PSA_MATCHED.get(link.matched_by, link.matched_by)).strip())


@command("psa", "/psa [connect|test|boards|statuses|time|members|me]")
async def _psa(c: Console, rest: str) -> None:
    words = rest.split()
    sub = words.pop(0).lower() if words else ""
    if sub == "":
        await _overview(c)
    elif sub == "connect":
        await _connect(c, words)
    elif sub == "test":
        _say_report(c, await c.engine.psa.test(actor=c.actor))
    elif sub == "boards":
        await _boards(c)
    elif sub == "statuses":
        await _statuses(c, words)
    elif sub == "time":
        await _time(c, words)
    elif sub == "members":
        await _members(c)
    elif sub == "me":
        await _me(c, words)
    else:
        raise InvalidInput(m.PSA_USAGE)


_link_ticket, _link_usage = COMMANDS["link"]


@command("link", _link_usage)
async def _link(c: Console, rest: str) -> None:
    """A ticket number (or URL) links it; other words search the open tickets to pick from."""
    text = rest.strip()
    if not text or parse_ticket_ref(text) is not None:
        await _link_ticket(c, rest)
        return
    tickets = await c.engine.psa.search(actor=c.actor, text=text)
    if not tickets:
        c.say(m.SEARCH_EMPTY.format(text=text), *_warning(tickets))
        return
    c.say(m.SEARCH_HEAD.format(text=text), *(m.SEARCH_LINE.format(
        id=t.id, summary=t.summary, company=t.company_name or "—", board=t.board_name or "—", status=t.status_name or "—")
        for t in tickets), *_warning(tickets), m.SEARCH_NEXT)
