"""The PSA settings modals (R40) as Block Kit, and the reading back of their submissions: the panel in
`/rf settings`, the connection (one input per field the adapter declares), each board's resolved /
escalated status from that board's own statuses, the time-entry settings and the engineer's own PSA
member. Pure functions of core's values; each view passes `limits.check_view` (via views.modal)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.slack import kit
from adapters.slack import labels as w
from adapters.slack.limits import SECTION_TEXT, VIEW_BLOCKS, fit_chunks
from adapters.slack.psa_actions import (
    BILLABLE_BLOCK,
    BY_EMAIL_BLOCK,
    BY_EMAIL_VALUE,
    CONNECTION_CALLBACK,
    INPUT,
    MEMBER_BLOCK,
    MEMBER_CALLBACK,
    MEMBER_SEARCH,
    NONE_VALUE,
    OPEN_CONNECTION,
    OPEN_MEMBER,
    OPEN_STATUSES,
    OPEN_TIME,
    PANEL_BLOCK,
    RESULT_CALLBACK,
    STATUSES_CALLBACK,
    TIME_CALLBACK,
    TIME_ON_BLOCK,
    TIME_ON_VALUE,
    WORK_ROLE_BLOCK,
    WORK_TYPE_BLOCK,
    ShownBoard,
    board_block,
    encode_boards,
    field_block,
    parse_choice,
)
from adapters.slack.text import escape, shorten
from adapters.slack.views import modal
from core.errors import DomainError
from core.models import PsaMemberLink, StatusRole
from core.psa import BillableOption, ConnectionReport, PsaField, PsaList, PsaMember, Ticket, TicketStatus, WorkCode
from core.psa_link import MAX_SETTING_CHARS
from core.psa_settings import BoardOptions, TimeOptions
from core.psa_time import TimeSettings

Blocks = list[dict[str, Any]]
MAX_OPTIONS = 100  # a static_select, and an options response, hold at most 100
OPTION_TEXT = kit.OPTION_TEXT
COMPANY_CHARS = 30
ROLES = (StatusRole.RESOLVED, StatusRole.ESCALATED)


def _sections(text: str) -> Blocks:
    return [kit.section(t) for t in fit_chunks(text, SECTION_TEXT, lambda s: s)]


def result_modal(title: str, text: str) -> dict[str, Any]:
    """What a submission shows when it is done (replacing the form): Close goes back to settings."""
    return modal(title, RESULT_CALLBACK, _sections(text) or [kit.section(w.PSA_NOTHING_CHANGED)])


def working_modal(psa: str, title: str) -> dict[str, Any]:
    """Shown at once when saving takes longer than the ack allows; the result replaces it."""
    return modal(title, RESULT_CALLBACK, [kit.section(w.PSA_WORKING.format(psa=escape(psa)))])


# ---- /rf settings ------------------------------------------------------------------------------


def panel(psa: str, *, connected: bool, admin: bool) -> Blocks:
    """The PSA's part of `/rf settings`: admins set the account up; everyone picks their own member."""
    buttons = [kit.button(w.PSA_OPEN_CONNECTION, OPEN_CONNECTION), kit.button(w.PSA_OPEN_STATUSES, OPEN_STATUSES),
               kit.button(w.PSA_OPEN_TIME, OPEN_TIME)] if admin else []
    buttons.append(kit.button(w.PSA_OPEN_MEMBER.format(psa=psa), OPEN_MEMBER))
    state = w.PSA_CONNECTED if connected else w.PSA_NOT_CONNECTED
    return [kit.divider(), kit.section(w.PSA_PANEL.format(psa=escape(psa), state=state)),
            kit.actions(buttons, block_id=PANEL_BLOCK)]


# ---- the connection ----------------------------------------------------------------------------


