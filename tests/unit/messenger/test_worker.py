"""The inbox worker: in order per conversation, concurrent across them, failures retried,
claims renewed, and a claim another worker took over left to it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from bot.messenger.events import parse_webhook
from bot.messenger.inbox import Inbox
from bot.messenger.worker import InboxWorker
from bot.store import InboxEventRow
from tests.messenger_payloads import dm, new_psid, now_ms


def test_worker_keeps_order_per_conversation_runs_conversations_together_and_retries(engine):
    inbox = Inbox(engine)
    conversations = [new_psid() for _ in range(4)]
    start = now_ms()
    events = []
    for number in range(5):
        for index, psid in enumerate(conversations):
            # stored newest first: the worker must still go by timestamp
            events.extend(parse_webhook(dm(f"m{4 - number}", psid, start + (4 - number) * 10
                                           + index)))
    inbox.store(events)

    seen: dict[str, list[str]] = {psid: [] for psid in conversations}
    running: set[str] = set()
    overlap = {"max": 0}
    failed_once: set[str] = set()

    async def process(event, tried_before=0) -> None:
        psid = event.conversation_id
        assert psid not in running, "two events of one conversation at once"
        running.add(psid)
        overlap["max"] = max(overlap["max"], len(running))
        try:
            await asyncio.sleep(0.02)
            if event.text == "m2" and psid not in failed_once:
                failed_once.add(psid)
                raise RuntimeError("Graph was down")
            seen[psid].append(event.text)
        finally:
            running.discard(psid)

    async def main() -> InboxWorker:
        worker = InboxWorker(inbox, process, concurrency=4, recover_on_start=True,
                             poll_seconds=0.05)
        await worker.start()
        for _ in range(400):
            # the last completion is written after the last event was processed: wait for it
            if all(len(texts) == 5 for texts in seen.values()) and \
                    await asyncio.to_thread(done_count) == 20:
                break
            await asyncio.sleep(0.05)
        await worker.stop()
        return worker

    def done_count() -> int:
        with engine.connect() as connection:
            return connection.execute(text("select count(*) from messenger_inbox "
                                           "where status = 'done'")).scalar_one()

    worker = asyncio.run(main())
    assert all(texts == ["m0", "m1", "m2", "m3", "m4"] for texts in seen.values()), seen
    assert overlap["max"] > 1
    assert worker.failed == len(conversations) and worker.processed == 20
    with engine.connect() as connection:
        statuses = connection.execute(text("select status, count(*) from messenger_inbox "
                                           "group by status")).all()
    assert dict(statuses) == {"done": 20}


def test_worker_takes_over_events_a_crashed_process_left(engine):
    inbox = Inbox(engine)
    psid = new_psid()
    inbox.store(parse_webhook(dm("first", psid)) + parse_webhook(dm("second", psid,
                                                                    now_ms() + 5)))
    assert inbox.claim_next(worker_id="crashed:1") is not None  # never completed
    handled: list[str] = []

    async def process(event, tried_before=0) -> None:
        handled.append(event.text)

    async def main() -> int:
        worker = InboxWorker(inbox, process, recover_on_start=True, poll_seconds=0.05)
        recovered = await worker.start()
        for _ in range(100):
            if len(handled) == 2:
                break
            await asyncio.sleep(0.05)
        await worker.stop()
        return recovered

    assert asyncio.run(main()) == 1
    assert handled == ["first", "second"]


def test_stopping_idle_workers_always_returns(engine):
    """Idle tasks cancelled together once left a lock with waiters and no owner (Python 3.10),
    and `stop` then waited for ever: with a short poll, within the first few starts and stops."""
    inbox = Inbox(engine)

    async def process(event, tried_before=0) -> None:
        raise AssertionError("the inbox is empty")

    async def stops() -> bool:
        worker = InboxWorker(inbox, process, poll_seconds=0.001)
        await worker.start()
        await asyncio.sleep(0.02)
        stopping = asyncio.ensure_future(worker.stop())
        # a hang guard, not a timing: a stop takes milliseconds
        finished, _ = await asyncio.wait({stopping}, timeout=30)
        return bool(finished)

    async def main() -> int:
        for started in range(100):
            if not await stops():
                return started
        return 100

    loop = asyncio.new_event_loop()
    try:  # not asyncio.run: after a hang, it would wait for the stuck tasks too
        assert loop.run_until_complete(main()) == 100
    finally:
        loop.close()


def _status_of(engine, event_id: str) -> str:
    with engine.connect() as connection:
        return connection.execute(text("select status from messenger_inbox where event_id = "
                                       ":id"), {"id": event_id}).scalar_one()


def test_an_event_failing_twice_is_quarantined_and_handed_to_a_person_once(engine,
                                                                            fresh_metrics):
    inbox = Inbox(engine)
    psid = new_psid()
    (poison,) = parse_webhook(dm("poison", psid))
    (next_event,) = parse_webhook(dm("next", psid, now_ms() + 5))
    inbox.store([poison, next_event])
    tries: list[str] = []
    handed: list[str] = []

    async def process(event, tried_before=0) -> bool:
        tries.append(event.text)
        if event.text == "poison":
            raise RuntimeError("this event always breaks")
        return True  # the bot answered it

    async def to_person(claimed) -> None:
        handed.append(claimed.event.text)

    async def main() -> None:
        worker = InboxWorker(inbox, process, recover_on_start=True, poll_seconds=0.02,
                             on_quarantine=to_person)
        await worker.start()
        for _ in range(200):
            # its completion is written, then counted, after it ran: wait for both
            if "next" in tries and worker.processed == 1:
                break
            await asyncio.sleep(0.02)
        await worker.stop()
        assert worker.quarantined == 1

    asyncio.run(main())
    assert tries == ["poison", "poison", "next"]
    assert handed == ["poison"]
    assert _status_of(engine, poison.event_id) == "quarantined"
    outcomes = {outcome: fresh_metrics.sample("nightdesk_inbox_events_total",
                                              {"outcome": outcome})
                for outcome in ("processed", "failed", "quarantined")}
    assert outcomes == {"processed": 1, "failed": 2, "quarantined": 1}
    assert fresh_metrics.sample("nightdesk_answer_latency_seconds_count",
                                {"channel": "messenger"}) == 1


def test_an_event_that_takes_too_long_counts_as_failed_and_frees_the_worker(engine):
    inbox = Inbox(engine)
    slow, other = new_psid(), new_psid()
    (stuck,) = parse_webhook(dm("stuck", slow))
    inbox.store([stuck] + parse_webhook(dm("hello", other, now_ms() + 5)))
    done: list[str] = []
    handed: list[str] = []

    async def process(event, tried_before=0) -> None:
        if event.text == "stuck":
            await asyncio.sleep(3600)
        done.append(event.text)

    async def to_person(claimed) -> None:
        handed.append(claimed.event.text)

    async def main() -> None:
        worker = InboxWorker(inbox, process, concurrency=1, recover_on_start=True,
                             poll_seconds=0.02, event_timeout_seconds=0.1,
                             on_quarantine=to_person)
        await worker.start()
        for _ in range(200):
            if done and handed:
                break
            await asyncio.sleep(0.02)
        await worker.stop()

    asyncio.run(main())
    assert done == ["hello"] and handed == ["stuck"]
    assert _status_of(engine, stuck.event_id) == "quarantined"


def test_on_start_an_event_that_was_running_at_two_crashes_goes_to_a_person(engine):
    inbox = Inbox(engine)
    psid = new_psid()
    inbox.store(parse_webhook(dm("crashes the bot", psid)))
    assert inbox.claim_next(worker_id="crashed:1") is not None
    inbox.recover(timedelta(0))
    assert inbox.claim_next(worker_id="crashed:2") is not None  # and it crashed again
    handed: list[str] = []
    ran: list[str] = []

    async def process(event, tried_before=0) -> None:
        ran.append(event.text)

    async def to_person(claimed) -> None:
        handed.append(claimed.event.text)

    async def main() -> int:
        worker = InboxWorker(inbox, process, recover_on_start=True, poll_seconds=0.02,
                             on_quarantine=to_person)
        recovered = await worker.start()
        await asyncio.sleep(0.1)
        await worker.stop()
        return recovered

    assert asyncio.run(main()) == 0
    assert handed == ["crashes the bot"] and ran == []


# --- heartbeats and lost claims -----------------------------------------------------------


class Clock:
    """A settable clock for the inbox: the claim timeout passes without waiting for it."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def _row(engine, event_id: str) -> dict:
    table = InboxEventRow.__table__
    with engine.connect() as connection:  # through the table: its times read back aware
        return dict(connection.execute(select(table).where(table.c.event_id == event_id))
                    .mappings().one())


