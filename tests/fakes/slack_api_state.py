"""What `FakeSlack` remembers: the workspace it plays (users, channels, messages, views, uploads) and
every call it answered. Kept apart from the wire and from the method handlers so each reads alone."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

TS_BASE = 1_700_000_000  # message timestamps look like "1700000000.000100" and only grow
BOT_SCOPES = "chat:write,commands,app_mentions:read,channels:history,im:history,users:read,users:read.email"


class SlackError(Exception):
    """A method's `{"ok": false, "error": ...}` answer; `extra` joins the body (response_metadata…)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def missing(name: str) -> SlackError:
    """Slack's answer to a missing required argument (the wording its validators use)."""
    return SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] missing required field: {name}"]})


@dataclass
class SlackCall:
    """One request as it arrived: `at` is time.monotonic() on arrival, for pacing assertions."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: float
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.ok else self.response.get("error")


@dataclass
class StatusChange:
    """One change of a thread's assistant status: set by assistant.threads.setStatus, or cleared
    because the app posted in the thread (`cause` names the method)."""

    at: float  # time.monotonic(), comparable with SlackCall.at
    channel: str
    thread_ts: str
    status: str
    cause: str


@dataclass
class Upload:
    """A file of the files_upload_v2 flow: announced, then its bytes POSTed, then completed."""

    file_id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False


class SlackState:
    """The seeded workspace plus everything the bot wrote into it."""

    def __init__(self, *, tokens: tuple[str, ...] | list[str] | set[str] = ("xoxb-test",), team_id: str = "T1",
                 team_name: str = "Acme MSP", bot_user_id: str = "UBOT", bot_id: str = "BBOT",
                 app_id: str = "A1", email_scope: bool = True, trigger_ttl: float = 3.0) -> None:  # fmt: skip
        self.tokens: dict[str, str] = {token: team_id for token in tokens}  # bot token → its team
        self.teams: dict[str, str] = {team_id: team_name}
        self.team_id, self.bot_user_id, self.bot_id, self.app_id = team_id, bot_user_id, bot_id, app_id
        self.email_scope = email_scope  # False plays an install without users:read.email
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.dms: dict[str, str] = {}  # user id → D channel
        self.messages: dict[str, dict[str, dict[str, Any]]] = {}  # channel → ts → message
        self.ephemerals: list[dict[str, Any]] = []
        self.deleted: list[tuple[str, str]] = []  # (channel, ts)
        self.views: dict[str, dict[str, Any]] = {}  # view id → view (modals and homes)
        self.home_views: dict[str, dict[str, Any]] = {}  # user id → published home view
        self.uploads: dict[str, Upload] = {}
        self.expired_trigger_ids: set[str] = set()
        self.used_trigger_ids: set[str] = set()
        self.trigger_ttl = trigger_ttl
        self._issued_triggers: dict[str, float] = {}
        self.oauth_reply: dict[str, Any] = {}
        self.set_oauth_reply()
        self.oauth_client: tuple[str, str] | None = None  # (client_id, secret) to insist on; None: any
        self.oauth_codes: set[str] | None = None  # single-use codes to accept; None: any non-empty code
        self.root_url = ""  # http://127.0.0.1:port/ once started; upload URLs point under it
        self.thread_statuses: dict[tuple[str, str], str] = {}  # (channel, thread_ts) → status shown now
        self.status_log: list[StatusChange] = []
        self.stream_ttl = 300.0  # seconds a streamed message accepts appends (Slack: about five minutes)
        self.stream_started: dict[tuple[str, str], float] = {}  # (channel, ts) → monotonic start
        self._ts = itertools.count(100, 100)
        self._ids = itertools.count(1)

    # ---- seeding ----------------------------------------------------------------------------

    def add_token(self, token: str, team_id: str | None = None, team_name: str | None = None) -> None:
        team = team_id or self.team_id
        self.tokens[token] = team
        self.teams.setdefault(team, team_name or f"Team {team}")

    def add_user(self, user_id: str, name: str, email: str | None = None, is_admin: bool = False,
                 is_owner: bool = False, is_bot: bool = False, team_id: str = "T1", *,
                 tz: str = "America/New_York", deleted: bool = False) -> dict[str, Any]:  # fmt: skip
        profile: dict[str, Any] = {"real_name": name, "display_name": name.split()[0] if name else "",
                                   "real_name_normalized": name, "team": team_id}  # fmt: skip
        if email is not None:
            profile["email"] = email  # only shown while email_scope is on
        self.users[user_id] = {
            "id": user_id, "team_id": team_id, "name": name.lower().replace(" ", "."), "real_name": name,
            "deleted": deleted, "is_admin": is_admin, "is_owner": is_owner, "is_bot": is_bot,
            "is_app_user": False, "tz": tz, "profile": profile,
        }  # fmt: skip
        return self.users[user_id]

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False,
                    members: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
        self.channels[channel_id] = {"id": channel_id, "name": name, "is_channel": not is_private,
                                     "is_group": is_private, "is_im": False, "is_private": is_private,
                                     "is_member": True, "is_archived": False, "members": list(members)}  # fmt: skip
        return self.channels[channel_id]

    def set_oauth_reply(self, *, team_id: str = "T1", team_name: str = "Acme MSP", bot_token: str = "xoxb-installed",
                        bot_user_id: str = "UBOT", authed_user_id: str = "U1", scope: str = BOT_SCOPES,
                        app_id: str = "A1", enterprise: dict[str, str] | None = None) -> None:  # fmt: skip
        """What oauth.v2.access answers; its token becomes valid for `team_id` once exchanged."""
        self.oauth_reply = {
            "ok": True, "app_id": app_id, "authed_user": {"id": authed_user_id}, "scope": scope,
            "token_type": "bot", "access_token": bot_token, "bot_user_id": bot_user_id,
            "team": {"id": team_id, "name": team_name}, "enterprise": enterprise,
            "is_enterprise_install": False,
        }  # fmt: skip

    def trigger_id(self) -> str:
        """A trigger id this fake issued: it works once, within `trigger_ttl` seconds, like Slack's."""
        trigger = f"{TS_BASE}.{next(self._ids)}.fake{len(self._issued_triggers):04x}"
        self._issued_triggers[trigger] = time.monotonic()
        return trigger

    # ---- reading back -----------------------------------------------------------------------

    def history(self, channel: str) -> list[dict[str, Any]]:
        """The channel's messages (threads included), oldest first."""
        return [self.messages.get(channel, {})[ts] for ts in sorted(self.messages.get(channel, {}), key=float)]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        return [m for m in self.history(channel) if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        return self.messages.get(channel, {}).get(ts)

    def status(self, channel: str, thread_ts: str) -> str:
        """The assistant status the thread shows now ("" when none)."""
        return self.thread_statuses.get((channel, thread_ts), "")

    def statuses(self, channel: str, thread_ts: str) -> list[StatusChange]:
        return [c for c in self.status_log if (c.channel, c.thread_ts) == (channel, thread_ts)]

    def set_status(self, channel: str, thread_ts: str, status: str, cause: str) -> None:
        """Slack clears a thread's status when the app posts a reply there (docs.slack.dev
        assistant.threads.setStatus; changelog 2026-03-05): posting methods call this with ""."""
        if not status and not self.thread_statuses.get((channel, thread_ts)) and cause != "assistant.threads.setStatus":
            return  # nothing shown, nothing cleared
        if status:
            self.thread_statuses[(channel, thread_ts)] = status
        else:
            self.thread_statuses.pop((channel, thread_ts), None)
        self.status_log.append(StatusChange(time.monotonic(), channel, thread_ts, status, cause))

    def is_dm(self, channel: str) -> bool:
        return channel in self.dms.values() or (channel.startswith("D") and channel not in self.channels)

    # ---- identifiers ------------------------------------------------------------------------

    def next_ts(self) -> str:
        n = next(self._ts)
        return f"{TS_BASE + n // 1_000_000}.{n % 1_000_000:06d}"

    def new_id(self, prefix: str) -> str:
        return f"{prefix}0FAKE{next(self._ids):05d}"

    def dm_channel(self, user_id: str) -> tuple[str, bool]:
        """(D channel, whether it already existed) for a one-to-one conversation with the bot."""
        existed = user_id in self.dms
        if not existed:
            self.dms[user_id] = self.new_id("D")
        return self.dms[user_id], existed

    def trigger_problem(self, trigger_id: str) -> str | None:
        """Why Slack would refuse this trigger id, if it would."""
        issued = self._issued_triggers.get(trigger_id)
        if trigger_id in self.expired_trigger_ids or (issued is not None and time.monotonic() - issued > self.trigger_ttl):
            return "expired_trigger_id"
        if trigger_id in self.used_trigger_ids:
            return "exchanged_trigger_id"
        return None