def connection_modal(psa: str, fields: Sequence[PsaField], shown: Mapping[str, str]) -> dict[str, Any]:
    """One box per field the adapter declares. Secrets are never filled in: empty keeps the stored one."""
    blocks: Blocks = [kit.context(w.PSA_CONNECTION_INTRO)]
    for f in fields:
        stored = f.name in shown
        initial = None if f.secret else shown.get(f.name)
        hint = (w.PSA_SECRET_KEPT if stored else w.PSA_SECRET_NEW) if f.secret else \
            (None if f.required else w.PSA_OPTIONAL_FIELD)
        element = kit.text_input(INPUT, initial=initial, max_length=MAX_SETTING_CHARS)
        optional = not f.required or (f.secret and stored)
        blocks.append(kit.input_block(field_block(f.name), f.label, element, optional=optional, hint=hint))
    return modal(w.PSA_CONNECTION_TITLE, CONNECTION_CALLBACK, blocks, submit=w.SAVE)


def connection_values(fields: Sequence[PsaField], shown: Mapping[str, str],
                      values: Mapping[str, str | None]) -> dict[str, str]:
    """A submission → what configure takes: typed values; an emptied setting as "" (core clears an
    optional one and refuses a required one); an empty secret box is left out, so the key is kept."""
    out: dict[str, str] = {}
    for f in fields:
        typed = (values.get(field_block(f.name)) or "").strip()
        if typed:
            out[f.name] = typed
        elif not f.secret and f.name in shown:
            out[f.name] = ""
    return out


def connection_error_block(fields: Sequence[PsaField], exc: DomainError) -> str:
    """The box a refusal of configure names (its field, or the key in its params), else the first."""
    names = [f.name for f in fields]
    keys = exc.params.get("keys")
    for candidate in (exc.field, exc.params.get("key"), keys[0] if isinstance(keys, list) and keys else None):
        if isinstance(candidate, str) and candidate in names:
            return field_block(candidate)
    return field_block(names[0]) if names else field_block("none")


def report_modal(psa: str, report: ConnectionReport) -> dict[str, Any]:
    """The connection test's answer: ✓, or each problem in the adapter's words."""
    if report.ok:
        member = w.PSA_TEST_MEMBER.format(name=escape(report.api_member)) if report.api_member else ""
        lines = [w.PSA_TEST_OK.format(psa=escape(psa), member=member)]
    else:
        lines = [w.PSA_TEST_PROBLEMS.format(psa=escape(psa)),
                 *(w.PSA_TEST_PROBLEM.format(message=escape(p.message)) for p in report.problems)]
    blocks = _sections("\n".join(lines))
    found = [w.PSA_DISCOVERED.format(key=escape(k), value=escape(v)) for k, v in report.discovered.items()]
    if found:
        blocks.append(kit.context(*found[:10]))
    return modal(w.PSA_CONNECTION_TITLE, RESULT_CALLBACK, blocks)


# ---- statuses per board ------------------------------------------------------------------------


def _status_text(status: TicketStatus) -> str:
    return w.PSA_STATUS_CLOSES.format(name=status.name) if status.closed else status.name


def _status_menu(options: BoardOptions, role: StatusRole) -> tuple[dict[str, Any], int | None]:
    """One role's menu: "Don't change" and the board's own statuses (the chosen one always among
    them); the id it shows."""
    chosen = options.chosen.get(role)
    listed = list(options.statuses[:MAX_OPTIONS - 1])
    if chosen is not None and all(s.id != chosen.status_id for s in listed):
        found = next((s for s in options.statuses if s.id == chosen.status_id), None)
        if found is not None:
            listed[-1:] = [found]
    keep = kit.option(w.PSA_STATUS_KEEP, NONE_VALUE)
    menu = [keep, *(kit.option(_status_text(s), str(s.id)) for s in listed)]
    initial = next((o for o in menu[1:] if chosen is not None and o["value"] == str(chosen.status_id)), keep)
    shown = None if initial is keep else int(initial["value"])
    return kit.static_select(INPUT, menu, initial=initial), shown


