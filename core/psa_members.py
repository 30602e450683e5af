"""Who an engineer is in the PSA (R40): time is logged as the engineer's own PSA member, never as
the API member. Matched once by e-mail when first needed, or chosen by the engineer; the link is
stored so later writebacks need no lookup."""

from __future__ import annotations

from core.deps import Deps
from core.errors import DomainError, Forbidden
from core.models import Member, PsaMemberLink
from core.ports import UnitOfWork
from core.ports.psa import Psa


class PsaMemberUnmatched(DomainError):
    code = "psa_member_unmatched"


async def store_link(uow: UnitOfWork, deps: Deps, member: Member, *, psa_member_id: int, name: str,
                     matched_by: str) -> PsaMemberLink:
    return await uow.psa_members.put(PsaMemberLink(
        account_id=member.account_id, member_id=member.id or 0, psa_member_id=psa_member_id, psa_member_name=name,
        matched_by=matched_by, updated_at=deps.clock.now()))


async def match_by_email(deps: Deps, psa: Psa, member: Member, *, psa_name: str) -> PsaMemberLink:
    """Look the member's e-mail up among the PSA's members and store the link; refused in words
    when there is no e-mail or no single match."""
    if not member.email:
        raise PsaMemberUnmatched(
            f"{member.name} is not matched to a {psa_name} member and has no e-mail address to match by: "
            f"choose the {psa_name} member in settings, then retry.",
            reason="psa.member_no_email", params={"member": member.name})
    found = await psa.find_member_by_email(member.email)
    if found is None:
        raise PsaMemberUnmatched(
            f"No single {psa_name} member has the e-mail address {member.email}: {member.name} chooses "
            f"their {psa_name} member in settings, then retry.",
            reason="psa.member_not_found", params={"member": member.name, "email": member.email})
    async with deps.uow_factory() as uow:
        live = await uow.members.get(account_id=member.account_id, member_id=member.id or 0)
        if live is None or not live.active:
            raise Forbidden("That member is no longer active.", reason="member.inactive")
        link = await store_link(uow, deps, live, psa_member_id=found.id, name=found.name, matched_by="email")
        await uow.commit()
    return link


async def psa_member_for(deps: Deps, psa: Psa, member: Member, link: PsaMemberLink | None, *,
                         psa_name: str) -> PsaMemberLink:
    return link if link is not None else await match_by_email(deps, psa, member, psa_name=psa_name)
