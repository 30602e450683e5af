"""The PSA settings card (R40): the connection, the statuses per board, the time entries and the
caller's own PSA member, as one Adaptive Card with a button per section. Pure: what it shows is a
`SettingsView` gathered by adapters/teams/settings.py, including what each save answered.

Each board's menus offer only that board's own statuses (closed ones marked), so a status of another
board can't be chosen; core refuses it anyway when a forged submit names one. The connection's
inputs sit in a card of their own (`Action.ShowCard`): its required fields then hold back only its
own submit, and a typed key is never sent with another section's. Secrets are never filled in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from adapters.teams import cards_text as t
from adapters.teams.cards_base import (
    Element,
    action_set,
    adaptive_card,
    fact_set,
    fit_count,
    heading,
    safe,
    show_card,
    subtle,
    text_blocks,
    title,
)
from adapters.teams.settings_actions import (
    ME_MEMBER,
    NO_VALUE,
    TIME_BILLABLE,
    TIME_ENABLED,
    TIME_WORK_ROLE,
    TIME_WORK_TYPE,
    SettingsAction,
    board_input,
    connection_input,
    settings_button,
)
from adapters.teams.typeahead import Dataset, typeahead
from core.models import StatusRole
from core.psa import BillableOption, ConnectionReport, PsaField, PsaList, WorkCode
from core.psa_settings import BoardOptions, PsaOverview, TimeOptions


class Section(StrEnum):
    CONNECTION = "connection"
    STATUSES = "statuses"
    TIME = "time"
    ME = "me"


@dataclass(frozen=True, kw_only=True)
class Notice:
    """A line a save answered with, by the section (or board) it is about."""

    text: str
    ok: bool = False


@dataclass(frozen=True, kw_only=True)
class SettingsView:
    fields: tuple[PsaField, ...]
    overview: PsaOverview
    boards: Sequence[BoardOptions] | None = None  # None: not read (see boards_problem)
    boards_problem: str | None = None
    time: TimeOptions | None = None
    time_problem: str | None = None
    notices: Mapping[Section, Sequence[Notice]] = field(default_factory=dict)
    board_notices: Mapping[int, Sequence[Notice]] = field(default_factory=dict)
    typed: Mapping[str, str] = field(default_factory=dict)  # non-secret connection values, shown again


def psa_settings_card(view: SettingsView) -> dict[str, Any]:
    """The whole card; boards that would not fit one message are counted, not shown."""
    psa = view.overview.psa_name
    state = t.PSA_CONNECTED if view.overview.connected else t.PSA_NOT_CONNECTED
    head: list[Element] = [*title(t.PSA_TITLE.format(psa=psa)), *subtle(state if view.fields else t.PSA_NO_ADAPTER)]
    rest = [*_time(view), *_me(view)]
    boards = list(view.boards or [])

    def build(count: int) -> dict[str, Any]:
        return adaptive_card([*head, *_connection(view), *_statuses(view, boards[:count], len(boards) - count), *rest])

    return build(fit_count(build, len(boards)))


def report_notices(psa: str, report: ConnectionReport) -> list[Notice]:
    """A connection test as the card says it: ✓ when it works, else each problem in the PSA's words."""
    found = [Notice(text=t.PSA_DISCOVERED.format(key=k, value=v), ok=True) for k, v in report.discovered.items()]
    if report.ok:
        member = t.PSA_CHECK_MEMBER.format(name=report.api_member) if report.api_member else ""
        found.append(Notice(text=t.PSA_CHECK_OK.format(psa=psa, member=member), ok=True))
    return found + [Notice(text=t.PSA_CHECK_PROBLEM.format(message=p.message)) for p in report.problems]


def _notices(notices: Sequence[Notice]) -> list[Element]:
    out: list[Element] = []
    for notice in notices:
        out += text_blocks(notice.text, color="Good" if notice.ok else "Attention", weight="Bolder", spacing="Small")
    return out


def _short_label(label: str) -> str:
    return label.split(" (")[0]


# Connection ---------------------------------------------------------------------------------------