async def _until(condition, what: str) -> None:
    """Waits for a condition the worker brings about (a hang guard, not a timing)."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def _taker(engine) -> Inbox:
    """Another process's inbox, an hour ahead: every claim it sees has timed out."""
    return Inbox(engine, clock=lambda: datetime.now(timezone.utc) + timedelta(hours=1))


def test_the_worker_renews_its_claims_so_no_one_takes_them_over(engine):
    clock = Clock()
    inbox = Inbox(engine, clock=clock, claim_timeout=timedelta(seconds=10))
    (event,) = parse_webhook(dm("a long answer", new_psid()))
    inbox.store([event])
    other = Inbox(engine, clock=clock, claim_timeout=timedelta(seconds=10))

    async def main() -> InboxWorker:
        started, release = asyncio.Event(), asyncio.Event()

        async def process(event, tried_before=0) -> None:
            started.set()
            await release.wait()

        worker = InboxWorker(inbox, process, poll_seconds=0.01, heartbeat_seconds=0.01)
        await worker.start()
        await _until(started.is_set, "the event was claimed")
        for _ in range(3):  # 24 s in all since the claim, more than the timeout
            clock.advance(timedelta(seconds=8))
            moment = clock.now
            await _until(lambda moment=moment: _row(engine, event.event_id)["heartbeat_at"]
                         == moment, "the heartbeat was renewed")
            assert other.claim_next(worker_id="other:1") is None
        release.set()
        await _until(lambda: worker.processed == 1, "completed")
        await worker.stop()
        return worker

    worker = asyncio.run(main())
    assert (worker.processed, worker.lost) == (1, 0)
    assert _row(engine, event.event_id)["attempts"] == 1