def _board_blocks(options: BoardOptions) -> tuple[Blocks, ShownBoard]:
    blocks: Blocks = []
    shown: dict[StatusRole, int | None] = {}
    board = options.board
    for role in ROLES:
        menu, shown[role] = _status_menu(options, role)
        label = w.PSA_STATUS_LABEL[role.value].format(board=board.name)
        blocks.append(kit.input_block(board_block(board.id, role), label, menu))
    notes = []
    if options.statuses.warning:
        notes.append(w.PSA_LIST_WARNING.format(warning=escape(options.statuses.warning)))
    if len(options.statuses) > MAX_OPTIONS - 1:
        notes.append(w.PSA_STATUSES_CUT.format(shown=MAX_OPTIONS - 1, total=len(options.statuses),
                                               board=escape(board.name)))
    if notes:
        blocks.append(kit.context(*notes))
    return blocks, ShownBoard(board.id, shown[StatusRole.RESOLVED], shown[StatusRole.ESCALATED])


def statuses_modal(psa: str, boards: Sequence[BoardOptions], *, warning: str | None = None) -> dict[str, Any]:
    """Per board, two menus of that board's own statuses (closed ones marked), as many boards as a
    modal holds; the boards left out are named as a count."""
    head: Blocks = [kit.context(w.PSA_STATUSES_INTRO)]
    if warning:
        head.append(kit.context(w.PSA_LIST_WARNING.format(warning=escape(warning))))
    if not boards:
        return modal(w.PSA_STATUSES_TITLE, RESULT_CALLBACK, [*head, kit.section(w.PSA_NO_BOARDS.format(psa=escape(psa)))])
    blocks, shown = list(head), list[ShownBoard]()
    room = VIEW_BLOCKS - 1  # one is kept for saying that boards were left out
    for options in boards:
        more, board = _board_blocks(options)
        if len(blocks) + len(more) > room or len(encode_boards([*shown, board])) > 2800:
            break
        blocks += more
        shown.append(board)
    if len(shown) < len(boards):
        blocks.append(kit.context(w.PSA_BOARDS_CUT.format(shown=len(shown), total=len(boards))))
    return modal(w.PSA_STATUSES_TITLE, STATUSES_CALLBACK, blocks, submit=w.SAVE, metadata=encode_boards(shown))


def changed_statuses(shown: Sequence[ShownBoard],
                     values: Mapping[str, str | None]) -> dict[int, dict[StatusRole, int | None]]:
    """The roles whose choice differs from what the modal showed, per board (ValueError on a value
    that is not an option of ours)."""
    changed: dict[int, dict[StatusRole, int | None]] = {}
    for board in shown:
        for role in ROLES:
            block = board_block(board.board_id, role)
            if block not in values:
                continue
            chosen = parse_choice(values[block])
            if chosen != board.shown(role):
                changed.setdefault(board.board_id, {})[role] = chosen
    return changed


def status_error_block(board_id: int, roles: Sequence[StatusRole], exc: DomainError) -> str:
    """The menu a refusal of set_board_statuses is shown on: the role it names, else the first changed."""
    try:
        role = StatusRole(str(exc.params.get("role")))
    except ValueError:
        role = roles[0] if roles else StatusRole.RESOLVED
    return board_block(board_id, role)


def statuses_saved_modal(saved: Sequence[BoardOptions]) -> dict[str, Any]:
    if not saved:
        return result_modal(w.PSA_STATUSES_TITLE, w.PSA_NOTHING_CHANGED)

    def name(options: BoardOptions, role: StatusRole) -> str:
        chosen = options.chosen.get(role)
        if chosen is None:
            return w.PSA_STATUS_NONE
        return escape(w.PSA_STATUS_CLOSES.format(name=chosen.status_name) if chosen.closes else chosen.status_name)

    lines = [w.PSA_STATUSES_SAVED, *(w.PSA_STATUS_SAVED_LINE.format(
        board=escape(o.board.name), resolved=name(o, StatusRole.RESOLVED), escalated=name(o, StatusRole.ESCALATED))
        for o in saved)]
    return result_modal(w.PSA_STATUSES_TITLE, "\n".join(lines))


