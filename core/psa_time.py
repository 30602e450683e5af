"""The account's time-entry settings (R40): whether Resolve offers to log the session's working
time, and the work type, work role and billable option it is logged with. Kept in the account's
preferences under vendor-neutral keys; ids are the PSA's, names are kept for display."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.models import Account
from core.psa import BillableOption

TIME_PREF = "time_entries"
WORK_TYPE_PREF = "time_work_type"  # {"id": int, "name": str}
WORK_ROLE_PREF = "time_work_role"
BILLABLE_PREF = "time_billable"
TIME_PREFS = (TIME_PREF, WORK_TYPE_PREF, WORK_ROLE_PREF, BILLABLE_PREF)


@dataclass(frozen=True, kw_only=True)
class TimeSettings:
    enabled: bool = False
    work_type_id: int | None = None
    work_type_name: str | None = None
    work_role_id: int | None = None
    work_role_name: str | None = None
    billable: BillableOption = BillableOption.NO_DEFAULT


def _code(raw: Any) -> tuple[int | None, str | None]:
    if isinstance(raw, dict) and isinstance(raw.get("id"), int) and not isinstance(raw.get("id"), bool):
        return raw["id"], str(raw.get("name") or f"#{raw['id']}")
    return None, None


def time_settings(account: Account) -> TimeSettings:
    prefs = account.preferences
    work_type, work_type_name = _code(prefs.get(WORK_TYPE_PREF))
    work_role, work_role_name = _code(prefs.get(WORK_ROLE_PREF))
    try:
        billable = BillableOption(prefs.get(BILLABLE_PREF) or BillableOption.NO_DEFAULT)
    except ValueError:
        billable = BillableOption.NO_DEFAULT
    return TimeSettings(enabled=prefs.get(TIME_PREF) is True, work_type_id=work_type, work_type_name=work_type_name,
                        work_role_id=work_role, work_role_name=work_role_name, billable=billable)