def _connection(view: SettingsView) -> list[Element]:
    psa, shown, connected = view.overview.psa_name, view.overview.shown, view.overview.connected
    body = heading(t.PSA_CONNECTION)
    if not view.fields:
        return body + subtle(t.PSA_NO_ADAPTER)
    if connected:
        body.append(fact_set([(_short_label(f.label), shown.get(f.name) or t.PSA_NOT_SET) for f in view.fields]))
    body += _notices(view.notices.get(Section.CONNECTION, ()))
    inputs: list[Element] = subtle(t.PSA_CHANGE_INTRO) if connected else []
    for f in view.fields:
        inputs.append(_connection_input(f, view, connected))
    submit = settings_button(SettingsAction.CONNECTION, t.PSA_SAVE_CONNECTION, style="positive")
    unfold = show_card(t.PSA_CHANGE if connected else t.PSA_CONNECT.format(psa=psa), inputs, submit,
                       style=None if connected else "positive")
    buttons = [unfold] + ([settings_button(SettingsAction.TEST, t.PSA_TEST)] if connected else [])
    return [*body, action_set(buttons)]


def _connection_input(f: PsaField, view: SettingsView, connected: bool) -> Element:
    element: Element = {"type": "Input.Text", "id": connection_input(f.name), "label": f.label}
    if f.secret:  # never filled in: what is stored is only said to be there
        if f.name in view.overview.shown:
            element["placeholder"] = t.PSA_SECRET_SET
    else:
        value = view.typed.get(f.name, view.overview.shown.get(f.name))
        if value:
            element["value"] = value
    if f.required and not connected:
        element["isRequired"] = True
        element["errorMessage"] = t.REQUIRED.format(label=_short_label(f.label))
    return element


# Statuses per board ------------------------------------------------------------------------------

def _statuses(view: SettingsView, boards: Sequence[BoardOptions], more: int) -> list[Element]:
    psa = view.overview.psa_name
    body = heading(t.PSA_STATUSES)
    if view.boards is None:
        return body + subtle(view.boards_problem or t.PSA_CONNECT_FIRST.format(psa=psa))
    body += subtle(t.PSA_STATUSES_INTRO)
    body += _notices(view.notices.get(Section.STATUSES, ()))
    if not view.boards:
        return body + subtle(t.PSA_NO_BOARDS.format(psa=psa))
    for options in boards:
        body.append(_board(options, view.board_notices.get(options.board.id, ())))
    if more:
        body += subtle(t.PSA_MORE_BOARDS.format(n=more))
    return [*body, action_set([settings_button(SettingsAction.STATUSES, t.PSA_SAVE_STATUSES, style="positive")])]


def _board(options: BoardOptions, notices: Sequence[Notice]) -> Element:
    columns = [{"type": "Column", "width": "stretch", "items": [_status_menu(options, role)]} for role in StatusRole]
    items: list[Element] = [*text_blocks(f"**{options.board.name}**", spacing="Medium"),
                            {"type": "ColumnSet", "spacing": "Small", "columns": columns}]
    if options.statuses.warning:
        items += text_blocks(t.PSA_LIST_WARNING.format(warning=options.statuses.warning), color="Warning", spacing="Small")
    items += _notices(notices)
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


def _status_menu(options: BoardOptions, role: StatusRole) -> Element:
    chosen = options.chosen.get(role)
    choices = [{"title": t.PSA_STATUS_KEEP, "value": NO_VALUE}]
    choices += [{"title": safe(t.PSA_STATUS_CLOSES.format(name=s.name) if s.closed else s.name), "value": str(s.id)}
                for s in options.statuses]
    if chosen is not None and all(s.id != chosen.status_id for s in options.statuses):
        choices.append({"title": safe(t.PSA_STATUS_GONE.format(name=chosen.status_name)), "value": str(chosen.status_id)})
    return {"type": "Input.ChoiceSet", "id": board_input(options.board.id, role), "style": "compact",
            "label": t.PSA_ROLE_LABELS.get(role.value, role.value), "choices": choices,
            "value": str(chosen.status_id) if chosen is not None else NO_VALUE}


