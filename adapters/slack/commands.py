"""`/rf` subcommands: parsed here, run by the processor. Anything unknown gets the help (issue 3)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import InvalidInput

SUBCOMMANDS = ("new", "link", "status", "queue", "stats", "settings", "role", "connect", "help")
ROLES = ("viewer", "engineer", "admin")
_SESSION_REF = re.compile(r"^#?(\d{1,9})$")
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")

HELP = "\n".join([
    "*ResolutionFlow* — work a ticket with the assistant in a thread.",
    "• Mention me with the problem (`@ResolutionFlow printer offline for 3 users`), DM me, or:",
    "• `/rf new <problem>` — start a session here",
    "• `/rf link <ticket> [#session]` — link a ConnectWise ticket (your latest session here by default)",
    "• `/rf status [#session]` — a session's lane, or your open sessions",
    "• `/rf queue` — escalations awaiting pickup",
    "• `/rf stats [7d|30d|90d]` — pickup-to-first-action (engineers and admins)",
    "• `/rf settings` — escalation channel, the PSA connection, statuses and time entries (admins); your PSA member",
    "• `/rf role @person viewer|engineer|admin` — change someone's role (admins)",
    "• `/rf connect teams` — a one-time code that joins a Teams tenant to this account (admins)",
    "• `/rf help` — this list",
])


@dataclass(frozen=True, kw_only=True)
class RfCommand:
    name: str
    args: str
    unknown: bool = False


def parse_command(text: str) -> RfCommand:
    """`/rf <sub> <args>`; an unknown or missing subcommand is `help` marked unknown."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return RfCommand(name="help", args="")
    name = words[0].lower()
    args = words[1].strip() if len(words) > 1 else ""
    if name not in SUBCOMMANDS:
        return RfCommand(name="help", args=text.strip(), unknown=True)
    return RfCommand(name=name, args=args)


def parse_session_ref(text: str) -> int:
    match = _SESSION_REF.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise InvalidInput(f"'{text.strip()}' is not a session number like #12.")
    return int(match.group(1))


def parse_link_args(args: str) -> tuple[str, int | None]:
    """`<ticket> [#session]` → the ticket text (parsed by the engine) and the session, if named."""
    words = args.split()
    if not words:
        raise InvalidInput("Say which ticket: /rf link 12345 [#session]")
    if len(words) > 1 and _SESSION_REF.match(words[-1]) and words[-1].startswith("#"):
        return " ".join(words[:-1]), parse_session_ref(words[-1])
    return " ".join(words), None


def parse_role_args(args: str) -> tuple[str, str]:
    """`<@U123> viewer` → (Slack user id, role)."""
    words = args.split()
    if len(words) != 2 or not _USER_MENTION.match(words[0]) or words[1].lower() not in ROLES:
        raise InvalidInput("Usage: /rf role @person viewer|engineer|admin")
    match = _USER_MENTION.match(words[0])
    assert match is not None
    return match.group(1), words[1].lower()
