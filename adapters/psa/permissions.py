"""Which ConnectWise security-role permission each endpoint needs, so a 403 can name it.

ConnectWise's own 403 text does not say which module/level is missing; admins fix roles in
System › Security Roles by module › function › level, so that is the wording we give them.
"""

from __future__ import annotations

import re

TICKETS_INQUIRE = "Service Desk › Service Tickets (Inquire level)"
TICKETS_EDIT = "Service Desk › Service Tickets (Edit level)"
TICKET_STATUS_EDIT = (
    "Service Desk › Service Tickets (Edit level; a closing status also needs "
    "Service Desk › Close Service Tickets)"
)
BOARD_SETUP_INQUIRE = "System › Table Setup (Inquire level, Service / Service Board)"
WORK_SETUP_INQUIRE = "System › Table Setup (Inquire level, Time / Work Types and Work Roles)"
MEMBERS_INQUIRE = "System › Member Maintenance (Inquire level)"
SCHEDULING_INQUIRE = "Service Desk › Resource Scheduling (Inquire level)"
SCHEDULING_ADD = "Service Desk › Resource Scheduling (Add level)"
SCHEDULING_DELETE = "Service Desk › Resource Scheduling (Delete level)"
TIME_ENTRY_INQUIRE = "Time & Expense › Time Entry (Inquire level)"
TIME_ENTRY_ADD = "Time & Expense › Time Entry (Add level)"
UNKNOWN = "an unidentified ConnectWise permission"

_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), permission)
    for method, pattern, permission in (
        ("GET", r"^service/tickets(/\d+)?(/notes)?$", TICKETS_INQUIRE),
        ("POST", r"^service/tickets/\d+/notes$", TICKETS_EDIT),
        ("PATCH", r"^service/tickets/\d+$", TICKETS_EDIT),
        ("GET", r"^service/boards(/\d+/statuses)?$", BOARD_SETUP_INQUIRE),
        ("GET", r"^time/work(Types|Roles)$", WORK_SETUP_INQUIRE),
        ("GET", r"^system/members(/\d+)?$", MEMBERS_INQUIRE),
        ("GET", r"^schedule/entries(/\d+)?$", SCHEDULING_INQUIRE),
        ("POST", r"^schedule/entries$", SCHEDULING_ADD),
        ("DELETE", r"^schedule/entries/\d+$", SCHEDULING_DELETE),
        ("GET", r"^time/entries(/\d+)?$", TIME_ENTRY_INQUIRE),
        ("POST", r"^time/entries$", TIME_ENTRY_ADD),
    )
)


def permission_for(method: str, path: str) -> str:
    """The permission a request to `path` (relative to apis/3.0/) needs; UNKNOWN if unmapped."""
    clean = path.strip("/").split("?", 1)[0]
    for rule_method, pattern, permission in _RULES:
        if rule_method == method.upper() and pattern.match(clean):
            return permission
    return UNKNOWN