# Time entries ------------------------------------------------------------------------------------

def _time(view: SettingsView) -> list[Element]:
    psa = view.overview.psa_name
    body = heading(t.PSA_TIME)
    settings = view.time.settings if view.time is not None else view.overview.time
    body.append({"type": "Input.Toggle", "id": TIME_ENABLED, "title": t.PSA_TIME_TOGGLE, "wrap": True,
                 "value": "true" if settings.enabled else "false", "valueOn": "true", "valueOff": "false"})
    if view.time is None:
        body += subtle(view.time_problem or t.PSA_CONNECT_FIRST.format(psa=psa))
    else:
        body.append(_work_menu(TIME_WORK_TYPE, t.PSA_WORK_TYPE, view.time.work_types, settings.work_type_id,
                               settings.work_type_name, psa))
        body += _warning(view.time.work_types)
        body.append(_work_menu(TIME_WORK_ROLE, t.PSA_WORK_ROLE, view.time.work_roles, settings.work_role_id,
                               settings.work_role_name, psa))
        body += _warning(view.time.work_roles)
    body.append({"type": "Input.ChoiceSet", "id": TIME_BILLABLE, "style": "compact", "label": t.PSA_BILLABLE,
                 "value": settings.billable.value,
                 "choices": [{"title": t.PSA_BILLABLE_LABELS.get(o.value, o.value).format(psa=psa), "value": o.value}
                             for o in BillableOption]})
    body += _notices(view.notices.get(Section.TIME, ()))
    return [*body, action_set([settings_button(SettingsAction.TIME, t.PSA_SAVE_TIME, style="positive")])]


def _work_menu(input_id: str, label: str, codes: PsaList[WorkCode], chosen: int | None, chosen_name: str | None,
               psa: str) -> Element:
    def title_of(code: WorkCode) -> str:
        return t.PSA_WORK_MARKED.format(name=code.name, psa=psa) if code.default else code.name

    choices = [{"title": t.PSA_WORK_DEFAULT.format(psa=psa), "value": NO_VALUE}]
    choices += [{"title": safe(title_of(code)), "value": str(code.id)} for code in codes]
    if chosen is not None and all(code.id != chosen for code in codes):
        choices.append({"title": safe(t.PSA_WORK_GONE.format(name=chosen_name or f"#{chosen}", psa=psa)),
                        "value": str(chosen)})
    return {"type": "Input.ChoiceSet", "id": input_id, "style": "compact", "label": label, "choices": choices,
            "value": str(chosen) if chosen is not None else NO_VALUE}


def _warning(items: PsaList[Any]) -> list[Element]:
    return text_blocks(t.PSA_LIST_WARNING.format(warning=items.warning), color="Warning", spacing="Small") \
        if items.warning else []


# My member ---------------------------------------------------------------------------------------

def _me(view: SettingsView) -> list[Element]:
    psa, me = view.overview.psa_name, view.overview.me
    body = [*heading(t.PSA_ME), *subtle(t.PSA_ME_INTRO.format(psa=psa))]
    if me is not None:
        body += text_blocks(t.PSA_ME_IS.format(name=me.psa_member_name, psa=psa,
                                               how=t.PSA_ME_HOW.get(me.matched_by, me.matched_by)))
    else:
        body += text_blocks(t.PSA_ME_NONE.format(psa=psa))
    body += _notices(view.notices.get(Section.ME, ()))
    if not view.overview.connected:
        return body + subtle(t.PSA_CONNECT_FIRST.format(psa=psa))
    body.append(typeahead(ME_MEMBER, t.PSA_ME_PICK.format(psa=psa), Dataset.MEMBERS,
                          value=str(me.psa_member_id) if me is not None else None,
                          shown=me.psa_member_name if me is not None else None, placeholder=t.PSA_ME_SEARCH))
    return [*body, action_set([settings_button(SettingsAction.ME, t.PSA_ME_SAVE, style="positive"),
                               settings_button(SettingsAction.ME_BY_EMAIL, t.PSA_ME_EMAIL)])]
