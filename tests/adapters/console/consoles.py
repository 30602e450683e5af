"""A console on a real engine and database, in process: SQLite or PostgreSQL, a local fake
ConnectWise and an assistant whose every word carries escape sequences, for the tests that type at
it. Its texts from elsewhere (the PSA's tickets and boards, a Slack member's name, the assistant's
replies and proposals) are hostile on purpose: none of it may reach the terminal raw."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import adapters.console.actions
import adapters.console.closing
import adapters.console.psa  # noqa: F401  (the three register the console's commands)
from adapters.console.console import Console
from adapters.psa.connectwise import ConnectWiseProvider
from bot.secretbox import FernetBox, new_key
from core.access import Actor
from core.assistant.types import (
    AssistantContext,
    AssistantTurn,
    AssistantUnavailable,
    ComposedText,
    ComposeRequest,
    FactSynthesisRequest,
    FixSuggestion,
    ReplyListener,
)
from core.bus import InMemoryBus
from core.deps import Deps
from core.engine import Engine
from core.models import Member
from storage.db import make_engine, upgrade
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import seed_demo

EVIL = "\x1b[2J\x1b]0;pwned\x07\x9b31m\r\b\x7f\u202e"  # clear screen, set the title, C1 CSI, overwrite, reorder
CONNECT = ("/psa connect site=acme.myconnectwise.example company=acme public_key=pub-4f1c "
           "private_key=PRIV-9d2e-s3cr3t client_id=5b1d6a0e-client-guid")
# What a terminal acts on: C0 controls but newline and tab, DEL, C1, bidi overrides, lone surrogates.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# What the console refuses to store (bidirectional marks are text: they are only neutralised when shown).
NOT_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


class HostileAssistant:
    """Answers every turn with escape sequences in its reply, its questions, its checks and its fix."""

    enabled = True

    def __init__(self) -> None:
        self.turns = 0

    async def respond(self, context: AssistantContext, on_text: ReplyListener | None = None) -> AssistantTurn:
        self.turns += 1
        fix = FixSuggestion(title=f"Restart {EVIL} the spooler", description=f"Stop it{EVIL}, start it.", confidence=60)
        return AssistantTurn(reply=f"Looking{EVIL} at it ({self.turns}).", questions=(f"Is it red{EVIL}?",),
                             checks=(f"Check the cable{EVIL}",), fix=fix if self.turns % 3 == 1 else None)

    async def synthesize_fact(self, request: FactSynthesisRequest) -> str:
        return f"It is{EVIL} so"

    async def compose(self, request: ComposeRequest) -> ComposedText:
        raise AssistantUnavailable("composed deterministically in these tests")


@dataclass
class World:
    console: Console
    db: AsyncEngine
    owner: Actor
    owner_member: Member

    async def type(self, *lines: str) -> list[str]:
        """Each line through the console as typed; what it printed."""
        for line in lines:
            await self.console.handle(line)
        out = list(self.console.out)
        self.console.out.clear()
        return out

    def reset(self) -> None:
        """Back to the owner (an example may have signed in as a viewer)."""
        self.console.actor, self.console.member = self.owner, self.owner_member
        self.console.wants_quit = False


def hostile_connectwise(cw: FakeConnectWise) -> None:
    seed_demo(cw)
    cw.add_board(3, f"Evil{EVIL} board", [(301, f"New{EVIL}", False), (302, f"Closed{EVIL}", True)])
    cw.add_ticket(1005, f"Evil{EVIL} printer", company_id=10, board_id=3, status_id=301)


@asynccontextmanager
async def console_world(url: str) -> AsyncIterator[World]:
    """A migrated database at `url`, the PSA connected, a session with the assistant's hostile lane
    linked to the hostile ticket, and a colleague whose (Slack) name carries escape sequences."""
    async with FakeConnectWise() as cw:
        hostile_connectwise(cw)
        db = make_engine(url)
        try:
            await upgrade(db)
            engine = Engine(Deps(uow_factory=SqlUnitOfWorkFactory(db), bus=InMemoryBus(), assistant=HostileAssistant(),
                                 secret_box=FernetBox(new_key()), psa=ConnectWiseProvider(timeout=3, base_url=cw.base_url)))
            actor, member, _ = await engine.accounts.sign_in(account_name="Acme", platform="console", external_id="dana",
                                                             name="Dana")
            await engine.accounts.sign_in(account_name="Acme", platform="slack", external_id="U0SAM",
                                          name=f"Sam{EVIL}")
            world = World(console=Console(engine=engine, actor=actor, member=member, account_name="Acme"), db=db,
                          owner=actor, owner_member=member)
            out = await world.type(CONNECT, "/psa statuses 3 resolved=302", "/new The printer prints nothing",
                                   "/link 1005", "it is every printer")
            assert "Linked ConnectWise ticket #1005" in "\n".join(out), out
            yield world
        finally:
            await db.dispose()


async def inconsistencies(db: AsyncEngine) -> list[str]:
    """What a half-written action or a stored control character would leave behind; [] when sound."""
    checks = {
        "a session without its first message": "select id from sessions s where not exists "
                                                "(select 1 from steps t where t.session_id = s.id)",
        "a resolved session without its resolution time": "select id from sessions where status = 'resolved' "
                                                          "and resolved_at is null",
        "a session whose handler is not a member": "select id from sessions s where not exists "
                                                   "(select 1 from members m where m.id = s.handler_id)",
        "an assistant turn left pending or running": "select id from pending_turns where status in ('pending', 'running')",
        "a fact numbered twice": "select session_id from facts group by session_id, seq having count(*) > 1",
    }
    found: list[str] = []
    async with db.connect() as connection:
        for what, sql in checks.items():
            rows = (await connection.execute(text(sql))).all()
            found += [f"{what}: {list(rows)}"] if rows else []
        typed = {  # text only a person types at the console (the assistant's and the PSA's are hostile here)
            "a message": "select text from steps where kind = 'engineer_message'",
            "a console member's name": "select m.name from members m join member_identities i on i.member_id = m.id "
                                       "where i.platform = 'console'",
            "a fact": "select text from facts where source = 'note'",
            "a handoff reason": "select reason from handoffs",
            "a session title": "select title from sessions",
        }
        for what, sql in typed.items():
            bad = [row[0] for row in (await connection.execute(text(sql))).all() if NOT_TEXT.search(row[0] or "")]
            found += [f"{what} holding a control character: {bad!r}"] if bad else []
    return found
