"""The account's PSA connection and ticket links (R34, R35, R40).

The connection's fields are the adapter's (`PsaProvider.fields`); core never names a vendor.
Secrets are encrypted one by one before they reach storage and are never shown back. Saving a
connection tests it at once and keeps what the test discovered (a ConnectWise codebase). Linking
reads the ticket from the PSA outside any transaction, then records it on the session in one.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from core.access import Actor, load_member, load_session, require_can_change, require_manager
from core.deps import Deps
from core.errors import InvalidInput, NotFound
from core.models import PsaConnection, Session
from core.ports import UnitOfWork
from core.ports.psa import Psa, PsaProvider
from core.psa import ConnectionReport, PsaCredentials, PsaField, PsaList, Ticket, parse_ticket_ref
from core.sessions import bump, record_action

log = logging.getLogger("rflow.psa")

SET = "•••••• (set)"
MAX_SETTING_CHARS = 255
MAX_SEARCH_CHARS = 200


@dataclass(frozen=True, kw_only=True)
class Link:
    session: Session
    ticket: Ticket


@dataclass(frozen=True, kw_only=True)
class ConnectResult:
    shown: dict[str, str]
    report: ConnectionReport


def ticket_info(ticket: Ticket) -> dict[str, Any]:
    return {"summary": ticket.summary, "company": ticket.company_name, "board": ticket.board_name,
            "status": ticket.status_name, "board_id": ticket.board_id, "url": ticket.url}


def psa_name(deps: Deps) -> str:
    return deps.psa.display_name if deps.psa is not None else "the PSA"


def psa_fields(deps: Deps) -> tuple[PsaField, ...]:
    return deps.psa.fields if deps.psa is not None else ()


def not_configured(deps: Deps) -> NotFound:
    keys = [f.name for f in psa_fields(deps) if f.required]
    return NotFound(f"{psa_name(deps)} is not set up for this account: an admin connects it in settings "
                    f"({', '.join(keys) or 'no PSA adapter is installed'}).",
                    reason="psa.not_configured", params={"keys": keys, "psa": psa_name(deps)})


def masked_connection(deps: Deps, connection: PsaConnection | None) -> dict[str, str]:
    """What settings may show: every field but the secrets, which only read as set."""
    if connection is None:
        return {}
    shown: dict[str, str] = {}
    for f in psa_fields(deps):
        if f.secret and f.name in connection.secrets_encrypted:
            shown[f.name] = SET
        elif not f.secret and connection.settings.get(f.name):
            shown[f.name] = connection.settings[f.name]
    return shown


def _provider(deps: Deps) -> PsaProvider:
    if deps.psa is None:
        raise not_configured(deps)
    return deps.psa


def _checked_values(deps: Deps, values: Mapping[str, str], current: PsaConnection | None) -> dict[str, str]:
    fields = {f.name: f for f in _provider(deps).fields}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise InvalidInput(f"Unknown {psa_name(deps)} setting(s): {', '.join(unknown)}.", reason="psa.unknown_settings",
                           params={"keys": unknown, "known": sorted(fields)})
    missing = [name for name, f in fields.items() if f.required and name not in values and current is None]
    if missing:
        raise InvalidInput(f"Also give {', '.join(missing)} to connect {psa_name(deps)}.", reason="psa.settings_missing",
                           params={"keys": missing})
    checked: dict[str, str] = {}
    for key, raw in values.items():
        value = str(raw).strip()
        if not value and fields[key].required:
            raise InvalidInput(f"{key} can't be empty.", reason="psa.setting_empty", params={"key": key})
        if len(value) > MAX_SETTING_CHARS or any(ord(ch) < 32 for ch in value):
            raise InvalidInput(f"{key} must be one line of at most {MAX_SETTING_CHARS} characters.",
                               reason="psa.setting_invalid", params={"key": key, "max": MAX_SETTING_CHARS})
        checked[key] = value
    return checked


class PsaLinkService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def configure(self, *, actor: Actor, values: Mapping[str, str]) -> ConnectResult:
        """Set some or all of the connection's fields (the first time, all required ones), then
        test it. Admins only (R35). Secrets are encrypted before the transaction starts."""
        box = self.deps.secret_box
        if box is None:
            raise InvalidInput("Set RF_SECRET_KEY (see the README) before storing PSA keys.", reason="psa.secret_key_unset")
        provider = _provider(self.deps)
        secret_names = {f.name for f in provider.fields if f.secret}
        async with self.deps.uow_factory() as uow:
            member = await load_member(uow, actor)
            require_manager(member)
            current = await uow.psa_connections.get(account_id=actor.account_id)
            checked = _checked_values(self.deps, values, current)
            settings = dict(current.settings) if current else {}
            secrets = dict(current.secrets_encrypted) if current else {}
            for key, value in checked.items():
                if key in secret_names:
                    secrets[key] = box.encrypt(value)
                elif value:
                    settings[key] = value
                else:
                    settings.pop(key, None)
            await uow.psa_connections.put(PsaConnection(
                account_id=actor.account_id, kind=provider.kind, settings=settings, secrets_encrypted=secrets,
                updated_at=self.deps.clock.now(), updated_by=member.id or 0))
            await uow.commit()
        log.info("PSA connection updated (keys: %s)", ", ".join(sorted(values)))
        report = await self.test(actor=actor)
        return ConnectResult(shown=await self.shown_settings(actor=actor), report=report)

    async def test(self, *, actor: Actor) -> ConnectionReport:
        """Test the connection and keep what the test discovered. Admins only."""
        async with self.deps.uow_factory() as uow:
            require_manager(await load_member(uow, actor))
            connection = await uow.psa_connections.get(account_id=actor.account_id)
        async with open_psa(self.deps, connection) as psa:
            report = await psa.check_connection()
        if report.discovered:
            async with self.deps.uow_factory() as uow:
                live = await uow.psa_connections.get(account_id=actor.account_id)
                if live is not None:
                    live.settings = {**live.settings, **report.discovered}
                    await uow.commit()
        log.info("PSA connection test: %s", "ok" if report.ok else ", ".join(p.code for p in report.problems))
        return report

    async def shown_settings(self, *, actor: Actor) -> dict[str, str]:
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
            return masked_connection(self.deps, await uow.psa_connections.get(account_id=actor.account_id))

    @asynccontextmanager
    async def client(self, account_id: int) -> AsyncIterator[Psa]:
        async with self.deps.uow_factory() as uow:
            connection = await uow.psa_connections.get(account_id=account_id)
        async with open_psa(self.deps, connection) as psa:
            yield psa

    async def search(self, *, actor: Actor, text: str, company_id: int | None = None, limit: int = 25) -> PsaList[Ticket]:
        """Open tickets whose summary contains the text, newest first (R34); a ticket number or
        URL finds that ticket (if it is open) ahead of the rest. Any member may search."""
        text = (text or "").strip()
        if len(text) > MAX_SEARCH_CHARS:
            raise InvalidInput(f"Search for at most {MAX_SEARCH_CHARS} characters.", reason="ticket.search_too_long",
                               params={"max": MAX_SEARCH_CHARS})
        async with self.deps.uow_factory() as uow:
            await load_member(uow, actor)
        number = parse_ticket_ref(text) if text else None
        async with self.client(actor.account_id) as psa:
            found: list[Ticket] = []
            if number is not None:
                try:
                    ticket = await psa.get_ticket(number)
                    if not ticket.closed and company_id in (None, ticket.company_id):
                        found.append(ticket)
                except NotFound:
                    pass
            words = None if number is not None and text.lstrip("#").isdigit() else text or None
            listed = await psa.search_tickets(text=words, company_id=company_id, open_only=True, limit=limit)
        found.extend(t for t in listed if all(t.id != f.id for f in found))
        return PsaList(found[:limit], warning=listed.warning)

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
                                f"{member.name} linked {psa_name(self.deps)} ticket #{ticket.id}: {ticket.summary}")
            await uow.commit()
        return Link(session=session, ticket=ticket)


@asynccontextmanager
async def open_psa(deps: Deps, connection: PsaConnection | None) -> AsyncIterator[Psa]:
    if connection is None or deps.psa is None or deps.secret_box is None:
        raise not_configured(deps)
    try:
        secrets = {name: deps.secret_box.decrypt(token) for name, token in connection.secrets_encrypted.items()}
    except ValueError:
        raise InvalidInput("The stored PSA keys can't be decrypted: was RF_SECRET_KEY changed? An admin enters "
                           "them again in settings.", reason="psa.key_undecryptable") from None
    credentials = PsaCredentials(kind=connection.kind, settings=dict(connection.settings), secrets=secrets)
    async with deps.psa.open(credentials) as psa:
        yield psa


def linked_ticket_id(session: Session) -> int | None:
    return int(session.ticket_ref) if session.ticket_ref and session.ticket_ref.isdigit() else None


async def connection_of(uow: UnitOfWork, account_id: int) -> PsaConnection | None:
    return await uow.psa_connections.get(account_id=account_id)
