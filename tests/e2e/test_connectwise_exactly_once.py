"""R39/R40 through real processes against the ConnectWise fake: a POST saved after the client's
timeout, a console killed mid-delivery with two workers taking over, time refused on a closed
ticket and retried alone, time logged as the engineer with the account's work type and role."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import text

from bot.secretbox import new_key
from storage.db import make_engine, upgrade
from tests.databases import throwaway_database
from tests.e2e.conftest import Rflow
from tests.fakes.connectwise_api import FakeConnectWise
from tests.fakes.connectwise_fixtures import seed_demo
from tests.services import postgres_url_or_skip

CONNECT = ("/psa connect site=acme.myconnectwise.example company=acme public_key=pub-4f1c "
           "private_key=PRIV-9d2e-s3cr3t client_id=5b1d6a0e-client-guid")
SETUP = f"""{CONNECT}
/psa statuses 1 resolved=104 escalated=103
/psa time on type=31 role=41 billable=do_not_bill
/psa me 501
"""
RESOLVE = "/new Printer offline in accounting\n/link 1001\n/resolve +time Cleared the stuck spooler\n"


@pytest.fixture
async def cw() -> AsyncIterator[FakeConnectWise]:
    async with FakeConnectWise() as fake:
        seed_demo(fake)
        fake.add_work_type(30, "Remote Support", default=True)
        fake.add_work_type(31, "Onsite")
        fake.add_work_role(40, "Engineer")
        fake.add_work_role(41, "Senior Engineer")
        yield fake


async def _set_up(rflow: Rflow, cw: FakeConnectWise) -> Rflow:
    rflow.env.update({"RF_CW_API_URL": cw.base_url, "RF_SECRET_KEY": new_key(), "ANTHROPIC_API_KEY": "",
                      "RF_PSA_TIMEOUT": "1"})
    setup = await rflow.console(SETUP, "--strict")
    assert setup.code == 0, setup.out + setup.err
    assert "you are ConnectWise member John Doe (#501, chosen with /psa me)" in setup.out
    return rflow


@pytest.fixture
async def psa_rflow(rflow: Rflow, cw: FakeConnectWise) -> Rflow:
    return await _set_up(rflow, cw)


@pytest.fixture(params=["sqlite", "postgres"])
async def any_rflow(request: pytest.FixtureRequest, rflow: Rflow, cw: FakeConnectWise) -> AsyncIterator[Rflow]:
    """The console's SQLite file, or one PostgreSQL database that every process shares."""
    if request.param == "sqlite":
        yield await _set_up(rflow, cw)
        return
    async with throwaway_database(postgres_url_or_skip(), "rflow_wb") as url:
        db = make_engine(url)
        try:
            await upgrade(db)  # once, before the processes start
        finally:
            await db.dispose()
        rflow.env["RF_DATABASE_URL"] = url
        yield await _set_up(rflow, cw)


def _posts(cw: FakeConnectWise, path: str) -> int:
    return len(cw.requests_to("POST", path))


WRITEBACKS = "select status, outcome, time_outcome from writebacks"


def _writebacks(rflow: Rflow) -> list[tuple[str, str | None, str | None]]:
    with sqlite3.connect(rflow.tmp / "rflow.db") as db:
        return list(db.execute(WRITEBACKS))


async def _writebacks_anywhere(rflow: Rflow) -> list[tuple[str, str | None, str | None]]:
    url = rflow.env.get("RF_DATABASE_URL")
    if url is None:
        return _writebacks(rflow)
    db = make_engine(url)
    try:
        async with db.connect() as connection:
            return [tuple(row) for row in (await connection.execute(text(WRITEBACKS))).all()]  # type: ignore[misc]
    finally:
        await db.dispose()


