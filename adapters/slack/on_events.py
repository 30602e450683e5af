"""Slack events: a mention, a DM or a reply in a session's thread (R4's chat turns), and App Home."""

from __future__ import annotations

import re
from typing import Any

from adapters.slack import views
from adapters.slack.caller import Caller, Tell, team_of
from adapters.slack.surface import OPEN_STATUSES, SlackSurface
from adapters.slack.thread import Thread
from core.platform import SLACK
from core.sessions import PostedMessage

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
STARTED = "Session #{id} started. I'll answer here; the task lane above keeps what we know."
ASSISTANT_OFF = "The assistant is off, so nobody will answer here, but the lane works by hand."
LINK_OFFER = "I see ticket #{ticket}. Link it with `/rf link {ticket} #{id}`."
REDACTED = "I kept your message but hid {n} secret(s) in it before storing it."
NEED_PROBLEM = "Tell me the problem to start a session, e.g. `@ResolutionFlow printer offline for 3 users`."


def bot_user_of(body: dict[str, Any]) -> str | None:
    for authorization in body.get("authorizations") or []:
        if authorization.get("is_bot") and authorization.get("user_id"):
            return str(authorization["user_id"])
    return None


def clean_text(text: str, bot_user: str | None) -> str:
    """The message without the bot's mention (any leading mention when the bot's id is unknown),
    still in Slack's wire form: the mention is found by its syntax, before anything is decoded."""
    if bot_user:
        text = re.sub(rf"<@{re.escape(bot_user)}(?:\|[^>]*)?>", "", text)
    else:
        text = _MENTION.sub("", text, count=1)
    return text.strip()


class EventHandlers:
    def __init__(self, surface: SlackSurface, tell: Tell) -> None:
        self.surface = surface
        self.engine = surface.engine
        self.tell = tell

    async def handle(self, body: dict[str, Any]) -> None:
        event: dict[str, Any] = body.get("event") or {}
        team = team_of(body)
        if event.get("type") == "app_home_opened":
            if event.get("tab", "home") == "home":
                await self.publish_home(team, str(event.get("user")))
            return
        # Decoded once, here (R38): entities, mentions, channel and link syntax as the person saw them.
        text = await self.surface.names.decode(team, clean_text(str(event.get("text", "")), bot_user_of(body)))
        await self.message(team, event, text)

    async def message(self, team: str, event: dict[str, Any], text: str) -> None:
        user, channel = str(event.get("user", "")), str(event.get("channel", ""))
        caller = Caller(team=team, user=user, channel=channel, thread_ts=event.get("thread_ts") or event.get("ts"))
        root = event.get("thread_ts")
        signed = await self.surface.sign_in(team, user)
        actor = signed.actor
        if root:
            session = await self.engine.sessions.find_by_thread(actor=actor, thread_ref=Thread(team=team, channel=channel, ts=root).ref)
            if session is not None:
                posted = await self.engine.sessions.post_message(actor=actor, session_id=session.id or 0, text=text, via=SLACK)
                await self._after_post(caller, posted)
                return
            if event.get("type") != "app_mention":
                return  # a thread that is no session of ours, and nobody asked us
        if not text:
            await self.tell(caller, NEED_PROBLEM)
            return
        thread = Thread(team=team, channel=channel, ts=str(root or event.get("ts")))
        posted = await self.engine.sessions.start(actor=actor, problem=text, surface=SLACK, thread_ref=thread.ref)
        sid = posted.session.id or 0
        await self.surface.post_lane(actor.account_id, sid, thread)
        notes = [STARTED.format(id=sid)]
        if posted.ticket_suggestion:
            notes.append(LINK_OFFER.format(ticket=posted.ticket_suggestion, id=sid))
        if posted.turn_id is None:
            notes.append(ASSISTANT_OFF)
        await self.surface.say(thread, "\n".join(notes))
        if posted.redacted:
            await self.tell(caller, REDACTED.format(n=posted.redacted))

    async def _after_post(self, caller: Caller, posted: PostedMessage) -> None:
        if posted.resumed:
            await self.surface.refresh_lane(posted.session.account_id, posted.session.id or 0)
        if posted.redacted:
            await self.tell(caller, REDACTED.format(n=posted.redacted))

    async def publish_home(self, team: str, user: str) -> None:
        signed = await self.surface.sign_in(team, user)
        actor = signed.actor
        home = await self.engine.home.read(actor=actor, statuses=OPEN_STATUSES)
        view = views.home_view(sessions=home.sessions, queue=home.queue, metrics=home.metrics)
        await self.surface.gateway.publish_home(team, user, view)
