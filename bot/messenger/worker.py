"""The inbox worker: takes stored webhook events and processes them, in order, concurrently.

A fixed number of asyncio tasks each claim the next event (`Inbox.claim_next`: oldest first,
one event per conversation at a time, safe across processes), process it and mark it done,
or record the failure so it is retried once. The webhook wakes idle tasks as soon as it
stored something; they also look every `poll_seconds` for events stored by other processes.
On start, events left 'processing' by a crashed process are put back.

No event holds a task for long: one that takes more than `event_timeout_seconds` is
cancelled and counts as failed. An event whose tries are used up (failed twice, or its
process died during it twice) is quarantined by the inbox and handed to `on_quarantine`,
which puts it in front of a person; it never runs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.handoff.log_redaction import describe_failure
from bot.messenger.channel_names import CHANNEL_NAME
from bot.messenger.event_types import InboundEvent
from bot.messenger.inbox import ClaimedEvent, Inbox, InboxStatus, default_worker_id
from bot.observability.metrics import count_inbox_event, observe_answer_since

logger = logging.getLogger(__name__)


class InboxWorker:
    """Runs `concurrency` tasks that drain the inbox through `process`.

    Args:
        inbox: the durable inbox.
        process: handles one event, given how many earlier tries failed or were cut short
            by a crash; raising means "retry later"; True when it sent the customer a
            reply (its answer latency is recorded).
        concurrency: conversations processed at once.
        recover_after: on start, events claimed longer ago than this are taken over.
        poll_seconds: how often idle tasks look for events other processes stored.
        event_timeout_seconds: the longest one event may take before it counts as failed.
        on_quarantine: hands a quarantined event to a person (a ticket, a holding message);
            its failure is logged, never raised.
    """

    def __init__(
        self,
        inbox: Inbox,
        process: Callable[[InboundEvent, int], Awaitable[bool | None]],
        concurrency: int = 8,
        recover_after: timedelta = timedelta(minutes=5),
        poll_seconds: float = 0.5,
        event_timeout_seconds: float = 120.0,
        on_quarantine: Callable[[ClaimedEvent], Awaitable[None]] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.inbox = inbox
        self.process = process
        self.concurrency = concurrency
        self.recover_after = recover_after
        self.poll_seconds = poll_seconds
        self.event_timeout_seconds = event_timeout_seconds
        self.on_quarantine = on_quarantine
        self._tasks: list[asyncio.Task[None]] = []
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self.processed = 0
        self.failed = 0
        self.quarantined = 0

    async def start(self) -> int:
        """Recovers abandoned events and starts the tasks; returns how many were recovered."""
        self._wake = asyncio.Event()
        self._stopping = False
        recovery = await asyncio.to_thread(self.inbox.recover, self.recover_after)
        recovered = recovery.recovered
        if recovered:
            logger.info("messenger inbox: %d interrupted events will be processed", recovered)
        for claimed in recovery.quarantined:
            logger.error("messenger inbox: a %s event was running each time its process "
                         "stopped; quarantined", claimed.kind.value)
            await self._quarantine(claimed)
        base = default_worker_id()
        self._tasks = [
            asyncio.create_task(self._run(f"{base}:{number}"), name=f"inbox-worker-{number}")
            for number in range(self.concurrency)
        ]
        return recovered

    async def notify(self) -> None:
        """Wakes idle tasks: new events were stored."""
        if self._wake is None:
            return
        woken, self._wake = self._wake, asyncio.Event()
        woken.set()

    async def stop(self) -> None:
        """Stops the tasks; an event being processed stays claimed and is recovered later.

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

    async def _run(self, worker_id: str) -> None:
        while not self._stopping:
            wake = self._wake  # set by any wake-up from now on, even one during the claim
            try:
                claimed = await asyncio.to_thread(self.inbox.claim_next, None, worker_id)
            except Exception:  # noqa: BLE001 - the database hiccuped; try again shortly
                logger.exception("messenger inbox: claim failed")
                claimed = None
            if claimed is None:
                await self._idle(wake)
                continue
            try:
                answered = await asyncio.wait_for(
                    self.process(claimed.event, claimed.attempts), self.event_timeout_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - recorded and retried, never lost
                await self._failed(claimed, error)
                continue
            self.processed += 1
            count_inbox_event("processed")
            if answered:
                observe_answer_since(CHANNEL_NAME, claimed.received_at)
            await asyncio.to_thread(self.inbox.complete, claimed.event_id)

    async def _failed(self, claimed: ClaimedEvent, error: Exception) -> None:
        """Records a failed try; an event out of tries goes to a person."""
        self.failed += 1
        count_inbox_event("failed")
        if isinstance(error, asyncio.TimeoutError):
            cause = f"took longer than {self.event_timeout_seconds:g} s"
        else:
            cause = describe_failure(error)
        status = await asyncio.to_thread(self.inbox.fail, claimed.event_id, cause)
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
