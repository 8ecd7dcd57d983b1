"""The inbox worker: takes stored webhook events and processes them, in order, concurrently.

A fixed number of asyncio tasks each claim the next event (`Inbox.claim_next`: oldest first,
one event per conversation at a time, safe across processes), process it and mark it done,
or record the failure so it is retried once. The webhook wakes idle tasks as soon as it
stored something; they also look every `poll_seconds` for events stored by other processes.

Claims are leases (`bot.messenger.inbox`). Every `heartbeat_seconds` the worker renews the
heartbeat of all the events its tasks hold, in one statement. A process that dies stops
renewing, and any worker's next claim takes its events over once their heartbeat is older
than the inbox's claim timeout (more than twice the heartbeat): with several processes
sharing PostgreSQL, a killed process's events run again elsewhere within about the timeout
plus a poll. A worker that learns it lost a claim (its renewal, `complete` or `fail` finds
the event held by another) stops that event's processing, logs it and sends nothing more for
it: no retry, no hand-over to a person. With one process per database (SQLite),
`recover_on_start` puts back everything a crashed run left 'processing'.

No event holds a task for long: one that takes more than `event_timeout_seconds` is
cancelled and counts as failed. An event whose tries are used up (failed twice, or its
process died during it twice) is quarantined by the inbox and handed to `on_quarantine`,
which puts it in front of a person; it never runs again. An event taken over counts as a try
cut short by a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from bot.handoff.log_redaction import describe_failure
from bot.messenger.channel_names import CHANNEL_NAME
from bot.messenger.event_types import InboundEvent
from bot.messenger.inbox import ClaimedEvent, Inbox, InboxStatus, default_worker_id
from bot.observability.metrics import count_inbox_event, observe_answer_since

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
"""How often a worker renews its claims (`MESSENGER_HEARTBEAT_SECONDS`)."""


@dataclass
class _Held:
    """A claim one task holds: who claimed it, its processing, and whether it was lost."""

    worker_id: str
    job: asyncio.Future[bool | None] | None = None
    lost: bool = False


class InboxWorker:
    """Runs `concurrency` tasks that drain the inbox through `process`.

    Args:
        inbox: the durable inbox.
        process: handles one event, given how many earlier tries failed or were cut short
            by a crash; raising means "retry later"; True when it sent the customer a
            reply (its answer latency is recorded).
        concurrency: conversations processed at once.
        recover_on_start: on start, put back every event left 'processing' (only for a
            database no other process works on: one process per SQLite file).
        poll_seconds: how often idle tasks look for events other processes stored (and for
            events to take over).
        event_timeout_seconds: the longest one event may take before it counts as failed.
        on_quarantine: hands a quarantined event to a person (a ticket, a holding message);
            its failure is logged, never raised.
        heartbeat_seconds: how often the claims held are renewed; the inbox's claim timeout
            must be more than twice this.

    Raises:
        ValueError: a bound out of range, or a claim timeout not above twice the heartbeat.
    """

    def __init__(
        self,
        inbox: Inbox,
        process: Callable[[InboundEvent, int], Awaitable[bool | None]],
        concurrency: int = 8,
        recover_on_start: bool = False,
        poll_seconds: float = 0.5,
        event_timeout_seconds: float = 120.0,
        on_quarantine: Callable[[ClaimedEvent], Awaitable[None]] | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if heartbeat_seconds <= 0:
            raise ValueError("heartbeat_seconds must be more than zero")
        timeout = inbox.claim_timeout.total_seconds()
        if timeout <= 2 * heartbeat_seconds:
            raise ValueError(f"the inbox's claim timeout ({timeout:g} s) must be more than "
                             f"twice the heartbeat ({heartbeat_seconds:g} s)")
        self.inbox = inbox
        self.process = process
        self.concurrency = concurrency
        self.recover_on_start = recover_on_start
        self.poll_seconds = poll_seconds
        self.event_timeout_seconds = event_timeout_seconds
        self.on_quarantine = on_quarantine
        self.heartbeat_seconds = heartbeat_seconds
        self._tasks: list[asyncio.Task[None]] = []
        self._held: dict[str, _Held] = {}
        self._renewer: ThreadPoolExecutor | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self.processed = 0
        self.failed = 0
        self.quarantined = 0
        self.lost = 0

    async def start(self) -> int:
        """Recovers abandoned events if asked, starts the tasks; returns how many were recovered."""
        self._wake = asyncio.Event()
        self._stopping = False
        recovered = 0
        if self.recover_on_start:
            recovery = await asyncio.to_thread(self.inbox.recover, timedelta(0))
            recovered = recovery.recovered
            if recovered:
                logger.info("messenger inbox: %d interrupted events will be processed",
                            recovered)
            await self._quarantine_crashed(recovery.quarantined)
        base = default_worker_id()
        self._tasks = [
            asyncio.create_task(self._run(f"{base}:{number}"), name=f"inbox-worker-{number}")
            for number in range(self.concurrency)
        ]
        # A thread of its own: a renewal never queues behind the default pool's other work.
        self._renewer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-heartbeat")
        self._tasks.append(asyncio.create_task(self._heartbeat(), name="inbox-heartbeat"))
        return recovered

    async def notify(self) -> None:
        """Wakes idle tasks: new events were stored."""
        if self._wake is None:
            return
        woken, self._wake = self._wake, asyncio.Event()
        woken.set()

    async def stop(self) -> None:
        """Stops the tasks and the heartbeat; an event being processed stays claimed.

        Another process takes it over once the claim timeout passed (a restarted single
        process recovers it on start).

        Besides the cancellation, each task also sees the stop flag at its next turn: on
        Python 3.10 `asyncio.wait_for` can swallow a cancellation that arrives just as its
        inner wait finishes, and a task that lost its cancellation would otherwise poll on
        for ever while `stop` waits for it.
        """
        self._stopping = True
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        renewer, self._renewer = self._renewer, None
        if renewer is not None:
            renewer.shutdown(wait=False)

    async def _run(self, worker_id: str) -> None:
        while not self._stopping:
            wake = self._wake  # set by any wake-up from now on, even one during the claim
            crashed: list[ClaimedEvent] = []
            try:
                claimed = await asyncio.to_thread(self.inbox.claim_next, None, worker_id,
                                                  quarantined=crashed)
            except Exception:  # noqa: BLE001 - the database hiccuped; try again shortly
                logger.exception("messenger inbox: claim failed")
                claimed = None
            await self._quarantine_crashed(crashed)
            if claimed is None:
                await self._idle(wake)
                continue
            held = self._held[claimed.event_id] = _Held(claimed.claimed_by)
            try:
                await self._handle(claimed, held)
            finally:
                if self._held.get(claimed.event_id) is held:
                    del self._held[claimed.event_id]

    async def _handle(self, claimed: ClaimedEvent, held: _Held) -> None:
        """Processes one claimed event and records how it ended, unless the claim was lost."""
        job = held.job = asyncio.ensure_future(self.process(claimed.event, claimed.attempts))
        try:
            answered = await asyncio.wait_for(job, self.event_timeout_seconds)
        except asyncio.CancelledError:
            if held.lost and not self._stopping:  # the heartbeat stopped it: not ours now
                self._lost(claimed)
                return
            raise
        except Exception as error:  # noqa: BLE001 - recorded and retried, never lost
            if held.lost:
                self._lost(claimed)
                return
            await self._failed(claimed, error)
            return
        if answered:  # the reply went out, whoever finishes the event
            observe_answer_since(CHANNEL_NAME, claimed.received_at)
        if not await asyncio.to_thread(self.inbox.complete, claimed.event_id,
                                       claimed.claimed_by):
            self._lost(claimed)
            return
        self.processed += 1
        count_inbox_event("processed")

    def _lost(self, claimed: ClaimedEvent) -> None:
        """Another worker took the event over: nothing more is done for it here."""
        self.lost += 1
        count_inbox_event("lost")
        logger.warning("messenger inbox: another worker took over a %s event this one held "
                       "(its claim was not renewed in time); left to it", claimed.kind.value)

    async def _heartbeat(self) -> None:
        """Renews the claims held, every `heartbeat_seconds`; stops the ones lost.

        It runs on the event loop that processes the events, so a loop stalled for longer
        than the claim timeout (less two heartbeats) loses its claims: keep the timeout
        above the longest stall (NLU runs on it).
        """
        loop = asyncio.get_running_loop()
        while not self._stopping:
            await asyncio.sleep(self.heartbeat_seconds)
            held = {event_id: entry.worker_id for event_id, entry in self._held.items()
                    if not entry.lost}
            if not held:
                continue
            try:
                kept = await loop.run_in_executor(self._renewer, self.inbox.renew, held)
            except Exception as error:  # noqa: BLE001 - the database hiccuped; next round
                logger.error("messenger inbox: renewing %d claims failed (%s)", len(held),
                             describe_failure(error))
                continue
            for event_id in held.keys() - kept:
                entry = self._held.get(event_id)
                if entry is None or entry.worker_id != held[event_id]:
                    continue  # it finished meanwhile
                entry.lost = True
                if entry.job is not None:
                    entry.job.cancel()

    async def _quarantine_crashed(self, events: list[ClaimedEvent]) -> None:
        """Hands on events quarantined because their process died during every try."""
        for claimed in events:
            logger.error("messenger inbox: a %s event was running each time its process "
                         "stopped; quarantined", claimed.kind.value)
            await self._quarantine(claimed)

    async def _failed(self, claimed: ClaimedEvent, error: Exception) -> None:
        """Records a failed try; an event out of tries goes to a person."""
        if isinstance(error, asyncio.TimeoutError):
            cause = f"took longer than {self.event_timeout_seconds:g} s"
        else:
            cause = describe_failure(error)
        status = await asyncio.to_thread(self.inbox.fail, claimed.event_id, cause,
                                         claimed.claimed_by)
        if status is None:
            self._lost(claimed)
            return
        self.failed += 1
        count_inbox_event("failed")
        if status is InboxStatus.QUARANTINED:
            logger.error("messenger inbox: %s event failed again (%s); quarantined",
                         claimed.kind.value, cause)
            await self._quarantine(claimed)
        else:
            logger.error("messenger inbox: %s event failed (%s); it will be retried",
                         claimed.kind.value, cause)

    async def _quarantine(self, claimed: ClaimedEvent) -> None:
        """Hands a quarantined event to a person; a failure here is only logged."""
        self.quarantined += 1
        count_inbox_event("quarantined")
        if self.on_quarantine is None:
            return
        try:
            await asyncio.wait_for(self.on_quarantine(claimed), self.event_timeout_seconds)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the event stays quarantined either way
            logger.error("messenger inbox: a quarantined %s event could not be handed to a "
                         "person (%s)", claimed.kind.value, describe_failure(error))

    async def _idle(self, wake: asyncio.Event | None) -> None:
        """Waits for `wake` (at once if a wake-up already set it) or for the poll interval.

        A fresh `asyncio.Event` per wake-up, not an `asyncio.Condition`: on Python 3.10 a
        condition's lock can be left with waiters and no owner when idle tasks are
        cancelled together, and then `stop` waits for ever.
        """
        assert wake is not None
        if wake.is_set() or self._stopping:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(wake.wait(), self.poll_seconds)
