"""An account's time zone (an IANA name) and dates written out in words for people to read.

Notes and packages are read by customers and seniors who think in their own local time, so a date
appears as "3 December 2026, 14:05 (Europe/Amsterdam)" rather than an ISO timestamp in UTC. Month
names are spelled here, not by strftime, so the words never depend on the server's locale.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.errors import InvalidInput

DEFAULT_TIME_ZONE = "UTC"
TIME_ZONE_PREF = "time_zone"  # the key surfaces use in a generic settings form or `/prefs`
MAX_TIME_ZONE_CHARS = 64
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def check_time_zone(name: object) -> str:
    """The IANA name as the time zone database spells it (`europe/amsterdam` → `Europe/Amsterdam`),
    or InvalidInput naming what was given. UTC is always accepted, even without a tz database."""
    text = name.strip() if isinstance(name, str) else ""
    canonical = _known().get(text.casefold()) if 0 < len(text) <= MAX_TIME_ZONE_CHARS else None
    if canonical is None and text.upper() == DEFAULT_TIME_ZONE:
        canonical = DEFAULT_TIME_ZONE
    if canonical is None:
        raise _unknown(name)
    return canonical


@cache
def _known() -> dict[str, str]:
    """Every zone name zoneinfo can load, by its case-folded spelling; `localtime` (the server's own
    zone) is not one an account can mean."""
    return {key.casefold(): key for key in available_timezones() if key != "localtime"}


def _tz(name: str | None) -> tuple[tzinfo, str]:
    """The zone to write dates in; a name that stopped being valid falls back to UTC, never fails."""
    try:
        key = check_time_zone(name or DEFAULT_TIME_ZONE)
        return ZoneInfo(key), key
    except (InvalidInput, ZoneInfoNotFoundError, ValueError, OSError):
        return UTC, DEFAULT_TIME_ZONE


def parse_when(value: datetime | str | None) -> datetime | None:
    """A stored moment (aware datetime or ISO text; naive means UTC), or None when it is none."""
    if value is None or isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def in_words(moment: datetime, time_zone: str | None) -> str:
    """`3 December 2026, 14:05 (Europe/Amsterdam)`: the day, month and year in words, the time on a
    24-hour clock, and the zone named so nobody has to guess it."""
    tz, key = _tz(time_zone)
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        local = aware.astimezone(tz)
    except OverflowError:  # the very edge of the calendar: say it in UTC rather than fail
        local, key = aware.astimezone(UTC), DEFAULT_TIME_ZONE
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M} ({key})"


def _unknown(name: object) -> InvalidInput:
    return InvalidInput(f"{name!r} is not a time zone; use an IANA name such as Europe/Amsterdam or UTC.",
                        reason="time_zone.unknown", field=TIME_ZONE_PREF, params={"time_zone": str(name)})
