"""Two OS processes share the inbox on PostgreSQL and one is killed (SIGKILL) holding events.

Each process runs an `Inbox` and an `InboxWorker`, as two Rasa processes behind the load
balancer do. The one to be killed holds every event it claims (its process function never
returns); the other records each event it handles in a table of its own. While the first
lives, its heartbeats keep its events its own; once it is killed, the other takes them over
no sooner than the claim timeout after their last heartbeat and no later than the timeout
and two heartbeats after the kill, and every event is handled to completion exactly once.
Small values (a heartbeat of 0.5 s, a timeout of 1.5 s) keep it quick.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.engine import Engine

from bot.messenger.event_types import InboundEvent
from bot.messenger.events import parse_webhook
from bot.messenger.inbox import Inbox
from bot.messenger.worker import InboxWorker
from bot.store import InboxEventRow, create_db_engine
from bot.store.tables import UTCDateTime

HEARTBEAT_SECONDS = 0.5
CLAIM_TIMEOUT_SECONDS = 1.5  # more than twice the heartbeat, as the settings require
CONCURRENCY = 3
CONVERSATIONS = 8
PER_CONVERSATION = 3
PAGE = "104852338912345"
T0 = 1763849400000

INBOX = InboxEventRow.__table__
HANDLED = Table(
    "test_inbox_takeover_handled",
    MetaData(),
    Column("event_id", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("tried_before", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
)
"""What the surviving process handled: one row per event it processed to the end."""


def _text_event(psid: str, timestamp: int, mid: str) -> InboundEvent:
    (event,) = parse_webhook({"object": "page", "entry": [{"id": PAGE, "time": timestamp,
        "messaging": [{"sender": {"id": psid}, "recipient": {"id": PAGE},
                       "timestamp": timestamp, "message": {"mid": mid, "text": "hi"}}]}]})
    return event


def _all_done(engine: Engine) -> bool:
    with engine.connect() as connection:
        return not connection.execute(
            select(func.count()).select_from(INBOX).where(INBOX.c.status != "done")
        ).scalar()


def run_worker(url: str, role: str) -> None:
    """One process's inbox worker: the 'victim' holds what it claims, the 'survivor' finishes.

    The survivor records each event with the time its processing started (by the clock its
    inbox uses) and leaves once every event is done.
    """
    engine = create_db_engine(url)
    inbox = Inbox(engine, claim_timeout=timedelta(seconds=CLAIM_TIMEOUT_SECONDS))

    def record(event_id: str, tried_before: int, started_at: datetime) -> None:
        with engine.begin() as connection:
            connection.execute(HANDLED.insert().values(
                event_id=event_id, pid=os.getpid(), tried_before=tried_before,
                started_at=started_at))

    async def process(event: InboundEvent, tried_before: int = 0) -> bool:
        if role == "victim":
            await asyncio.Event().wait()  # holds it until the process is killed
        started_at = datetime.now(timezone.utc)
        await asyncio.to_thread(record, event.event_id, tried_before, started_at)
        return False

    async def main() -> None:
        worker = InboxWorker(inbox, process, concurrency=CONCURRENCY, poll_seconds=0.05,
                             heartbeat_seconds=HEARTBEAT_SECONDS)
        await worker.start()
        deadline = time.monotonic() + 120  # a hang guard: the test fails long before
        while time.monotonic() < deadline and not await asyncio.to_thread(_all_done, engine):
            await asyncio.sleep(0.05)
        await worker.stop()

    asyncio.run(main())
    engine.dispose()


def _held_by(engine: Engine, pid: int) -> dict[str, dict]:
    """The 'processing' rows a process's tasks hold (their worker ids end in pid:task)."""
    with engine.connect() as connection:
        found = connection.execute(select(INBOX).where(
            INBOX.c.status == "processing", INBOX.c.claimed_by.like(f"%:{pid}:%")
        )).mappings()
        return {row["event_id"]: dict(row) for row in found}


def _handled(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(HANDLED)).mappings()]


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    """A hang guard, not a timing: the condition comes about in a few seconds."""
    deadline = time.monotonic() + 90
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_a_killed_processs_events_are_taken_over_by_the_other_process(engine: Engine) -> None:
    HANDLED.drop(engine, checkfirst=True)
    HANDLED.create(engine)
    everything = {f"m_{c}_{i}" for c in range(CONVERSATIONS) for i in range(PER_CONVERSATION)}
    Inbox(engine).store([_text_event(f"82000000000{c:05d}", T0 + i * 10 + c, f"m_{c}_{i}")
                         for i in range(PER_CONVERSATION) for c in range(CONVERSATIONS)])
    url = engine.url.render_as_string(hide_password=False)
    spawn = multiprocessing.get_context("spawn")
    victim = spawn.Process(target=run_worker, args=(url, "victim"), daemon=True)
    survivor = spawn.Process(target=run_worker, args=(url, "survivor"), daemon=True)
    try:
        victim.start()
        _wait_until(lambda: len(_held_by(engine, victim.pid)) == CONCURRENCY,
                    "the victim holds an event in each of its tasks")
        held = set(_held_by(engine, victim.pid))
        survivor.start()

        others = everything - {f"m_{event_id.split('_')[1]}_{i}" for event_id in held
                               for i in range(PER_CONVERSATION)}
        _wait_until(lambda: {row["event_id"] for row in _handled(engine)} == others,
                    "the survivor handled every conversation the victim does not hold")
        # The survivor keeps claiming while the live victim renews for longer than the
        # timeout: nothing is taken from it.
        survivor_busy_since = datetime.now(timezone.utc)
        _wait_until(lambda: min(row["heartbeat_at"] for row in
                                _held_by(engine, victim.pid).values())
                    > survivor_busy_since + timedelta(seconds=CLAIM_TIMEOUT_SECONDS),
                    "the victim renewed its claims past the timeout")
        assert set(_held_by(engine, victim.pid)) == held

        killed_at = datetime.now(timezone.utc)
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(30)
        last_beats = {event_id: row["heartbeat_at"]
                      for event_id, row in _held_by(engine, victim.pid).items()}
        assert set(last_beats) == held  # still its claims: not taken over yet

        survivor.join(120)
        assert survivor.exitcode == 0
    finally:
        for process in (victim, survivor):
            if process.is_alive():
                process.kill()
                process.join(30)

    records = _handled(engine)
    HANDLED.drop(engine)
    assert Counter(row["event_id"] for row in records) == Counter(everything)  # exactly once
    assert _all_done(engine)
    assert {row["pid"] for row in records} == {survivor.pid}
    bound = timedelta(seconds=CLAIM_TIMEOUT_SECONDS + 2 * HEARTBEAT_SECONDS)
    for row in records:
        if row["event_id"] not in held:
            assert row["tried_before"] == 0
            continue
        assert row["tried_before"] == 1  # the try the kill cut short counts
        waited = row["started_at"] - last_beats[row["event_id"]]
        assert waited >= timedelta(seconds=CLAIM_TIMEOUT_SECONDS), "taken over too soon"
        assert row["started_at"] - killed_at <= bound, (
            f"taken over {row['started_at'] - killed_at} after the kill")
