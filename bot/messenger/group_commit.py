"""Group commit for the webhook: the events of POSTs arriving together share one transaction.

Every webhook POST waits for its events to be committed before Meta gets the 200. Under a
burst, twenty POSTs each waiting for the database's write lock in turn make the last one wait
for twenty commits; here the POSTs that arrive while a commit is under way are stored together
in the next one, so a POST waits for at most about two commits whatever the load.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.handoff.log_redaction import describe_failure
from bot.messenger.event_types import InboundEvent
from bot.messenger.inbox import Inbox

logger = logging.getLogger(__name__)


class GroupCommit:
    """Stores webhook events through one writer task, batching what arrives meanwhile.

    Args:
        inbox: the durable inbox the events go to.
    """

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self._waiting: list[tuple[Sequence[InboundEvent], asyncio.Future[list[str]]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def store(self, events: Sequence[InboundEvent]) -> list[str]:
        """Stores the events of one POST; the ids that were new, in the order given.

        An id delivered twice in one batch (Meta retrying while the first try is stored)
        counts as new for the first POST only. When the shared commit fails, each event is
        stored on its own (`Inbox.store_each`), so an event the database refuses costs only
        itself; only a database that is down fails the POSTs (Meta retries them).
        """
        if not events:
            return []
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self._waiting.append((events, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_while_waiting())
        return await future

    async def _write_while_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            together = [event for events, _ in batch for event in events]
            try:
                new_ids = await asyncio.to_thread(self.inbox.store, together)
            except Exception as error:  # noqa: BLE001 - a refused event must not fail others
                logger.warning("messenger: a shared inbox commit of %d events failed (%s); "
                               "storing them one by one", len(together),
                               describe_failure(error))
                try:
                    new_ids = await asyncio.to_thread(self.inbox.store_each, together)
                except Exception as error:  # noqa: BLE001 - the database is down: all retry
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
            not_yet_given = set(new_ids)
            for events, future in batch:
                mine = []
                for event in events:  # an id repeated within one POST is new once
                    if event.event_id in not_yet_given:
                        mine.append(event.event_id)
                        not_yet_given.discard(event.event_id)
                if not future.done():  # a POST whose client went away is simply not told
                    future.set_result(mine)
