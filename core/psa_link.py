"""The account's ConnectWise connection and ticket links (R34, issue: ConnectWise).

Keys are encrypted before they reach storage and are never shown back. Linking reads the ticket
from the PSA outside any transaction, then records it on the session in one.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from core.access import Actor, load_member, load_session, require_can_change, require_manager
from core.deps import Deps
from core.errors import InvalidInput, NotFound
from core.models import PsaConnection, Session
from core.ports import UnitOfWork
from core.psa import Psa, PsaCredentials, Ticket, parse_ticket_ref
from core.sessions import bump, record_action

log = logging.getLogger("rflow.psa")

CW_FIELDS = {"cw_site": "site", "cw_company": "company_id", "cw_public_key": "public_key",
             "cw_private_key": "private_key", "cw_client_id": "client_id", "cw_codebase": "codebase"}
REQUIRED = ("cw_site", "cw_company", "cw_public_key", "cw_private_key", "cw_client_id")
NOT_CONFIGURED = ("ConnectWise is not set up for this account: an admin sets cw_site, cw_company, cw_public_key, "
                  "cw_private_key and cw_client_id.")


@dataclass(frozen=True, kw_only=True)
class Link:
    session: Session
    ticket: Ticket


def ticket_info(ticket: Ticket) -> dict[str, Any]:
    return {"summary": ticket.summary, "company": ticket.company_name, "board": ticket.board_name,
            "status": ticket.status_name, "board_id": ticket.board_id, "url": ticket.url}


def masked_connection(connection: PsaConnection | None) -> dict[str, str]:
    """What /prefs may show: everything but the private key, which only reads as set."""
    if connection is None:
        return {}
    shown = {"cw_site": connection.site, "cw_company": connection.company_id,
             "cw_public_key": connection.public_key, "cw_client_id": connection.client_id,
             "cw_private_key": "•••••• (set)"}
    if connection.codebase:
        shown["cw_codebase"] = connection.codebase
    return shown


class PsaLinkService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def configure(self, *, actor: Actor, values: dict[str, str]) -> dict[str, str]:
        """Set some or all cw_* keys; the first time, all required ones. Admins only (R35)."""
        unknown = set(values) - set(CW_FIELDS)
        if unknown:
            raise InvalidInput(f"Unknown ConnectWise setting(s): {', '.join(sorted(unknown))}.", reason="psa.unknown_settings",
                               params={"keys": sorted(unknown)})
        box = self.deps.secret_box
        if box is None:
            raise InvalidInput("Set RF_SECRET_KEY (see the README) before storing ConnectWise keys.",
                               reason="psa.secret_key_unset")
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            require_manager(member)
            current = await uow.psa_connections.get(account_id=actor.account_id)
            fields: dict[str, Any] = {}
            if current is not None:
                fields = {"site": current.site, "company_id": current.company_id, "public_key": current.public_key,
                          "client_id": current.client_id, "codebase": current.codebase,
                          "private_key_encrypted": current.private_key_encrypted}
            missing = [k for k in REQUIRED if k not in values and current is None]
            if missing:
                raise InvalidInput(f"Also give {', '.join(missing)} to connect ConnectWise.", reason="psa.settings_missing",
                                   params={"keys": missing})
            for key, value in values.items():
                value = str(value).strip()
                if not value and key != "cw_codebase":
                    raise InvalidInput(f"{key} can't be empty.", reason="psa.setting_empty", params={"key": key})
                if key == "cw_private_key":
                    fields["private_key_encrypted"] = box.encrypt(value)
                else:
                    fields[CW_FIELDS[key]] = value or None
            connection = await uow.psa_connections.put(PsaConnection(
                account_id=actor.account_id, updated_at=self.deps.clock.now(), updated_by=member.id or 0, **fields))
            await uow.commit()
        log.info("ConnectWise connection updated (keys: %s)", ", ".join(sorted(values)))
        return masked_connection(connection)

    async def shown_settings(self, *, actor: Actor) -> dict[str, str]:
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
            return masked_connection(await uow.psa_connections.get(account_id=actor.account_id))

    @asynccontextmanager
    async def client(self, account_id: int) -> AsyncIterator[Psa]:
        async with self.deps.uow_factory() as uow:
            connection = await uow.psa_connections.get(account_id=account_id)
        async with open_psa(self.deps, connection) as psa:
            yield psa

    async def link(self, *, actor: Actor, session_id: int, ref: str) -> Link:
        ticket_id = parse_ticket_ref(ref)
        if ticket_id is None:
            raise InvalidInput("That is not a ticket number: give 12345, #12345 or a ticket URL.", reason="ticket.ref_invalid",
                               params={"ref": ref})
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            await require_can_change(uow, member, await load_session(uow, actor, session_id))
        async with self.client(actor.account_id) as psa:
            ticket = await psa.get_ticket(ticket_id)
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            session = await load_session(uow, actor, session_id)
            await require_can_change(uow, member, session)
            session.ticket_ref, session.ticket_info = str(ticket.id), ticket_info(ticket)
            await bump(uow, session)  # the note's ticket line changes
            await record_action(uow, self.deps, session, member.id,
                                f"{member.name} linked ConnectWise ticket #{ticket.id}: {ticket.summary}")
            await uow.commit()
        return Link(session=session, ticket=ticket)


@asynccontextmanager
async def open_psa(deps: Deps, connection: PsaConnection | None) -> AsyncIterator[Psa]:
    if connection is None or deps.psa_factory is None or deps.secret_box is None:
        raise NotFound(NOT_CONFIGURED, reason="psa.not_configured", params={"keys": list(REQUIRED)})
    try:
        private_key = deps.secret_box.decrypt(connection.private_key_encrypted)
    except ValueError:
        raise InvalidInput("The stored ConnectWise key can't be decrypted: was RF_SECRET_KEY changed? "
                           "An admin sets cw_private_key again.", reason="psa.key_undecryptable") from None
    credentials = PsaCredentials(site=connection.site, company_id=connection.company_id, public_key=connection.public_key,
                                 private_key=private_key, client_id=connection.client_id, codebase=connection.codebase)
    async with deps.psa_factory(credentials) as psa:
        yield psa


def linked_ticket_id(session: Session) -> int | None:
    return int(session.ticket_ref) if session.ticket_ref and session.ticket_ref.isdigit() else None


async def connection_of(uow: UnitOfWork, account_id: int) -> PsaConnection | None:
    return await uow.psa_connections.get(account_id=account_id)