def test_a_worker_whose_claim_was_taken_over_stops_the_event_and_sends_nothing_more(
    engine, fresh_metrics
):
    inbox = Inbox(engine, quarantine_after=1)  # a failed try would go to a person at once
    (event,) = parse_webhook(dm("slow", new_psid()))
    inbox.store([event])
    stopped: list[str] = []
    handed: list[str] = []

    async def to_person(claimed) -> None:
        handed.append(claimed.event.text)

    async def main() -> InboxWorker:
        started = asyncio.Event()

        async def process(event, tried_before=0) -> None:
            started.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                stopped.append(event.text)
                raise

        worker = InboxWorker(inbox, process, poll_seconds=0.01, heartbeat_seconds=0.01,
                             on_quarantine=to_person)
        await worker.start()
        await _until(started.is_set, "the event was claimed")
        assert _taker(engine).claim_next(worker_id="taker:1") is not None
        await _until(lambda: worker.lost == 1, "the worker saw it lost the claim")
        await worker.stop()
        return worker

    worker = asyncio.run(main())
    assert stopped == ["slow"] and handed == []
    assert (worker.processed, worker.failed, worker.quarantined) == (0, 0, 0)
    row = _row(engine, event.event_id)
    assert (row["status"], row["claimed_by"]) == ("processing", "taker:1")
    assert fresh_metrics.sample("nightdesk_inbox_events_total", {"outcome": "lost"}) == 1


