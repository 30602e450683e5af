"""Who may do what (R23, R24, R35). Every engine action resolves its actor here first."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import Forbidden, NotFound
from core.machines import handoff_rules, require_session_open
from core.models import HandoffIntent, Member, Role, Session
from core.ports import UnitOfWork

WORKERS = frozenset({Role.OWNER, Role.ADMIN, Role.ENGINEER})
MANAGERS = frozenset({Role.OWNER, Role.ADMIN})

# Refusal codes shared with other modules (core.errors: each surface words them).
NOT_A_MEMBER = "access.not_a_member"
ADMIN_REQUIRED = "access.admin_required"


@dataclass(frozen=True, kw_only=True)
class Actor:
    """The caller of an engine action: an account and a member of it. Surfaces build it."""

    account_id: int
    member_id: int


async def load_member(uow: UnitOfWork, actor: Actor) -> Member:
    member = await uow.members.get(account_id=actor.account_id, member_id=actor.member_id)
    if member is None or not member.active:
        raise Forbidden("You are not a member of this account.", reason=NOT_A_MEMBER)
    return member


async def load_session(uow: UnitOfWork, actor: Actor, session_id: int) -> Session:
    """A session of the caller's account; another account's id is simply not found (R35)."""
    session = await uow.sessions.get(account_id=actor.account_id, session_id=session_id)
    if session is None:
        raise NotFound(f"There is no session #{session_id}.", reason="session.not_found",
                       params={"session_id": session_id})
    return session


def require_worker(member: Member) -> None:
    if member.role not in WORKERS:
        raise Forbidden("Engineer or admin access required.", reason="access.worker_required",
                        params={"role": str(member.role)})


def require_manager(member: Member) -> None:
    if member.role not in MANAGERS:
        raise Forbidden("Admin access required.", reason=ADMIN_REQUIRED, params={"role": str(member.role)})


async def require_can_change(uow: UnitOfWork, member: Member, session: Session) -> None:
    """R24: anyone in the account reads; changes are for engineers, and after an escalation has been
    picked up, for the handler and admins only. Escalated-awaiting-pickup and resolved are closed."""
    require_worker(member)
    require_session_open(session.status, session.id)
    if member.id == session.handler_id or member.role in MANAGERS:
        return  # the handler and admins may always change it; no need to look at the handoff
    handoff = await uow.handoffs.latest_for_session(
        account_id=session.account_id, session_id=session.id or 0, intent=HandoffIntent.ESCALATE
    )
    if handoff is not None and handoff_rules(intent=handoff.intent, claimed=handoff.claimed_by is not None,
                                             session_status=session.status).handler_only:
        raise Forbidden("After pickup only the session's handler or an admin can change it.",
                        reason="access.handler_only", params={"session_id": session.id})
