"""Word lists for the grounding check (core/grounding.py): the units a number can carry, and the
common words a note capitalises without naming anyone or anything.

Kept apart so the lists can grow without touching the matching logic. The common words are a small,
deliberate allow-list: a word here is never taken for a person's or a product's name.
"""

from __future__ import annotations

import re
from functools import cache

# canonical unit -> the spellings that mean it (case-insensitive)
UNITS: dict[str, tuple[str, ...]] = {
    "ms": ("ms", "msec", "millisecond", "milliseconds"),
    "s": ("s", "sec", "secs", "second", "seconds"),
    "min": ("min", "mins", "minute", "minutes"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "day": ("day", "days"),
    "week": ("week", "weeks", "wk", "wks"),
    "month": ("month", "months"),
    "year": ("year", "years", "yr", "yrs"),
    "b": ("b", "byte", "bytes"),
    "kb": ("kb", "kib", "kilobyte", "kilobytes"),
    "mb": ("mb", "mib", "megabyte", "megabytes"),
    "gb": ("gb", "gib", "gigabyte", "gigabytes"),
    "tb": ("tb", "tib", "terabyte", "terabytes"),
    "pb": ("pb", "pib"),
    "kbps": ("kbps", "kbit/s"),
    "mbps": ("mbps", "mbit/s"),
    "gbps": ("gbps", "gbit/s"),
    "hz": ("hz",),
    "khz": ("khz",),
    "mhz": ("mhz",),
    "ghz": ("ghz",),
    "dpi": ("dpi",),
    "user": ("user", "users"),
    "person": ("person", "people", "persons"),
    "device": ("device", "devices"),
    "machine": ("machine", "machines"),
    "computer": ("computer", "computers"),
    "pc": ("pc", "pcs"),
    "laptop": ("laptop", "laptops"),
    "desktop": ("desktop", "desktops"),
    "workstation": ("workstation", "workstations"),
    "printer": ("printer", "printers"),
    "server": ("server", "servers"),
    "vm": ("vm", "vms"),
    "host": ("host", "hosts"),
    "phone": ("phone", "phones"),
    "mailbox": ("mailbox", "mailboxes"),
    "account": ("account", "accounts"),
    "license": ("license", "licenses", "licence", "licences"),
    "seat": ("seat", "seats"),
    "job": ("job", "jobs"),
    "ticket": ("ticket", "tickets"),
    "site": ("site", "sites"),
    "office": ("office", "offices"),
    "file": ("file", "files"),
    "folder": ("folder", "folders"),
    "email": ("email", "emails", "e-mail", "e-mails"),
    "message": ("message", "messages"),
    "page": ("page", "pages"),
    "core": ("core", "cores"),
    "time": ("time", "times"),
    "attempt": ("attempt", "attempts"),
    "retry": ("retry", "retries"),
    "error": ("error", "errors"),
    "entry": ("entry", "entries"),
    "item": ("item", "items"),
    "request": ("request", "requests"),
    "connection": ("connection", "connections"),
    "session": ("session", "sessions"),
    "client": ("client", "clients"),
    "call": ("call", "calls"),
}
_CANONICAL = {spelling: unit for unit, spellings in UNITS.items() for spelling in spellings}


def canonical_unit(spelling: str) -> str:
    """`minutes` and `min` compare equal; an unknown spelling stands for itself."""
    folded = spelling.casefold()
    return _CANONICAL.get(folded, folded)


@cache
def unit_pattern() -> str:
    """An alternation of every spelling, longest first so `mins` is not read as `min`."""
    spellings = sorted(_CANONICAL, key=len, reverse=True)
    return "|".join(re.escape(s) for s in spellings)


COMMON_WORDS: frozenset[str] = frozenset("""
i i'm i've i'll i'd ok okay mr mrs ms dr
monday tuesday wednesday thursday friday saturday sunday
january february march april may june july august september october november december
utc gmt am pm it id ids pc pcs os ip ipv4 ipv6 url urls dns dhcp vpn lan wan wi-fi wifi isp usb cpu ram ssd hdd
gpu ui api sso mfa dc gpo nic vm vms nas wlan ssid mdm rmm av edr
tls ssl http https tcp udp ftp sftp ssh rdp smtp imap faq eta asap fyi tbd psa kb cve
hresult gb mb tb ethernet bluetooth internet intranet email e-mail n/a na
problem what we we've confirmed root cause resolution tried current hypothesis suggested next steps step
note notes summary status ticket customer engineer engineers fix issue outcome reason escalation applied
verified none unknown yes no not the a an this that these those our you your they he she his her their
and or but if then when after before once all any each every some both none one two three
""".split())
