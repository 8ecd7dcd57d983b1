"""The inbox worker: in order per conversation, concurrent across them, failures retried."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from bot.messenger.events import parse_webhook
from bot.messenger.inbox import Inbox
from bot.messenger.worker import InboxWorker
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
    inbox.store([poison] + parse_webhook(dm("next", psid, now_ms() + 5)))
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
            if "next" in tries:
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