async def test_posts_saved_after_the_clients_timeout_are_written_once(psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    cw.answer_late("POST", "service/tickets/1001/notes", seconds=2.5)  # saved now, answered after the timeout
    cw.answer_late("POST", "time/entries", seconds=2.5)
    run = await psa_rflow.console(RESOLVE, "--strict")
    assert run.code == 0, run.out + run.err
    assert "✓ Posted the resolution note to ConnectWise ticket #1001" in run.out
    assert "Logged 1 min of working time as John Doe" in run.out
    assert len(cw.notes_of(1001)) == 1 and len(cw.time_entries_of(1001)) == 1
    assert _posts(cw, "service/tickets/1001/notes") == 1 and _posts(cw, "time/entries") == 1  # looked, never re-posted
    assert cw.ticket_view(1001)["status"]["name"] == "Resolved"


async def test_a_lost_answer_is_looked_up_not_posted_again(psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    cw.fail_after_write(2)  # the note and the time entry land, both answers are a 502
    run = await psa_rflow.console(RESOLVE + "/lane\n", "--strict")
    assert run.code == 0, run.out + run.err
    assert "✓ Posted the resolution note to ConnectWise ticket #1001" in run.out
    assert len(cw.notes_of(1001)) == 1 and len(cw.time_entries_of(1001)) == 1


async def _wait_for(predicate: Callable[[], object], timeout: float = 30) -> None:
    for _ in range(int(timeout / 0.05)):
        outcome = predicate()
        if await outcome if inspect.isawaitable(outcome) else outcome:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting")


async def _worker(rflow: Rflow) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "worker", cwd=rflow.tmp,
        env=rflow.process_env(RF_WRITEBACK_LEASE_SECONDS="1"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


@pytest.mark.parametrize("killed_in", ["service/tickets/1001/notes", "time/entries"])
async def test_a_sigkill_mid_delivery_and_two_workers_write_each_step_once(
        any_rflow: Rflow, cw: FakeConnectWise, killed_in: str) -> None:
    """R39 across processes: a console killed while ConnectWise holds its answer, then two worker
    processes on the same database (SQLite file or PostgreSQL, FOR UPDATE SKIP LOCKED)."""
    psa_rflow = any_rflow
    cw.hang_after_next("POST", killed_in, seconds=60)  # the write lands; its answer never comes
    proc = await psa_rflow.start(RESOLVE, RF_WRITEBACK_LEASE_SECONDS="1")
    landed = cw.notes_of if killed_in.endswith("notes") else cw.time_entries_of
    await _wait_for(lambda: landed(1001))
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    workers = [await _worker(psa_rflow), await _worker(psa_rflow)]
    try:
        async def delivered() -> bool:
            return await _writebacks_anywhere(psa_rflow) == [("done", "resolved", "logged")]

        await _wait_for(delivered, timeout=90)  # two fresh interpreters on a busy machine
    finally:
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):  # one that already exited says why below
                worker.terminate()
        errors = [(await w.communicate())[1].decode() for w in workers]
    assert all(w.returncode in (0, -signal.SIGTERM) for w in workers), errors
    assert len(cw.notes_of(1001)) == 1 and len(cw.time_entries_of(1001)) == 1
    assert _posts(cw, "service/tickets/1001/notes") == 1 and _posts(cw, "time/entries") == 1
    assert cw.ticket_view(1001)["status"]["name"] == "Resolved"


async def test_time_refused_on_a_closed_ticket_keeps_the_note_and_is_retried_alone(
        psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    cw.tickets[1001]["closedFlag"] = True  # closed in ConnectWise meanwhile
    run = await psa_rflow.console(RESOLVE)
    assert "✗ Posted the resolution note to ConnectWise ticket #1001" in run.out
    assert "The time entry was refused: ConnectWise refused a time entry on ticket #1001." in run.out
    assert "Time entries cannot be added to a closed ticket." in run.out
    assert "The ticket status was left as it was, so the time can still be logged" in run.out
    assert len(cw.notes_of(1001)) == 1 and cw.time_entries_of(1001) == []
    assert cw.ticket_view(1001)["status"]["name"] == "New"
    assert _writebacks(psa_rflow) == [("failed", "time_entry_failed", "failed")]
    cw.tickets[1001]["closedFlag"] = False  # reopened
    retry = await psa_rflow.console("/open 1\n/retry\n", "--strict")
    assert retry.code == 0, retry.out + retry.err
    assert "Logged 1 min of working time as John Doe" in retry.out
    assert len(cw.notes_of(1001)) == 1 and len(cw.time_entries_of(1001)) == 1
    assert _posts(cw, "service/tickets/1001/notes") == 1  # the note was not posted again
    assert cw.ticket_view(1001)["status"]["name"] == "Resolved"


async def test_time_is_logged_as_the_engineer_with_the_accounts_settings_before_the_status(
        psa_rflow: Rflow, cw: FakeConnectWise) -> None:
    run = await psa_rflow.console(RESOLVE, "--strict")
    assert run.code == 0, run.out + run.err
    [entry] = cw.time_entries_of(1001)
    assert entry["member"]["id"] == 501 and entry["workType"]["id"] == 31 and entry["workRole"]["id"] == 41
    assert entry["billableOption"] == "DoNotBill" and entry["chargeToType"] == "ServiceTicket"
    assert entry["notes"] == "Troubleshooting session"  # nothing of ours in what the customer may see
    order = [(r.method, r.path) for r in cw.requests if r.method in ("POST", "PATCH")]
    assert order == [("POST", "service/tickets/1001/notes"), ("POST", "time/entries"), ("PATCH", "service/tickets/1001")]


async def test_time_without_a_matched_member_is_its_own_failure_never_the_api_member(
        rflow: Rflow, cw: FakeConnectWise) -> None:
    rflow.env.update({"RF_CW_API_URL": cw.base_url, "RF_SECRET_KEY": new_key(), "ANTHROPIC_API_KEY": ""})
    run = await rflow.console(f"{CONNECT}\n/psa time on\n/psa me\n{RESOLVE}")
    assert "has no e-mail address to match by" in run.out  # /psa me by e-mail: the console user has none
    assert "The time entry was refused: Dana is not matched to a ConnectWise member" in run.out
    assert len(cw.notes_of(1001)) == 1 and cw.time_entries_of(1001) == []
