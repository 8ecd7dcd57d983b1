"""The durable Messenger inbox: webhook events stored first, then handed out in order.

The webhook stores every parsed event here (one transaction, duplicates are no-ops) and
answers Meta at once; workers then `claim_next` events, process them and `complete` or `fail`
them. Echoes, delivery and read receipts, unknown items and the page's own comments are
stored as 'ignored': recorded, never handed out.

Ordering and concurrency. Within a conversation, events are handed out strictly in order
(timestamp, then arrival) and one at a time. Across conversations the least recently served
comes first, so no backlog delays another customer's first answer. An event is only
claimable while no event of its conversation is 'processing'. Different conversations are
claimed concurrently. The rule has to hold across several processes sharing one database,
so the claim itself is serialized per conversation:

* PostgreSQL: the claim runs in one READ COMMITTED transaction that takes a transaction-scoped
  advisory lock on the conversation (``pg_try_advisory_xact_lock(namespace,
  hashtext(conversation_id))``), re-checks that nothing of that conversation is 'processing'
  (a fresh statement sees every claim committed before the lock was granted), and only then
  marks the oldest pending row 'processing'. A conversation whose lock another worker holds
  is skipped, never waited for, so workers never block each other. Row locks alone
  (``FOR UPDATE SKIP LOCKED``) were not chosen: they lock single rows, so two workers could
  claim the first and the second event of one conversation at the same moment.
* SQLite (one process, the default for a single bot): the claim runs under ``BEGIN
  IMMEDIATE``, SQLite's database-wide write lock, so claims are simply one after the other;
  other connections wait on the busy timeout set by `bot.store.create_db_engine`.

Claims are leases. The worker holding 'processing' events renews their `heartbeat_at` every
few seconds (`renew`, one statement for all it holds). Any worker's `claim_next` first takes
over an event whose heartbeat (or, for a row claimed before heartbeats, its `claimed_at`) is
older than the claim timeout: its process died (or stopped renewing), so the event is claimed
again in place, keeping its conversation busy throughout. `complete` and `fail` only act on a
row the caller still holds, so a worker presumed dead that comes back cannot finish an event
another worker took over: it learns that it lost the claim. The times compared are written by
the processes' clocks, so hosts sharing a database keep their clocks in step (NTP) to well
within the timeout. With a single process (SQLite), `recover` puts everything left
'processing' back on start.

Poison. Every claim counts as a try (`attempts`). An event whose try failed, or whose process
died during it (it was taken over or recovered), `QUARANTINE_AFTER` times is 'quarantined'
instead of being run again: an event that crashes its process never crashes it a third time,
and the worker hands it to a person.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from bot.handoff.log_redaction import describe_failure
from bot.messenger.event_types import CommentEvent, EventKind, InboundEvent, StandbyEvent
from bot.messenger.events import canonical_json, restore_event
from bot.store.database import SQLITE_BUSY_TIMEOUT_MS
from bot.store.tables import InboxEventRow

QUARANTINE_AFTER = 2
"""Tries (each failed, or ended by a crash of its process) after which an event is
quarantined: it never runs again and goes to a person with what it said."""

CLAIM_TIMEOUT = timedelta(seconds=10)
"""How old a 'processing' event's heartbeat may get before any worker's claim takes it over
(`MESSENGER_CLAIM_TIMEOUT_SECONDS`); more than twice the worker's heartbeat interval."""

CRASHED_EVERY_TRY = "its process stopped during every try"
"""The error kept for an event quarantined because its process died during each try."""

IGNORED_KINDS = frozenset({EventKind.ECHO, EventKind.DELIVERY, EventKind.READ, EventKind.UNKNOWN})
"""Kinds stored as 'ignored' straight away: recorded, never answered."""

WEBHOOK_LOCK_WAIT_SECONDS = 30.0
"""How long the webhook's write waits for SQLite's write lock before Meta gets a 500."""

CUSTOMER_MESSAGE_KINDS = frozenset({EventKind.TEXT, EventKind.ATTACHMENT, EventKind.POSTBACK,
                                    EventKind.REFERRAL})
