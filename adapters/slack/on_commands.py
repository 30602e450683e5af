"""`/rf new | link | status | queue | stats | role | connect` (settings and help answer at the ack)."""

from __future__ import annotations

from typing import Any

from adapters.slack import blocks
from adapters.slack.caller import Caller, Tell, caller_of
from adapters.slack.commands import (
    parse_command,
    parse_link_args,
    parse_role_args,
    parse_session_ref,
)
from adapters.slack.home import duration
from adapters.slack.limits import fits
from adapters.slack.outcomes import outcome_text
from adapters.slack.surface import OPEN_STATUSES, SlackSurface
from adapters.slack.text import escape, shorten
from adapters.slack.thread import Thread
from core.access import WORKERS
from core.actions import Action, ActionId, View
from core.cards import lane_card
from core.errors import Forbidden, InvalidInput, NotFound
from core.metric import PickupMetric, parse_period
from core.platform import SLACK
from core.tenants import SignedIn
from core.views import queued_post

RAW_ARGS = frozenset({"role"})  # reads Slack's own `<@U…>` syntax; every other command's text is decoded (R38)
CANT_POST = "I can't post in this channel. Invite me first: `/invite @ResolutionFlow`."
CONNECT = ("Connect code *{code}* (single use, expires in 15 minutes). In Teams, an admin says "
           "`@ResolutionFlow connect {code}` to join that tenant to this account.")


def metric_text(result: PickupMetric) -> str:
    fmt = duration
    return (f"*Pickup to first action, last {result.days} days*: {result.n_claimed} picked up, "
            f"{result.n_with_action} with an action. Average {fmt(result.average_s)}, median {fmt(result.median_s)}, "
            f"p95 {fmt(result.p95_s)}.\n_{result.definition}_")


class CommandHandlers:
    def __init__(self, surface: SlackSurface, tell: Tell) -> None:
        self.surface = surface
        self.engine = surface.engine
        self.tell = tell

    async def handle(self, body: dict[str, Any]) -> None:
        command = parse_command(str(body.get("text", "")))
        caller = caller_of("command", body)
        signed = await self.surface.sign_in(caller.team, caller.user, (body.get("team_domain") or None))
        handler = getattr(self, f"cmd_{command.name}", None)
        if handler is None:
            raise InvalidInput(f"/rf {command.name} is answered at once; try it again.")
        # Slash-command text comes encoded like messages (should_escape: true in our manifest, and
        # "all text in Slack uses the same system of escaping": api.slack.com/docs/message-formatting;
        # docs.slack.dev/interactivity/implementing-slash-commands), so it is decoded once, here.
        args = command.args if command.name in RAW_ARGS else await self.surface.names.decode(caller.team, command.args)
        await handler(caller, signed, args)

    async def cmd_new(self, caller: Caller, signed: SignedIn, args: str) -> None:
        if not args.strip():
            raise InvalidInput("Describe the problem: /rf new <problem>")
        if signed.member.role not in WORKERS:
            raise Forbidden("Engineer or admin access required.")
        channel = caller.channel or ""
        root = await self.surface.gateway.post(
            caller.team, channel, f"<@{caller.user}> is starting a session: {escape(shorten(args.strip(), 200))}")
        if root is None:
            raise InvalidInput(CANT_POST)
        thread = Thread(team=caller.team, channel=channel, ts=root)
        posted = await self.engine.sessions.start(actor=signed.actor, problem=args, surface=SLACK, thread_ref=thread.ref)
        sid = posted.session.id or 0
        await self.surface.post_lane(signed.actor.account_id, sid, thread)
        note = f"Session #{sid} started. Reply in this thread to work it with the assistant."
        if posted.ticket_suggestion:
            note += f"\nI see ticket #{posted.ticket_suggestion}. Link it with `/rf link {posted.ticket_suggestion} #{sid}`."
        await self.surface.say(thread, note)

    async def _session_here(self, caller: Caller, signed: SignedIn, named: int | None) -> int:
        """The named session, else the caller's most recently updated open one in this channel."""
        if named is not None:
            return named
        prefix = f"slack:{caller.team}:{caller.channel}:"
        for session in await self.engine.sessions.list(actor=signed.actor, statuses=OPEN_STATUSES, mine=True):
            if (session.thread_ref or "").startswith(prefix):
                return session.id or 0
        raise NotFound("You have no open session in this channel; name one: /rf link 12345 #12")

    async def cmd_link(self, caller: Caller, signed: SignedIn, args: str) -> None:
        ticket, named = parse_link_args(args)
        sid = await self._session_here(caller, signed, named)
        outcome = await self.engine.actions.perform(signed.actor, Action(id=ActionId.LINK_TICKET, session_id=sid,
                                                                         values={"ticket": ticket}))
        if View.LANE in outcome.changed:
            await self.surface.refresh_lane(signed.actor.account_id, sid)
        if text := outcome_text(outcome):
            await self.tell(caller, text)

    async def cmd_status(self, caller: Caller, signed: SignedIn, args: str) -> None:
        if args.strip():
            view = await self.engine.sessions.view(actor=signed.actor, session_id=parse_session_ref(args))
            text, lane = blocks.lane_blocks(lane_card(view))
            await self.tell(caller, text, blocks=lane)
            return
        sessions = await self.engine.sessions.list(actor=signed.actor, statuses=OPEN_STATUSES, mine=True)
        if not sessions:
            await self.tell(caller, "You have no open sessions.")
            return
        lines = [f"• #{s.id} {s.title} — {s.status}" for s in sessions[:20]]
        await self.tell(caller, "*Your open sessions*\n" + "\n".join(lines))

    async def cmd_queue(self, caller: Caller, signed: SignedIn, args: str) -> None:
        entries = await self.engine.handoffs.queue(actor=signed.actor)
        if not entries:
            await self.tell(caller, "No escalations are waiting for pickup.")
            return
        shown: list[dict[str, Any]] = []
        for entry in entries[:10]:
            _, post = blocks.escalation_post_blocks(queued_post(entry))
            if not fits(shown + post):
                break
            shown.extend(post + [{"type": "divider"}])
        await self.tell(caller, f"{len(entries)} escalation(s) awaiting pickup", blocks=shown[:-1])

    async def cmd_stats(self, caller: Caller, signed: SignedIn, args: str) -> None:
        result = await self.engine.metric.pickup(actor=signed.actor, days=parse_period(args))
        await self.tell(caller, metric_text(result))

    async def cmd_role(self, caller: Caller, signed: SignedIn, args: str) -> None:
        user_id, role = parse_role_args(args)
        target = await self.surface.sign_in(caller.team, user_id)
        member = await self.engine.tenants.set_role(actor=signed.actor, member_id=target.member.id or 0, role=role)
        await self.tell(caller, f"{escape(member.name)} is now {member.role}.")

    async def cmd_connect(self, caller: Caller, signed: SignedIn, args: str) -> None:
        if args.strip().lower() not in ("teams", "microsoft teams", ""):
            raise InvalidInput("Usage: /rf connect teams")
        code, _ = await self.engine.tenants.create_connect_code(actor=signed.actor)
        await self.tell(caller, CONNECT.format(code=code))
