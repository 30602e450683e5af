"""Who a stored Slack delivery came from, and where to answer them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Caller:
    """Where to answer the person behind a delivery."""

    team: str
    user: str
    channel: str | None
    thread_ts: str | None = None
    response_url: str | None = None


def team_of(body: dict[str, Any]) -> str:
    """The workspace of any Slack payload: events, commands, clicks and view submissions put it in different places."""
    team = body.get("team_id") or body.get("team")
    if isinstance(team, dict):
        team = team.get("id")
    if not team:
        team = (body.get("user") or {}).get("team_id") or (body.get("view") or {}).get("team_id")
    return str(team or "")


def caller_of(kind: str, body: dict[str, Any]) -> Caller:
    team = team_of(body)
    if kind == "event":
        event = body.get("event") or {}
        return Caller(team=team, user=str(event.get("user", "")), channel=event.get("channel"),
                      thread_ts=event.get("thread_ts") or event.get("ts"))
    if kind == "command":
        return Caller(team=team, user=str(body.get("user_id", "")), channel=body.get("channel_id"),
                      response_url=body.get("response_url"))
    user = str((body.get("user") or {}).get("id", ""))
    channel = (body.get("channel") or body.get("container") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    message = body.get("message") or {}
    return Caller(team=team, user=user, channel=channel, thread_ts=message.get("thread_ts"))


Tell = Callable[..., Awaitable[None]]
