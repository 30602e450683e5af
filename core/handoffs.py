"""Escalation and pickup (R21–R24): one path for every surface, notify after commit, a race-safe claim."""

from __future__ import annotations

from dataclasses import dataclass

from core.access import WORKERS, Actor, load_member, load_session, require_can_change, require_worker
from core.deps import Deps
from core.errors import Conflict, InvalidInput, NotFound
from core.events import EscalationClaimed, EscalationCreated
from core.handoff_text import with_handoff
from core.machines import SessionEvent, handoff_rules
from core.models import Handoff, HandoffIntent, Member, Session, Writeup, WriteupKind
from core.notify import publish, record
from core.ports import UnitOfWork
from core.previews import PreviewService, tried_line
from core.psa_link import linked_ticket_id
from core.redaction import redact_text
from core.resolution import check_note
from core.sessions import change_status, record_action
from core.writeback import enqueue

MAX_REASON_CHARS = 500
TAKEN = "pickup.taken"  # a refusal code (core.errors): someone else holds the escalation


@dataclass(frozen=True, kw_only=True)
class Escalation:
    session: Session
    handoff: Handoff
    outcome: str
    target: Member | None
    ticket_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class Pickup:
    """The handoff context the senior receives (R23)."""

    session: Session
    handoff: Handoff
    escalated_by: Member | None
    package: str
    facts: tuple[str, ...]
    tried: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class QueueEntry:
    session: Session
    handoff: Handoff
    escalated_by: Member | None


async def _resolve_target(uow: UnitOfWork, actor: Actor, member: Member, target: str | int | None) -> Member | None:
    if target is None or (isinstance(target, str) and not target.strip().lstrip("@")):
        return None
    if isinstance(target, int):
        found = await uow.members.get(account_id=actor.account_id, member_id=target)
    else:
        found = await uow.members.get_by_name(account_id=actor.account_id, name=target.strip().lstrip("@"))
    if found is None or not found.active:
        raise NotFound(f"There is no member {target} in this account.", reason="escalate.target_unknown",
                       params={"target": target})
    if found.id == member.id:
        raise InvalidInput("You can't escalate to yourself; leave the target empty or name a colleague.",
                           reason="escalate.target_self")
    if found.role not in WORKERS:
        raise InvalidInput(f"{found.name} is a viewer and can't pick up escalations.", reason="escalate.target_viewer",
                           params={"name": found.name})
    return found


