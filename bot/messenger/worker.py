"""The inbox worker: takes stored webhook events and processes them, in order, concurrently.

A fixed number of asyncio tasks each claim the next event (`Inbox.claim_next`: oldest first,
one event per conversation at a time, safe across processes), process it and mark it done,
or record the failure so it is retried (and given up after `MAX_ATTEMPTS`). The webhook
wakes idle tasks as soon as it stored something; they also look every `poll_seconds` for
events stored by other processes. On start, events left 'processing' by a crashed process
are put back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.messenger.events import InboundEvent
from bot.messenger.inbox import Inbox, default_worker_id

logger = logging.getLogger(__name__)


class InboxWorker:
    """Runs `concurrency` tasks that drain the inbox through `process`.

    Args:
        inbox: the durable inbox.
        process: handles one event; raising means "retry later".
        concurrency: conversations processed at once.
        recover_after: on start, events claimed longer ago than this are taken over.
        poll_seconds: how often idle tasks look for events other processes stored.
    """

    def __init__(
        self,
        inbox: Inbox,
        process: Callable[[InboundEvent], Awaitable[None]],
        concurrency: int = 8,
        recover_after: timedelta = timedelta(minutes=5),
        poll_seconds: float = 0.5,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.inbox = inbox
        self.process = process
        self.concurrency = concurrency
        self.recover_after = recover_after
        self.poll_seconds = poll_seconds
        self._tasks: list[asyncio.Task[None]] = []
        self._wake: asyncio.Condition | None = None
        self._generation = 0
        self.processed = 0
        self.failed = 0

    async def start(self) -> int:
        """Recovers abandoned events and starts the tasks; returns how many were recovered."""
        self._wake = asyncio.Condition()
        recovered = await asyncio.to_thread(self.inbox.recover, self.recover_after)
        if recovered:
            logger.info("messenger inbox: %d interrupted events will be processed", recovered)
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
        async with self._wake:
            self._generation += 1
            self._wake.notify_all()

    async def stop(self) -> None:
        """Stops the tasks; an event being processed stays claimed and is recovered later."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, worker_id: str) -> None:
        while True:
            seen = self._generation
            try:
                claimed = await asyncio.to_thread(self.inbox.claim_next, None, worker_id)
            except Exception:  # noqa: BLE001 - the database hiccuped; try again shortly
                logger.exception("messenger inbox: claim failed")
                claimed = None
            if claimed is None:
                await self._idle(seen)
                continue
            try:
                await self.process(claimed.event)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - recorded and retried, never lost
                self.failed += 1
                logger.error(
                    "messenger inbox: %s event failed (%s); it will be retried",
                    claimed.kind.value, type(error).__name__,
                )
                await asyncio.to_thread(self.inbox.fail, claimed.event_id, error)
                continue
            self.processed += 1
            await asyncio.to_thread(self.inbox.complete, claimed.event_id)

    async def _idle(self, seen: int) -> None:
        """Waits for a wake-up, unless one came since `seen`, or for the poll interval."""
        assert self._wake is not None
        async with self._wake:
            if self._generation != seen:
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