"""What a customer does in a Messenger thread that waits for the bot's answer."""

_ADVISORY_NAMESPACE = 0x6E640001
"""First key of the two-key advisory lock, so our locks cannot meet other users' locks."""

_CANDIDATES = 100
"""How many conversations with pending events one claim looks at."""

_ERROR_LENGTH = 200

_TABLE = InboxEventRow.__table__


class InboxStatus(str, Enum):
    """The life of an inbox row."""

    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    IGNORED = "ignored"
    REJECTED = "rejected"
    FAILED = "failed"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class ClaimedEvent:
    """An event handed to one worker; finish it with `Inbox.complete` or `Inbox.fail`.

    Attributes:
        event_id: the inbox key.
        page_id: the page it is for.
        conversation_id: the conversation (customer PSID or ``comment:<id>``).
        kind: what it is.
        timestamp: when it happened, epoch ms.
        attempts: how many earlier tries failed or were cut short by a crash.
        claimed_by: the worker that holds it (for a quarantined event: the last one that did).
        claimed_at: when it was claimed (UTC).
        event: the typed event, rebuilt from the stored item.
        raw: the stored webhook item.
    """

    event_id: str
    page_id: str
    conversation_id: str
    kind: EventKind
    timestamp: int
    attempts: int
    claimed_by: str
    claimed_at: datetime
    event: InboundEvent
    raw: dict[str, Any] = field(repr=False, hash=False)
    received_at: datetime | None = None


def default_worker_id() -> str:
    """The worker id of this process: host name and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def is_ignored(event: InboundEvent) -> bool:
    """Whether an event is only recorded, never answered.

    True for echoes, delivery and read receipts, unknown items, the page's own comments, and
    receipts and unknown items that arrive on standby (messages and echoes on standby are kept:
    they tell the bot what happens while a person owns the thread).
    """
    if event.kind in IGNORED_KINDS:
        return True
    if isinstance(event, CommentEvent) and event.from_page:
        return True
    return isinstance(event, StandbyEvent) and event.inner.kind in (
        EventKind.DELIVERY,
        EventKind.READ,
        EventKind.UNKNOWN,
    )


def _short_error(error: str | BaseException) -> str:
    """What is kept of an error: an exception's class and redacted cause, or a string's line.

    Either is cut to 200 characters; a string keeps only its first line.
    """
    if isinstance(error, BaseException):
        text = describe_failure(error, _ERROR_LENGTH)
    else:
        lines = str(error).strip().splitlines()
        text = lines[0].strip() if lines else ""
    return (text or "error")[:_ERROR_LENGTH]


def _last_alive() -> Any:
    """When a claim's holder last showed it is alive: its heartbeat, else its claim."""
    return func.coalesce(_TABLE.c.heartbeat_at, _TABLE.c.claimed_at)


def _stale(cutoff: datetime) -> Any:
    """'processing' rows whose holder has shown no sign of life since `cutoff`."""
    last_alive = _last_alive()
    return (_TABLE.c.status == InboxStatus.PROCESSING.value) & (
        (last_alive <= cutoff) | last_alive.is_(None)
    )


def _held_by(worker: str) -> Any:
    """'processing' rows this worker holds."""
    return (_TABLE.c.status == InboxStatus.PROCESSING.value) & (_TABLE.c.claimed_by == worker)


def _utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


@contextmanager
def _committed(connection: Connection) -> Iterator[Connection]:
    """Commits when the block ends normally, rolls back when it raises."""
    try:
        yield connection
        connection.commit()
    except BaseException:
        connection.rollback()
        raise