class HandoffService:
    def __init__(self, deps: Deps, previews: PreviewService) -> None:
        self.deps = deps
        self.previews = previews

    async def escalate(self, *, actor: Actor, session_id: int, reason: str, target: str | int | None = None,
                       markdown: str | None = None) -> Escalation:
        """R21: handoff, package, (PSA writeback), then notify (R22) once committed."""
        reason = redact_text(reason.strip())
        if not reason:
            raise InvalidInput("Say why you escalate.", reason="escalate.reason_missing")
        if len(reason) > MAX_REASON_CHARS:
            raise InvalidInput(f"The reason is {len(reason)} characters; at most {MAX_REASON_CHARS}.",
                               reason="escalate.reason_too_long", params={"length": len(reason), "max": MAX_REASON_CHARS})
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            await require_can_change(uow, member, session)
            named = await _resolve_target(uow, actor, member, target)
        composed_by = "engineer"  # R16: the writeup records who wrote it, never "assistant" for a fallback
        if markdown is None:
            preview = await self.previews.preview(actor=actor, session_id=session_id, kind="escalate")
            markdown, composed_by = preview.markdown, preview.composed_by
        package = check_note(with_handoff(markdown, reason=reason, target=named.name if named else None))
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            await require_can_change(uow, member, session)
            target_member = await _resolve_target(uow, actor, member, target)
            now = self.deps.clock.now()
            await change_status(uow, self.deps, session, SessionEvent.ESCALATE)
            handoff = await uow.handoffs.add(Handoff(
                account_id=actor.account_id, session_id=session_id, intent=HandoffIntent.ESCALATE, reason=reason,
                created_by=member.id or 0, created_at=now, target_member_id=target_member.id if target_member else None,
                package_markdown=package))
            ticket_id = linked_ticket_id(session)
            outcome = "writeback_pending" if ticket_id else "escalated_local"
            writeup = await uow.writeups.add(Writeup(
                account_id=actor.account_id, session_id=session_id, kind=WriteupKind.ESCALATE, markdown=package,
                summary=reason, outcome=outcome, created_by=member.id or 0, created_at=now,
                composed_by=composed_by, state_version=session.state_version))
            if ticket_id:
                await enqueue(uow, self.deps, session=session, writeup=writeup, member=member, ticket_id=ticket_id)
            await record_action(uow, self.deps, session, member.id, f"{member.name} escalated the session: {reason}",
                                outcome=outcome)
            await record(uow, self.deps, EscalationCreated(
                account_id=actor.account_id, session_id=session_id, handoff_id=handoff.id or 0, title=session.title,
                reason=reason, escalated_by_id=member.id or 0, escalated_by=member.name,
                target_id=target_member.id if target_member else None,
                target=target_member.name if target_member else None, ticket=session.ticket_ref, package=package,
                thread_ref=session.thread_ref, surface=session.surface))
            await uow.commit()
        await publish(self.deps, uow)
        return Escalation(session=session, handoff=handoff, outcome=outcome, target=target_member, ticket_id=ticket_id)

    async def pickup(self, *, actor: Actor, session_id: int) -> Pickup:
        """R23: one conditional UPDATE decides; losers hear who has it; viewers are refused."""
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            require_worker(member)
            claimant = await uow.handoffs.claimant_name(account_id=actor.account_id, session_id=session_id)
            if claimant is not None:  # the late clicks: told at once, nothing else read
                raise Conflict(f"Already picked up by {claimant}.", reason=TAKEN, params={"by": claimant})
            session = await load_session(uow, actor, session_id)
            handoff = await uow.handoffs.latest_for_session(account_id=actor.account_id, session_id=session_id,
                                                            intent=HandoffIntent.ESCALATE)
            rules = handoff_rules(intent=handoff.intent, claimed=handoff.claimed_by is not None,
                                  session_status=session.status) if handoff is not None else None
            if handoff is None or rules is None or not (rules.claimable or rules.taken):
                raise NotFound(f"Session #{session_id} is not awaiting pickup.", reason="pickup.not_awaiting",
                               params={"session_id": session_id})
            if handoff.created_by == member.id:
                raise Conflict("You escalated this session; a colleague has to pick it up.", reason="pickup.own_escalation",
                               params={"session_id": session_id})
            won = rules.claimable and await uow.handoffs.claim(
                account_id=actor.account_id, handoff_id=handoff.id or 0, member_id=member.id or 0, now=self.deps.clock.now())
            if not won:  # a losing claim leaves the winner on the handoff
                winner = await uow.members.get(account_id=actor.account_id, member_id=handoff.claimed_by or 0)
                by = winner.name if winner else "someone else"
                raise Conflict(f"Already picked up by {by}.", reason=TAKEN, params={"by": by})
            await change_status(uow, self.deps, session, SessionEvent.PICKUP, handler_id=member.id)
            session.handler_id = member.id or 0
            facts = tuple(f.text for f in await uow.facts.list(account_id=actor.account_id, session_id=session_id))
            tried = tuple(tried_line(f) for f in await uow.fixes.list(account_id=actor.account_id, session_id=session_id)
                          if f.applied_at or f.superseded_at)
            escalator = await uow.members.get(account_id=actor.account_id, member_id=handoff.created_by)
            package = handoff.package_markdown or ""
            await record(uow, self.deps, EscalationClaimed(
                account_id=actor.account_id, session_id=session_id, handoff_id=handoff.id or 0, title=session.title,
                claimed_by_id=member.id or 0, claimed_by=member.name, escalated_by_id=handoff.created_by,
                escalated_by=escalator.name if escalator else "someone", package=package, facts=facts,
                tried=tried, thread_ref=session.thread_ref, surface=session.surface))
            await uow.commit()
        handoff.claimed_by = member.id
        await publish(self.deps, uow)
        return Pickup(session=session, handoff=handoff, escalated_by=escalator, package=package, facts=facts, tried=tried)

    async def queue(self, *, actor: Actor) -> list[QueueEntry]:
        """Escalations awaiting pickup; any member may read them (R24)."""
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
            return await read_queue(uow, account_id=actor.account_id)


async def read_queue(uow: UnitOfWork, *, account_id: int) -> list[QueueEntry]:
    """The queue in one read, whatever its length (the caller has checked membership)."""
    return [QueueEntry(session=session, handoff=handoff, escalated_by=escalator)
            for handoff, session, escalator in await uow.handoffs.list_queue(account_id=account_id)]