def _finish_after_a_take_over(engine, raises: bool) -> tuple[InboxWorker, list[str], str]:
    """The event is taken over while it runs; then it ends (well or not) in the old worker."""
    # No renewal during the test: the old worker learns it lost the claim when it finishes.
    inbox = Inbox(engine, quarantine_after=1, claim_timeout=timedelta(hours=1))
    (event,) = parse_webhook(dm("hello", new_psid()))
    inbox.store([event])
    handed: list[str] = []

    async def process(event, tried_before=0) -> bool:
        assert await asyncio.to_thread(_taker(engine).claim_next, None, "taker:1")
        if raises:
            raise RuntimeError("Graph was down")
        return True

    async def to_person(claimed) -> None:
        handed.append(claimed.event.text)

    async def main() -> InboxWorker:
        worker = InboxWorker(inbox, process, poll_seconds=0.01, heartbeat_seconds=600,
                             on_quarantine=to_person)
        await worker.start()
        await _until(lambda: worker.lost == 1, "the worker saw it lost the claim")
        await worker.stop()
        return worker

    return asyncio.run(main()), handed, event.event_id


def test_complete_by_a_worker_that_lost_the_claim_changes_nothing(engine, fresh_metrics):
    worker, handed, event_id = _finish_after_a_take_over(engine, raises=False)
    assert (worker.processed, worker.failed, handed) == (0, 0, [])
    row = _row(engine, event_id)
    assert (row["status"], row["claimed_by"]) == ("processing", "taker:1")
    assert fresh_metrics.sample("nightdesk_inbox_events_total", {"outcome": "processed"}) == 0


def test_fail_by_a_worker_that_lost_the_claim_hands_nothing_to_a_person(engine):
    worker, handed, event_id = _finish_after_a_take_over(engine, raises=True)
    assert (worker.processed, worker.failed, worker.quarantined, handed) == (0, 0, 0, [])
    row = _row(engine, event_id)
    assert (row["status"], row["claimed_by"], row["error"]) == ("processing", "taker:1", None)


def test_an_event_whose_process_died_at_two_take_overs_goes_to_a_person(engine):
    clock = Clock()
    inbox = Inbox(engine, clock=clock)
    psid = new_psid()
    inbox.store(parse_webhook(dm("crashes the bot", psid))
                + parse_webhook(dm("next", psid, now_ms() + 5)))
    assert inbox.claim_next(worker_id="crashed:1") is not None
    clock.advance(timedelta(seconds=11))
    assert inbox.claim_next(worker_id="crashed:2") is not None  # taken over; it died again
    clock.advance(timedelta(seconds=11))
    handed: list[str] = []
    ran: list[str] = []

    async def process(event, tried_before=0) -> None:
        ran.append(event.text)

    async def to_person(claimed) -> None:
        handed.append(claimed.event.text)

    async def main() -> InboxWorker:
        worker = InboxWorker(inbox, process, poll_seconds=0.01, on_quarantine=to_person)
        await worker.start()
        await _until(lambda: ran == ["next"] and handed, "the next message and the person")
        await worker.stop()
        return worker

    assert asyncio.run(main()).quarantined == 1
    assert handed == ["crashes the bot"] and ran == ["next"]


def test_the_heartbeat_must_be_less_than_half_the_claim_timeout(engine):
    async def process(event, tried_before=0) -> None:
        return None

    inbox = Inbox(engine, claim_timeout=timedelta(seconds=4))
    with pytest.raises(ValueError, match="more than twice the heartbeat"):
        InboxWorker(inbox, process, heartbeat_seconds=2)
    with pytest.raises(ValueError, match="heartbeat_seconds"):
        InboxWorker(inbox, process, heartbeat_seconds=0)
    assert InboxWorker(inbox, process, heartbeat_seconds=1.9).heartbeat_seconds == 1.9