# ---- time entries ------------------------------------------------------------------------------


def _code_menu(psa: str, codes: PsaList[WorkCode], current: int | None, current_name: str | None) -> dict[str, Any]:
    default = kit.option(w.PSA_WORK_PSA_DEFAULT.format(psa=psa), NONE_VALUE)
    listed = [kit.option(w.PSA_WORK_DEFAULT.format(name=c.name, psa=psa) if c.default else c.name, str(c.id))
              for c in codes[:MAX_OPTIONS - 2]]
    if current is not None and all(o["value"] != str(current) for o in listed):
        listed.append(kit.option(current_name or f"#{current}", str(current)))  # kept even when unreadable now
    menu = [default, *listed]
    initial = next((o for o in menu if current is not None and o["value"] == str(current)), default)
    return kit.static_select(INPUT, menu, initial=initial)


def _code_notes(codes: PsaList[WorkCode]) -> Blocks:
    notes = [w.PSA_LIST_WARNING.format(warning=escape(codes.warning))] if codes.warning else []
    if len(codes) > MAX_OPTIONS - 2:
        notes.append(w.PSA_WORK_CUT.format(shown=MAX_OPTIONS - 2, total=len(codes)))
    return [kit.context(*notes)] if notes else []


def time_modal(psa: str, options: TimeOptions) -> dict[str, Any]:
    """On or off, the work type and role (the PSA's default marked) and how the time is billed."""
    t = options.settings
    on = kit.option(w.TIME_ENTRIES_OPTION, TIME_ON_VALUE)
    blocks: Blocks = [kit.input_block(TIME_ON_BLOCK, w.PSA_TIME_LABEL, kit.checkboxes(
        INPUT, [on], initial=[on] if t.enabled else None), optional=True)]
    blocks.append(kit.input_block(WORK_TYPE_BLOCK, w.PSA_WORK_TYPE_LABEL,
                                  _code_menu(psa, options.work_types, t.work_type_id, t.work_type_name)))
    blocks += _code_notes(options.work_types)
    blocks.append(kit.input_block(WORK_ROLE_BLOCK, w.PSA_WORK_ROLE_LABEL,
                                  _code_menu(psa, options.work_roles, t.work_role_id, t.work_role_name)))
    blocks += _code_notes(options.work_roles)
    billing = [kit.option(w.PSA_BILLABLE[o.value], o.value) for o in BillableOption]
    chosen = next(o for o in billing if o["value"] == t.billable.value)
    blocks.append(kit.input_block(BILLABLE_BLOCK, w.PSA_BILLABLE_LABEL, kit.radio_buttons(INPUT, billing, initial=chosen)))
    return modal(w.PSA_TIME_TITLE, TIME_CALLBACK, blocks, submit=w.SAVE)


def time_values(values: Mapping[str, str | None]) -> tuple[bool, int | None, int | None, str | None]:
    """(enabled, work type id, work role id, billable option) as submitted (ValueError if not ours)."""
    enabled = TIME_ON_VALUE in (values.get(TIME_ON_BLOCK) or "").split(",")
    return (enabled, parse_choice(values.get(WORK_TYPE_BLOCK)), parse_choice(values.get(WORK_ROLE_BLOCK)),
            values.get(BILLABLE_BLOCK))


def time_error_block(exc: DomainError) -> str:
    return {"psa.work_type_unknown": WORK_TYPE_BLOCK, "psa.work_role_unknown": WORK_ROLE_BLOCK}.get(
        exc.reason, BILLABLE_BLOCK if exc.field == "billable" or exc.reason == "psa.billable_invalid" else TIME_ON_BLOCK)


def time_saved_modal(psa: str, t: TimeSettings) -> dict[str, Any]:
    default = w.PSA_WORK_PSA_DEFAULT.format(psa=psa)
    return result_modal(w.PSA_TIME_TITLE, w.PSA_TIME_SAVED.format(
        state=w.PSA_TIME_ON if t.enabled else w.PSA_TIME_OFF, work_type=escape(t.work_type_name or default),
        work_role=escape(t.work_role_name or default), billable=w.PSA_BILLABLE[t.billable.value]))


