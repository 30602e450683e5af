"""Answers to Teams' typeahead (`application/search` invokes, adapters/teams/typeahead.py).

Teams sends `value: {"queryText": ..., "dataset": ..., "queryOptions": {"skip": n, "top": m}}` and
expects HTTP 200 with `{"type": "application/vnd.microsoft.search.searchResponse", "value":
{"results": [{"title": ..., "value": ...}]}}` ("Code snippets for invoke request and response" in
https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/dynamic-search).
A request we can't answer gets `application/vnd.microsoft.error` with `{"code", "message"}`, the
shape the Agents SDK's own search route answers with (microsoft_agents.hosting.core.app.adaptive_card
`factory.error` / `bad_request`): a malformed value or an unknown dataset is 400 BadRequest, a
refusal by core is 400 with its reason as the code, never a 500.

The invoke came through the same token check as every activity (transport.py); the caller is signed
in from it, so a search only ever sees the caller's own account's PSA."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from microsoft_agents.activity import Activity, InvokeResponse

from adapters.teams import cards_text as t
from adapters.teams import replies as r
from adapters.teams.cards_base import safe
from adapters.teams.surface import TeamsSurface
from adapters.teams.typeahead import PAGE, Dataset
from adapters.teams.wording import error_text
from core.access import Actor
from core.errors import DomainError
from core.psa import PsaMember, Ticket

log = logging.getLogger("rflow.teams")

SEARCH = "application/search"
SEARCH_RESPONSE = "application/vnd.microsoft.search.searchResponse"
ERROR_RESPONSE = "application/vnd.microsoft.error"
MAX_TOP = 50
MAX_SKIP = 500
MAX_TITLE_CHARS = 150
DEADLINE_S = 10.0  # the connector gives up after 15 s
DATASETS: dict[str, Dataset] = {d.value: d for d in Dataset}


@dataclass(frozen=True, kw_only=True)
class Query:
    dataset: Dataset
    text: str
    skip: int = 0
    top: int = PAGE


def search_response(results: list[dict[str, str]]) -> InvokeResponse:
    return InvokeResponse(status=200, body={"statusCode": 200, "type": SEARCH_RESPONSE, "value": {"results": results}})


def search_error(code: str, message: str, status: int = 400) -> InvokeResponse:
    return InvokeResponse(status=status, body={"statusCode": status, "type": ERROR_RESPONSE,
                                               "value": {"code": code, "message": message}})


def parse_query(value: object) -> Query:
    """The invoke's value; `ValueError` naming what is wrong. An empty queryText lists the first page."""
    if not isinstance(value, dict):
        raise ValueError("the search value is not an object")
    dataset = value.get("dataset")
    if not isinstance(dataset, str) or dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}")
    text = value.get("queryText", "")
    if not isinstance(text, str):
        raise ValueError("queryText is not text")
    options = value.get("queryOptions") or {}
    if not isinstance(options, dict):
        raise ValueError("queryOptions is not an object")
    skip, top = options.get("skip", 0), options.get("top", PAGE)
    if type(skip) is not int or type(top) is not int or skip < 0 or top < 1:
        raise ValueError("queryOptions skip and top are whole numbers")
    return Query(dataset=DATASETS[dataset], text=text.strip(), skip=min(skip, MAX_SKIP), top=min(top, MAX_TOP))


def ticket_result(ticket: Ticket) -> dict[str, str]:
    """`#1001 Printer offline in accounting — Contoso`; the value is what Link a ticket takes."""
    company = t.TICKET_COMPANY.format(company=ticket.company_name) if ticket.company_name else ""
    return {"title": _title(t.TICKET_CHOICE.format(id=ticket.id, summary=ticket.summary) + company),
            "value": str(ticket.id)}


def member_result(member: PsaMember) -> dict[str, str]:
    return {"title": _title(t.MEMBER_CHOICE.format(name=member.name, identifier=member.identifier)),
            "value": str(member.id)}


def _title(text: str) -> str:
    text = safe(" ".join(text.split()))
    return text if len(text) <= MAX_TITLE_CHARS else text[:MAX_TITLE_CHARS - 1] + "…"


def _matches(member: PsaMember, words: str) -> bool:
    needle = words.casefold()
    return any(needle in (part or "").casefold() for part in (member.name, member.identifier, member.email))


class TypeaheadSearch:
    def __init__(self, surface: TeamsSurface, *, deadline_s: float = DEADLINE_S) -> None:
        self.surface = surface
        self.engine = surface.engine
        self.deadline_s = deadline_s

    async def invoke(self, activity: Activity) -> InvokeResponse:
        try:
            query = parse_query(activity.value)
        except ValueError as exc:
            return search_error("BadRequest", str(exc))
        try:
            signed = await self.surface.sign_in(activity)
            results, warning = await asyncio.wait_for(self.find(signed.actor, query), timeout=self.deadline_s)
        except DomainError as exc:
            log.info("refused Teams search in %s: %s", query.dataset, exc.message, extra={"code": exc.code})
            return search_error(exc.reason, error_text(exc))
        except TimeoutError:
            log.warning("Teams search in %s took longer than %.0fs", query.dataset, self.deadline_s)
            return search_error("Timeout", r.SEARCH_SLOW, status=503)
        if warning and not results:  # a list the PSA would not give is said, not shown as no match (R34)
            return search_error("PermissionMissing", warning)
        return search_response(results)

    async def find(self, actor: Actor, query: Query) -> tuple[list[dict[str, str]], str | None]:
        """One page of results, and the PSA's warning when its list was unreadable."""
        end = query.skip + query.top
        if query.dataset == Dataset.TICKETS:  # open tickets only (R34), of the caller's account's PSA
            tickets = await self.engine.psa.search(actor=actor, text=query.text, limit=end)
            return [ticket_result(ticket) for ticket in tickets[query.skip:end]], tickets.warning
        members = await self.engine.psa_settings.members(actor=actor)
        found = [m for m in members if not query.text or _matches(m, query.text)]
        return [member_result(member) for member in found[query.skip:end]], members.warning
