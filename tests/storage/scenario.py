"""A small world for the storage tests: two accounts, members, a session in each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.models import (
    Account,
    Handoff,
    HandoffIntent,
    Member,
    PendingTurn,
    Role,
    Session,
    SessionStatus,
    Step,
    StepKind,
    Writeback,
    Writeup,
    WriteupKind,
)
from core.ports import UnitOfWork, UnitOfWorkFactory

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass(frozen=True)
class World:
    account: int
    other_account: int
    engineer: int
    senior: int
    seniors: tuple[int, ...]
    other_member: int
    session: int
    other_session: int


async def seed(uow_factory: UnitOfWorkFactory, *, seniors: int = 1) -> World:
    async with uow_factory() as uow:
        acme = await uow.accounts.add(Account(name="Acme IT", created_at=T0))
        globex = await uow.accounts.add(Account(name="Globex MSP", created_at=T0))
        assert acme.id is not None and globex.id is not None
        engineer = await add_member(uow, acme.id, "Dana", Role.ENGINEER)
        senior_ids = [
            await add_member(uow, acme.id, f"Senior {n}", Role.ADMIN) for n in range(seniors)
        ]
        other = await add_member(uow, globex.id, "Olaf", Role.ENGINEER)
        session = await add_session(uow, acme.id, engineer, "VPN drops every hour")
        other_session = await add_session(uow, globex.id, other, "Printer offline")
        await uow.commit()
    return World(
        account=acme.id,
        other_account=globex.id,
        engineer=engineer,
        senior=senior_ids[0],
        seniors=tuple(senior_ids),
        other_member=other,
        session=session,
        other_session=other_session,
    )


async def add_member(uow: UnitOfWork, account_id: int, name: str, role: Role) -> int:
    member = await uow.members.add(Member(account_id=account_id, name=name, role=role, created_at=T0))
    assert member.id is not None
    return member.id


async def add_session(
    uow: UnitOfWork,
    account_id: int,
    member_id: int,
    title: str,
    *,
    updated_at: datetime = T0,
    status: SessionStatus = SessionStatus.ACTIVE,
    thread_ref: str | None = None,
) -> int:
    session = await uow.sessions.add(
        Session(
            account_id=account_id,
            title=title,
            status=status,
            created_by=member_id,
            handler_id=member_id,
            created_at=T0,
            updated_at=updated_at,
            thread_ref=thread_ref,
        )
    )
    assert session.id is not None
    return session.id


async def add_step(uow: UnitOfWork, world: World, text: str, created_at: datetime) -> int:
    step = await uow.steps.add(
        Step(
            account_id=world.account,
            session_id=world.session,
            kind=StepKind.ENGINEER_MESSAGE,
            text=text,
            created_at=created_at,
            author_id=world.engineer,
        )
    )
    assert step.id is not None
    return step.id


async def add_escalation(uow: UnitOfWork, world: World, created_at: datetime = T0) -> int:
    handoff = await uow.handoffs.add(
        Handoff(
            account_id=world.account,
            session_id=world.session,
            intent=HandoffIntent.ESCALATE,
            reason="needs firewall access",
            created_by=world.engineer,
            created_at=created_at,
        )
    )
    assert handoff.id is not None
    return handoff.id


async def add_turns(uow_factory: UnitOfWorkFactory, world: World, count: int) -> list[int]:
    """`count` pending turns, created one second apart, each with its engineer message."""
    ids = []
    async with uow_factory() as uow:
        for n in range(count):
            step_id = await add_step(uow, world, f"message {n}", at(n))
            turn = await uow.turns.add(
                PendingTurn(
                    account_id=world.account,
                    session_id=world.session,
                    step_id=step_id,
                    created_at=at(n),
                )
            )
            assert turn.id is not None
            ids.append(turn.id)
        await uow.commit()
    return ids


async def add_writeback(
    uow: UnitOfWork,
    *,
    account_id: int,
    session_id: int,
    member_id: int,
    key: str,
    created_at: datetime = T0,
) -> int:
    """A resolve writeup and its outbox row (as core.writeback.enqueue records them)."""
    writeup = await uow.writeups.add(
        Writeup(account_id=account_id, session_id=session_id, kind=WriteupKind.RESOLVE,
                markdown=f"# {key}", summary="fixed", outcome="resolved", created_by=member_id,
                created_at=created_at)  # fmt: skip
    )
    assert writeup.id is not None
    writeback = await uow.writebacks.add(
        Writeback(account_id=account_id, session_id=session_id, writeup_id=writeup.id,
                  kind=WriteupKind.RESOLVE, ticket_id=4711, note_kind="resolution",
                  text=f"# {key}", idempotency_key=key,
                  created_at=created_at, created_by=member_id)  # fmt: skip
    )
    assert writeback.id is not None
    return writeback.id


async def add_writebacks(uow_factory: UnitOfWorkFactory, world: World, count: int) -> list[int]:
    """`count` pending writebacks of the world's session, created one second apart."""
    async with uow_factory() as uow:
        ids = [
            await add_writeback(uow, account_id=world.account, session_id=world.session,
                                member_id=world.engineer, key=f"resolve:{n}", created_at=at(n))  # fmt: skip
            for n in range(count)
        ]
        await uow.commit()
    return ids