# ---- the engineer's own member -----------------------------------------------------------------


def _member_option(member: PsaMember) -> dict[str, Any]:
    return kit.option(w.PSA_MEMBER_OPTION.format(name=member.name, identifier=member.identifier), str(member.id))


def member_modal(psa: str, me: PsaMemberLink | None) -> dict[str, Any]:
    """Pick yourself from the PSA's members (options come as you type), or be matched by e-mail."""
    now = w.PSA_ME_NOW.format(name=escape(me.psa_member_name), how=w.PSA_HOW.get(me.matched_by, me.matched_by)) \
        if me else w.PSA_ME_NONE.format(psa=escape(psa))
    select = kit.external_select(MEMBER_SEARCH, placeholder=w.PSA_MEMBER_PLACEHOLDER, min_query_length=0)
    by_email = kit.checkboxes(INPUT, [kit.option(w.PSA_BY_EMAIL, BY_EMAIL_VALUE)])
    blocks = [kit.context(w.PSA_MEMBER_INTRO.format(psa=escape(psa))), kit.section(now),
              kit.input_block(MEMBER_BLOCK, w.PSA_MEMBER_LABEL.format(psa=psa), select, optional=True),
              kit.input_block(BY_EMAIL_BLOCK, w.PSA_BY_EMAIL_LABEL, by_email, optional=True)]
    return modal(w.PSA_MEMBER_TITLE, MEMBER_CALLBACK, blocks, submit=w.SAVE)


def member_choice(values: Mapping[str, str | None]) -> tuple[bool, int | None]:
    """(match by e-mail, the member picked) as submitted (ValueError if not ours)."""
    return BY_EMAIL_VALUE in (values.get(BY_EMAIL_BLOCK) or "").split(","), parse_choice(values.get(MEMBER_BLOCK))


def member_error_block(exc: DomainError) -> str:
    return BY_EMAIL_BLOCK if exc.reason in ("psa.member_no_email", "psa.member_not_found") else MEMBER_BLOCK


def member_options(members: Sequence[PsaMember], typed: str) -> list[dict[str, Any]]:
    """The members whose name, identifier or e-mail contains what was typed (at most 100)."""
    words = typed.casefold().split()
    found = [m for m in members
             if all(word in f"{m.name} {m.identifier} {m.email or ''}".casefold() for word in words)]
    return [_member_option(m) for m in found[:MAX_OPTIONS]]


def matched_modal(psa: str, link: PsaMemberLink) -> dict[str, Any]:
    return result_modal(w.PSA_MEMBER_TITLE, w.PSA_MATCHED.format(
        psa=escape(psa), name=escape(link.psa_member_name), how=w.PSA_HOW.get(link.matched_by, link.matched_by)))


# ---- tickets -----------------------------------------------------------------------------------


def ticket_label(ticket: Ticket) -> str:
    """`#1001 Printer offline in accounting — Contoso` within an option's 75 characters: the summary
    is shortened (visibly) before the company is."""
    if not ticket.company_name:
        return shorten(w.TICKET_OPTION.format(id=ticket.id, summary=ticket.summary), OPTION_TEXT)
    company = shorten(ticket.company_name, COMPANY_CHARS)
    room = OPTION_TEXT - len(w.TICKET_OPTION_COMPANY.format(id=ticket.id, summary="", company=company))
    return w.TICKET_OPTION_COMPANY.format(id=ticket.id, summary=shorten(ticket.summary, max(room, 1)), company=company)


def ticket_options(tickets: Sequence[Ticket]) -> list[dict[str, Any]]:
    """The open tickets found, valued by number (what the link form's ticket field takes)."""
    return [kit.option(ticket_label(t), str(t.id)) for t in tickets[:MAX_OPTIONS]]