class Inbox:
    """The durable inbox on the product database (SQLite or PostgreSQL).

    Args:
        engine: the product database engine (`bot.store.create_db_engine`); the
            `messenger_inbox` table must exist (`bot.store.ensure_schema`).
        clock: returns the current aware datetime; for tests.
        quarantine_after: tries after which an event is quarantined.
        claim_timeout: how old a claim's heartbeat may get before a claim takes it over.

    Raises:
        ValueError: for a database other than SQLite or PostgreSQL, or a bound not above zero.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = _utc_now,
        quarantine_after: int = QUARANTINE_AFTER,
        claim_timeout: timedelta = CLAIM_TIMEOUT,
    ) -> None:
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"the inbox runs on SQLite or PostgreSQL, not {dialect!r}")
        if quarantine_after < 1:
            raise ValueError("quarantine_after must be at least 1")
        if claim_timeout <= timedelta(0):
            raise ValueError("claim_timeout must be more than zero")
        self.claim_timeout = claim_timeout
        self._engine = engine
        self._postgres = dialect == "postgresql"
        self._insert = postgresql_insert if self._postgres else sqlite_insert
        self._clock = clock
        self._quarantine_after = quarantine_after

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One write transaction: BEGIN IMMEDIATE on SQLite, READ COMMITTED on PostgreSQL."""
        with self._engine.connect() as connection:
            if self._postgres:
                connection.execution_options(isolation_level="READ COMMITTED")
            else:
                # Take SQLite's write lock now rather than on the first write, so a claim's
                # reads and its update see the same database and no claim interleaves.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            with _committed(connection):
                yield connection

    @contextmanager
    def _webhook_transaction(self) -> Iterator[Connection]:
        """The webhook's write, which Meta's 200 waits for: as short as the database allows.

        On SQLite it asks for the write lock every millisecond itself rather than through
        SQLite's busy handler, which sleeps up to 100 ms between tries (measured: ack p99
        near 200 ms while the bot wrote its trackers), and it leaves WAL checkpoints to the
        bot's connections so no acknowledgement pays for one.
        """
        if self._postgres:
            with self._transaction() as connection:
                yield connection
            return
        with self._engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA busy_timeout=0")
            connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            deadline = time.monotonic() + WEBHOOK_LOCK_WAIT_SECONDS
            try:
                while True:
                    try:
                        connection.exec_driver_sql("BEGIN IMMEDIATE")
                        break
                    except OperationalError as error:
                        if "locked" not in str(error) or time.monotonic() > deadline:
                            raise
                        connection.rollback()
                        time.sleep(0.001)
                with _committed(connection):
                    yield connection
            finally:
                connection.exec_driver_sql("PRAGMA wal_autocheckpoint=1000")
                connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

    def store(self, events: Iterable[InboundEvent]) -> list[str]:
        """Stores events in one transaction; ids already stored are left as they are.

        Unknown events are stored 'ignored' with the parser's reason in `error`.

        Args:
            events: parsed webhook events (`bot.messenger.events.parse_webhook`).

        Returns:
            The ids of the events that were new, in the order given.
        """
        now = self._clock()
        new_ids: list[str] = []
        with self._webhook_transaction() as connection:
            for event in events:
                if connection.execute(self._insert_event(event, now)).rowcount == 1:
                    new_ids.append(event.event_id)
        return new_ids

    def store_each(self, events: Iterable[InboundEvent]) -> list[str]:
        """Stores events one transaction each; one the database refuses is recorded 'rejected'.

        For the webhook's fallback when a shared `store` failed: a refused event costs only
        itself. Its row keeps its id, kind and the database's reason, not its content, and
        is never handed out.

        Returns:
            The ids of the events that were new (rejected ones included), in the order given.

        Raises:
            OperationalError: the database itself is unavailable (even the rejected record
                could not be written); the caller answers 500 and Meta retries.
        """
        new_ids: list[str] = []
        for event in events:
            now = self._clock()
            try:
                with self._webhook_transaction() as connection:
                    stored = connection.execute(self._insert_event(event, now)).rowcount == 1
            except OperationalError:
                raise
            except Exception as error:  # noqa: BLE001 - this event only; recorded as rejected
                stored = self._store_rejected(event, error, now)
            if stored:
                new_ids.append(event.event_id)
        return new_ids

    def _insert_event(self, event: InboundEvent, now: datetime) -> Any:
        """The insert of one event, a no-op when its id is stored already."""
        status = InboxStatus.IGNORED if is_ignored(event) else InboxStatus.PENDING
        reason = getattr(event, "reason", None) if event.kind is EventKind.UNKNOWN else None
        return (
            self._insert(_TABLE)
            .values(
                event_id=event.event_id,
                page_id=event.page_id,
                conversation_id=event.conversation_id,
                kind=event.kind.value,
                timestamp=event.timestamp,
                payload=canonical_json(event.raw),
                status=status.value,
                attempts=0,
                received_at=now,
                error=reason[:_ERROR_LENGTH] if reason else None,
            )
            .on_conflict_do_nothing(index_elements=[_TABLE.c.event_id])
        )

    def _store_rejected(self, event: InboundEvent, error: BaseException, now: datetime) -> bool:
        """Records an event the database refused, without its content."""
        statement = (
            self._insert(_TABLE)
            .values(
                event_id=str(event.event_id)[:200],
                page_id=str(event.page_id)[:64],
                conversation_id=str(event.conversation_id)[:200],
                kind=event.kind.value,
                timestamp=int(event.timestamp) if 0 <= event.timestamp < 2**62 else 0,
                payload=canonical_json({"rejected": type(error).__name__}),
                status=InboxStatus.REJECTED.value,
                attempts=0,
                received_at=now,
                error=f"refused by the database: {describe_failure(error, 250)}",
            )
            .on_conflict_do_nothing(index_elements=[_TABLE.c.event_id])
        )
        with self._webhook_transaction() as connection:
            return connection.execute(statement).rowcount == 1

    def claim_next(
        self,
        conversation_id: str | None = None,
        worker_id: str | None = None,
        *,
        quarantined: list[ClaimedEvent] | None = None,
    ) -> ClaimedEvent | None:
        """Claims the next event to process: an abandoned one, else the next of a free conversation.

        First an event left 'processing' by a worker that stopped renewing its heartbeat
        (older than the claim timeout) is taken over: it stays 'processing', now held by this
        worker, and the cut-short try counts. One whose tries are used up is quarantined
        instead and added to `quarantined`, for a person. Otherwise the oldest pending event
        of a free conversation (none of its events 'processing') is claimed; conversations are
        tried oldest pending event first; on PostgreSQL one whose claim lock another worker
        holds right now is skipped.

        Args:
            conversation_id: only look at this conversation.
            worker_id: who claims it (default: host name and process id).
            quarantined: gets the events this claim quarantined (the caller hands them to a
                person); without it they are quarantined all the same.

        Returns:
            The claimed event, now 'processing', or None when nothing can be claimed now.
        """
        worker = (worker_id or default_worker_id())[:120]
        with self._transaction() as connection:
            taken = self._take_over(connection, conversation_id, worker,
                                    quarantined if quarantined is not None else [])
            if taken is not None:
                return taken
            for candidate in self._candidates(connection, conversation_id):
                if self._postgres and not self._try_lock(connection, candidate):
                    continue
                if self._busy(connection, candidate):
                    continue
                claimed = self._claim_oldest(connection, candidate, worker)
                if claimed is not None:
                    return claimed
        return None

    def _take_over(
        self,
        connection: Connection,
        conversation_id: str | None,
        worker: str,
        quarantined: list[ClaimedEvent],
    ) -> ClaimedEvent | None:
        """Takes over the longest silent abandoned event; quarantines those out of tries.

        Each update repeats the staleness and the holder in its condition: on PostgreSQL a
        concurrent renewal or take-over of the row makes it wait and then match nothing, so
        an event is never taken over twice or from a holder that just renewed.
        """
        now = self._clock()
        cutoff = now - self.claim_timeout
        query = (
            select(_TABLE)
            .where(_stale(cutoff))
            .order_by(_last_alive(), _TABLE.c.event_id)
            .limit(_CANDIDATES)
        )
        if conversation_id is not None:
            query = query.where(_TABLE.c.conversation_id == conversation_id)
        for row in list(connection.execute(query).mappings()):
            holder = row["claimed_by"]
            same_claim = and_(
                _TABLE.c.event_id == row["event_id"],
                _stale(cutoff),
                _TABLE.c.claimed_by.is_(None) if holder is None else _TABLE.c.claimed_by == holder,
            )
            if row["attempts"] >= self._quarantine_after:
                gave_up = (
                    update(_TABLE)
                    .where(same_claim)
                    .values(status=InboxStatus.QUARANTINED.value, processed_at=now,
                            error=CRASHED_EVERY_TRY)
                )
                if connection.execute(gave_up).rowcount == 1:
                    quarantined.append(_claimed(row, str(holder or ""), now))
                continue
            take = (
                update(_TABLE)
                .where(same_claim)
                .values(claimed_at=now, claimed_by=worker, heartbeat_at=now,
                        attempts=_TABLE.c.attempts + 1)
            )
            if connection.execute(take).rowcount == 1:
                return _claimed(row, worker, now)
        return None

    def _candidates(self, connection: Connection, conversation_id: str | None) -> list[str]:
        """Conversations with pending events and nothing processing, the least served first.

        Fair across conversations: one never answered comes first, then the one answered
        longest ago, so a backlog in a few conversations (a flood, junk) never delays
        another customer's first answer; ties go to the longest waiting (by arrival, not by
        the timestamp the sender wrote).
        """
        busy = select(_TABLE.c.conversation_id).where(
            _TABLE.c.status == InboxStatus.PROCESSING.value
        )
        served = _TABLE.alias("served")
        last_served = (
            select(func.max(served.c.processed_at))
            .where(served.c.conversation_id == _TABLE.c.conversation_id)
            .scalar_subquery()
        )
        query = (
            select(_TABLE.c.conversation_id)
            .where(
                _TABLE.c.status == InboxStatus.PENDING.value,
                _TABLE.c.conversation_id.not_in(busy),
            )
            .group_by(_TABLE.c.conversation_id)
            .order_by(
                case((last_served.is_(None), 0), else_=1),
                last_served,
                func.min(_TABLE.c.received_at),
                _TABLE.c.conversation_id,
            )
            .limit(_CANDIDATES)
        )
        if conversation_id is not None:
            query = query.where(_TABLE.c.conversation_id == conversation_id)
        return list(connection.execute(query).scalars())

    @staticmethod
    def _try_lock(connection: Connection, conversation_id: str) -> bool:
        """Takes the conversation's claim lock until the transaction ends, if it is free."""
        lock = func.pg_try_advisory_xact_lock(_ADVISORY_NAMESPACE, func.hashtext(conversation_id))
        return bool(connection.execute(select(lock)).scalar())

    @staticmethod
    def _busy(connection: Connection, conversation_id: str) -> bool:
        """Whether an event of the conversation is being processed (checked under the lock)."""
        query = (
            select(_TABLE.c.event_id)
            .where(
                _TABLE.c.conversation_id == conversation_id,
                _TABLE.c.status == InboxStatus.PROCESSING.value,
            )
            .limit(1)
        )
        return connection.execute(query).first() is not None

    def _claim_oldest(
        self, connection: Connection, conversation_id: str, worker: str
    ) -> ClaimedEvent | None:
        """Marks the conversation's oldest pending event 'processing' and returns it."""
        query = (
            select(_TABLE)
            .where(
                _TABLE.c.conversation_id == conversation_id,
                _TABLE.c.status == InboxStatus.PENDING.value,
            )
            .order_by(_TABLE.c.timestamp, _TABLE.c.received_at, _TABLE.c.event_id)
            .limit(1)
        )
        row = connection.execute(query).mappings().first()
        if row is None:
            return None
        now = self._clock()
        claim = (
            update(_TABLE)
            .where(
                _TABLE.c.event_id == row["event_id"],
                _TABLE.c.status == InboxStatus.PENDING.value,
            )
            .values(status=InboxStatus.PROCESSING.value, claimed_at=now, claimed_by=worker,
                    heartbeat_at=now, attempts=_TABLE.c.attempts + 1)
        )
        if connection.execute(claim).rowcount != 1:
            return None
        return _claimed(row, worker, now)

    def renew(self, held: Mapping[str, str]) -> set[str]:
        """Renews the heartbeat of the claims a worker holds, in one statement for them all.

        Only a row still 'processing' and still claimed by the id given for it is touched,
        so a claim another worker took over stays theirs.

        Args:
            held: event id -> the worker id that claimed it.

        Returns:
            The event ids still held (renewed); the others were lost: taken over, or no
            longer 'processing'.
        """
        if not held:
            return set()
        mine = or_(*(
            and_(_TABLE.c.event_id == event_id, _TABLE.c.claimed_by == worker[:120])
            for event_id, worker in held.items()
        ))
        condition = (_TABLE.c.status == InboxStatus.PROCESSING.value) & mine
        statement = update(_TABLE).where(condition).values(heartbeat_at=self._clock())
        with self._transaction() as connection:
            if self._postgres:
                return set(connection.execute(statement.returning(_TABLE.c.event_id)).scalars())
            if connection.execute(statement).rowcount == len(held):
                return set(held)
            # Some were lost (rare): which ones, under the same write lock.
            return set(connection.execute(select(_TABLE.c.event_id).where(condition)).scalars())

    def complete(self, event_id: str, worker_id: str | None = None) -> bool:
        """Marks an event the caller holds 'done', which frees its conversation.

        Args:
            event_id: the claimed event.
            worker_id: the worker that claimed it (default: host name and process id).

        Returns:
            False when the caller does not hold it (any more): it lost the claim to a
            take-over, or the event is unknown, finished or recovered; nothing was changed.
        """
        worker = (worker_id or default_worker_id())[:120]
        statement = (
            update(_TABLE)
            .where(_TABLE.c.event_id == event_id, _held_by(worker))
            .values(status=InboxStatus.DONE.value, processed_at=self._clock(), error=None)
        )
        with self._transaction() as connection:
            return connection.execute(statement).rowcount == 1

    def fail(
        self, event_id: str, error: str | BaseException, worker_id: str | None = None
    ) -> InboxStatus | None:
        """Records a failed try: back to 'pending', or 'quarantined' after too many tries.

        A retried event keeps its place, so it comes before the conversation's later events.

        Args:
            event_id: the claimed event.
            error: what went wrong: an exception (kept as `describe_failure` gives it:
                class and redacted cause) or a string (its first line, which must hold no
                personal data); cut to 200 characters.
            worker_id: the worker that claimed it (default: host name and process id).

        Returns:
            The new status, or None when the caller does not hold the event (any more): it
            lost the claim to a take-over, or the event is not 'processing'; nothing was
            changed.
        """
        worker = (worker_id or default_worker_id())[:120]
        now = self._clock()
        with self._transaction() as connection:
            query = (
                select(_TABLE.c.attempts)
                .where(_TABLE.c.event_id == event_id, _held_by(worker))
                .with_for_update()
            )
            attempts = connection.execute(query).scalar()
            if attempts is None:
                return None
            gave_up = attempts >= self._quarantine_after
            status = InboxStatus.QUARANTINED if gave_up else InboxStatus.PENDING
            connection.execute(
                update(_TABLE)
                .where(_TABLE.c.event_id == event_id, _held_by(worker))
                .values(
                    status=status.value,
                    error=_short_error(error),
                    claimed_at=None,
                    claimed_by=None,
                    heartbeat_at=None,
                    processed_at=now if gave_up else None,
                )
            )
            return status

    def waiting_since(self, received_before: datetime, limit: int = 200) -> list[InboundEvent]:
        """Customers' messages still unanswered that arrived before `received_before`.

        Pending or being processed (a process that died holds its claim until it is taken
        over);
        only what a customer wrote in a Messenger thread (texts, attachments, postbacks,
        referrals); the first such event of each conversation, the longest waiting first.
        """
        query = (
            select(_TABLE)
            .where(
                _TABLE.c.status.in_([InboxStatus.PENDING.value, InboxStatus.PROCESSING.value]),
                _TABLE.c.received_at <= received_before,
                _TABLE.c.kind.in_([kind.value for kind in CUSTOMER_MESSAGE_KINDS]),
            )
            .order_by(_TABLE.c.received_at, _TABLE.c.timestamp, _TABLE.c.event_id)
            .limit(limit * 5)
        )
        with self._engine.connect() as connection:
            found = list(connection.execute(query).mappings())
        first: dict[str, InboundEvent] = {}
        for row in found:
            if row["conversation_id"] not in first and len(first) < limit:
                first[row["conversation_id"]] = _claimed(row, "", self._clock()).event
        return list(first.values())

    def pending_summary(self) -> PendingSummary:
        """How many events are pending and how long the oldest has waited (the status index)."""
        query = select(func.count(), func.min(_TABLE.c.received_at)).where(
            _TABLE.c.status == InboxStatus.PENDING.value
        )
        with self._engine.connect() as connection:
            count, oldest = connection.execute(query).one()
        if oldest is not None and oldest.tzinfo is None:  # SQLite's min() of the text
            oldest = oldest.replace(tzinfo=timezone.utc)
        age = (self._clock() - oldest).total_seconds() if oldest is not None else 0.0
        return PendingSummary(int(count or 0), max(age, 0.0))

    def pending_conversations(self) -> list[str]:
        """Conversations with pending events, the one waiting longest first.

        Includes conversations whose current event is still being processed.
        """
        query = (
            select(_TABLE.c.conversation_id)
            .where(_TABLE.c.status == InboxStatus.PENDING.value)
            .group_by(_TABLE.c.conversation_id)
            .order_by(func.min(_TABLE.c.timestamp), _TABLE.c.conversation_id)
        )
        with self._engine.connect() as connection:
            return list(connection.execute(query).scalars())

    def recover(self, stale_after: timedelta) -> Recovery:
        """Puts events left 'processing' by a crashed worker back to 'pending'.

        For a database only this process uses (SQLite): run it on start with `timedelta(0)`
        to recover everything. With several processes sharing PostgreSQL it is not needed:
        `claim_next` takes over events whose heartbeat stopped. An event whose tries are
        used up (it was running when its process died, again) is quarantined instead.

        Args:
            stale_after: how long ago an event's holder must last have renewed its claim
                (or claimed it, before heartbeats) for it to be recovered.

        Returns:
            How many events were put back, and the quarantined ones (for a person).
        """
        now = self._clock()
        stale = _stale(now - stale_after)
        with self._transaction() as connection:
            used_up = list(connection.execute(
                select(_TABLE).where(stale, _TABLE.c.attempts >= self._quarantine_after)
            ).mappings())
            quarantined = [_claimed(row, str(row["claimed_by"] or ""), now) for row in used_up]
            if used_up:
                connection.execute(
                    update(_TABLE)
                    .where(_TABLE.c.event_id.in_([row["event_id"] for row in used_up]))
                    .values(status=InboxStatus.QUARANTINED.value, processed_at=now,
                            error=CRASHED_EVERY_TRY)
                )
            put_back = connection.execute(
                update(_TABLE)
                .where(stale)
                .values(status=InboxStatus.PENDING.value, claimed_at=None, claimed_by=None,
                        heartbeat_at=None)
            ).rowcount
        return Recovery(put_back, quarantined)


@dataclass(frozen=True)
class PendingSummary:
    """What `Inbox.pending_summary` found: pending events, the oldest one's wait in seconds."""

    events: int
    oldest_age_seconds: float


@dataclass(frozen=True)
class Recovery:
    """What `Inbox.recover` did.

    Attributes:
        recovered: events put back to 'pending'.
        quarantined: events whose tries were used up, now 'quarantined'.
    """

    recovered: int
    quarantined: list[ClaimedEvent]


def _claimed(row: Any, worker: str, now: datetime) -> ClaimedEvent:
    """The typed event of a stored row (its `attempts` the tries before this one)."""
    raw = json.loads(row["payload"])
    kind = EventKind(row["kind"])
    event = restore_event(
        event_id=row["event_id"],
        kind=kind,
        page_id=row["page_id"],
        conversation_id=row["conversation_id"],
        timestamp=row["timestamp"],
        raw=raw,
    )
    return ClaimedEvent(
        event_id=row["event_id"],
        page_id=row["page_id"],
        conversation_id=row["conversation_id"],
        kind=kind,
        timestamp=row["timestamp"],
        attempts=row["attempts"],
        claimed_by=worker,
        claimed_at=now,
        event=event,
        raw=raw,
        received_at=row["received_at"],
    )
