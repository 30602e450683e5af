"""What every Slack handler shares: who is calling (workspace → account, user → member), the task-lane
message of a session (posted once, then updated in place with chat.update, newest render winning:
lanes.py), the thread's "is thinking…" status (thread_status.py), and saying things in a session's
thread. State always comes from the engine, so a failed update heals on the next change."""

from __future__ import annotations

import logging

from adapters.slack import blocks
from adapters.slack.gateway import SlackGateway
from adapters.slack.lanes import LaneRender, LaneRenderer
from adapters.slack.limits import Delivery, message_chunks
from adapters.slack.names import MentionNames
from adapters.slack.thread import Thread
from adapters.slack.thread_status import ThreadStatus
from core.cards import lane_card
from core.engine import Engine
from core.models import SessionStatus
from core.platform import SLACK
from core.surfaces import lane_key
from core.tenants import PlatformUser, SignedIn

log = logging.getLogger("rflow.slack")
EVERY_MESSAGE = 10_000
OPEN_STATUSES = [SessionStatus.ACTIVE, SessionStatus.PARKED, SessionStatus.ESCALATED]  # "my open sessions"


class SlackSurface:
    def __init__(self, engine: Engine, gateway: SlackGateway) -> None:
        self.engine = engine
        self.gateway = gateway
        self.status = ThreadStatus(gateway)
        self.lanes = LaneRenderer(gateway, self._render_lane)
        self._known_teams: dict[str, str] = {}
        self.names = MentionNames(gateway=gateway, known=lambda team, user: engine.tenants.member_name(
            platform=SLACK, tenant_id=team, user_id=user))  # decodes inbound text once (R38)

    async def sign_in(self, team: str, user_id: str, team_name: str | None = None) -> SignedIn:
        """The member behind a Slack user, read fresh each time (a role an admin just changed counts
        at once); a workspace's first contact creates its account."""
        profile = await self.gateway.user(team, user_id)
        name = team_name or self._known_teams.get(team) or await self._team_name(team)
        signed = await self.engine.tenants.sign_in(PlatformUser(
            platform=SLACK, tenant_id=team, tenant_name=name, user_id=user_id, name=profile.name,
            email=profile.email, platform_admin=profile.is_admin))
        self._known_teams[team] = name
        return signed

    async def _team_name(self, team: str) -> str:
        if await self.engine.tenants.account_id_for(platform=SLACK, tenant_id=team) is not None:
            return team  # already linked: the name is only used for a new account
        try:
            client = await self.gateway.client(team)
            info = await client.team_info(team=team)
            return str(info["team"].get("name") or team)
        except Exception as exc:  # a name is nice to have; the workspace id will do
            log.warning("team.info for %s failed: %s", team, exc)
            return team

    async def team_for_account(self, account_id: int) -> str | None:
        for link in await self.engine.tenants.links(account_id=account_id):
            if link.platform == SLACK:
                return link.external_id
        return None

    # The task lane ------------------------------------------------------------------------------

    async def post_lane(self, account_id: int, session_id: int, thread: Thread) -> None:
        view = await self.engine.sessions.view_for_surface(account_id=account_id, session_id=session_id)
        text, lane = blocks.lane_blocks(lane_card(view))
        ts = await self.gateway.post(thread.team, thread.channel, text, blocks=lane, thread_ts=thread.ts)
        if ts is None:
            return
        await self.engine.surfaces.put(account_id=account_id, surface=SLACK, key=lane_key(session_id),
                                       session_id=session_id,
                                       ref={"team": thread.team, "channel": thread.channel, "ts": ts, "thread_ts": thread.ts})

    async def refresh_lane(self, account_id: int, session_id: int) -> bool:
        """Re-render the lane from the database; False when there is none here or Slack refused.
        Concurrent requests for one lane coalesce, and the newest render always wins."""
        return await self.lanes.refresh(account_id, session_id)

    async def _render_lane(self, account_id: int, session_id: int) -> LaneRender | None:
        ref = await self.engine.surfaces.get(account_id=account_id, surface=SLACK, key=lane_key(session_id))
        if ref is None:
            return None
        view = await self.engine.sessions.view_for_surface(account_id=account_id, session_id=session_id)
        text, lane = blocks.lane_blocks(lane_card(view))
        return LaneRender(team=ref.ref["team"], channel=ref.ref["channel"], ts=ref.ref["ts"], text=text, blocks=lane)

    async def lane_thread(self, account_id: int, session_id: int) -> Thread | None:
        ref = await self.engine.surfaces.get(account_id=account_id, surface=SLACK, key=lane_key(session_id))
        if ref is None:
            return None
        return Thread(team=ref.ref["team"], channel=ref.ref["channel"], ts=ref.ref["thread_ts"])

    async def session_thread(self, account_id: int, session_id: int, thread_ref: str | None) -> Thread | None:
        """The Slack thread a session lives in: its own thread, else the thread of its Slack lane
        (Teams and console sessions have neither and are left alone)."""
        thread = Thread.parse(thread_ref)
        if thread is not None or thread_ref:
            return thread
        return await self.lane_thread(account_id, session_id)

    async def say(self, thread: Thread, text: str, *, title: str = "Note") -> None:
        """A note in the thread (long text as several messages, or a snippet); the thinking status,
        which Slack clears on any post, goes back up if the assistant is still on it."""
        await self.deliver(thread, text, title=title)
        await self.status.after_post(thread)

    async def deliver(self, thread: Thread, text: str, *, title: str, every_message: bool = False) -> str | None:
        """Long text goes as several messages, or as a snippet when it would take too many. None
        once all of it is in the thread; else Slack's reason for the part that could not be posted."""
        delivery = message_chunks(text, max_messages=EVERY_MESSAGE) if every_message else message_chunks(text)
        if delivery.snippet is not None:
            if await self.gateway.snippet(thread.team, thread.channel, thread_ts=thread.ts, title=title,
                                          content=delivery.snippet):
                return None
            delivery = message_chunks(text, max_messages=EVERY_MESSAGE)  # no file: every part as a message
        for fallback, chunk_blocks in delivery.messages:
            posted = await self.gateway.post_outcome(thread.team, thread.channel, fallback, blocks=chunk_blocks,
                                                     thread_ts=thread.ts)
            if not posted.ok:
                return posted.error
        return None

    async def deliver_dm(self, team: str, user: str, delivery: Delivery, *, title: str) -> None:
        """Several messages, or the text as a file, in the person's DM with the bot."""
        for fallback, chunk_blocks in delivery.messages:
            await self.gateway.dm(team, user, fallback, blocks=chunk_blocks)
        if delivery.snippet is not None:
            channel = await self.gateway.dm_channel(team, user)
            if channel is not None:
                await self.gateway.snippet(team, channel, thread_ts=None, title=title, content=delivery.snippet)

    async def say_in_session(self, account_id: int, session_id: int, text: str, *, title: str = "Note") -> bool:
        thread = await self.lane_thread(account_id, session_id)
        if thread is None:
            return False
        await self.say(thread, text, title=title)
        return True
