"""Rasa's SQL tracker store, pointed at the product database from `DATABASE_URL`.

Referenced from endpoints.yml, so one setting decides where both our tables and Rasa's
conversations live (SQLite file by default, PostgreSQL in production). What is read and
written is Rasa's own `events` table, row for row as Rasa writes it.

Two things keep a turn's cost flat over a long conversation:
* between turns it holds the trackers it saved (`bot.store.tracker_cache`): a turn costs
  one indexed query to see that nothing changed, instead of reading, decoding and
  replaying the whole session, and a save writes the new events without counting the
  stored ones;
* a long conversation is handed to Rasa as its recent events (`bot.store.tracker_window`),
  so the policies, the action server and the replay see at most `2 * RECENT_TURNS`
  customer messages whatever the conversation's length.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import func, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bot.settings import get_settings
from bot.store.database import create_db_engine
from bot.store.tracker_cache import HeldTracker, StoredMark, TrackerCache
from bot.store.tracker_window import is_window, recent_window

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)


class ProductTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` configured from the settings, holding recent trackers between turns."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        cached_conversations: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Parses `DATABASE_URL`.

        Args:
            domain: the domain trackers are rebuilt with (Rasa sets the model's).
            host: ignored, like every other endpoint key: the URL says where.
            event_broker: Rasa's event broker, if any.
            **kwargs: the other endpoint keys, ignored.
            cached_conversations: how many conversations to hold between turns (0: none);
                `TRACKER_CACHE_CONVERSATIONS` when not given.
        """
        settings = get_settings()
        url = make_url(settings.database_url)
        if url.get_backend_name() == "sqlite":
            with create_db_engine(str(url)).connect():
                pass  # creates the folder and switches the file to WAL mode (it stays so)
        self.cache = TrackerCache(settings.tracker_cache_conversations
                                  if cached_conversations is None else cached_conversations)
        super().__init__(
            domain=domain,
            dialect=url.drivername,
            host=url.host,
            port=url.port,
            db=url.database,
            username=url.username,
            password=url.password,
            event_broker=event_broker,
            query=dict(url.query),
        )
        if url.get_backend_name() == "sqlite":
            # our engine instead of Rasa's: WAL with synchronous=NORMAL (Rasa's fsyncs on
            # every commit), a 30 s busy wait, and pooled connections (Rasa's opens a new
            # one per session)
            rasas, self.engine = self.engine, create_db_engine(str(url))
            rasas.dispose()
            self.sessionmaker = sessionmaker(bind=self.engine)

    @property
    def domain(self) -> Domain:
        """The domain trackers are rebuilt with."""
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        """A new domain (a new model) may have other slots: nothing held survives it."""
        self._domain = domain or Domain.empty()
        cache = getattr(self, "cache", None)
        if cache is not None:
            cache.drop_held()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's current session (its recent window when long).

        The held tracker when nothing changed since it was saved; what other processes
        stored meanwhile is added to it.
        """
        held = self.cache.take(sender_id)
        with self.session_scope() as session:
            tracker = self._caught_up(session, held) if held is not None else None
            if tracker is None:
                tracker = self._read_session(session, sender_id)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Writes the events added since the tracker was retrieved, and holds it for next time.

        A tracker this store did not lend (a new conversation, one rebuilt elsewhere) is
        saved Rasa's way: the stored events are counted and the rest written. A tracker
        that starts a new session is not held: the next turn reads the new session alone,
        as Rasa would. One whose conversation another process wrote to meanwhile is not
        held either.
        """
        mark = self.cache.returned(tracker)
        if mark is None and is_window(tracker):
            mark = self._mark_by_time(tracker)
        if mark is None:
            await self._save_rasas_way(tracker)
            return
        await self.stream_events(tracker)
        new_events = list(itertools.islice(tracker.events, mark.events, None))
        with self.session_scope() as session:
            unchanged = self._newest_id(session, tracker.sender_id) == mark.last_id
            written = self._insert(session, tracker.sender_id, new_events)
            session.commit()
        written = mark.last_id if written is None else written
        if unchanged:
            self._hold(tracker, new_events, written)
        else:
            self.cache.forget(tracker.sender_id)

    async def _save_rasas_way(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save (count what is stored, write the rest), then holds the tracker."""
        self.cache.forget(tracker.sender_id)
        stored = len(tracker.events)
        await super().save(tracker)
        with self.session_scope() as session:
            newest = self._newest_id(session, tracker.sender_id)
        self._hold(tracker, itertools.islice(tracker.events, 1, None), newest, stored)

    def _hold(self, tracker: DialogueStateTracker, new_events: Iterable[Event],
              last_id: int | None, stored: int | None = None) -> None:
        """Keeps a saved tracker (cut to its window) for its next turn.

        Not when `new_events` start a new session: Rasa reads a session from its
        `session_started` event on, and a tracker holding events from before one is not
        what the next turn would read.
        """
        if last_id is None or any(isinstance(event, SessionStarted) for event in new_events):
            return
        if not self.cache.capacity:
            return
        stored = len(tracker.events) if stored is None else stored
        if stored == len(tracker.events):
            window = recent_window(tracker, self.domain.slots)
            if window is not None:
                tracker, stored = window, len(window.events)
        self.cache.hold(tracker, StoredMark(stored, last_id))

    def _mark_by_time(self, tracker: DialogueStateTracker) -> StoredMark | None:
        """The stored part of a window saved without its loan (it should not happen).

        Its events up to the newest stored one's time are taken as stored.
        """
        logger.error("tracker store: a window of conversation events came back without its "
                     "loan; its new events are told by their time")
        with self.session_scope() as session:
            newest = session.query(self.SQLEvent.id, self.SQLEvent.timestamp).filter(
                self.SQLEvent.sender_id == tracker.sender_id,
            ).order_by(self.SQLEvent.id.desc()).first()
        if newest is None:
            return None
        stored = sum(1 for event in tracker.events if event.timestamp <= newest.timestamp)
        return StoredMark(stored, newest.id)

    # ----------------------------------------------------------------- reading

    def _newest_id(self, session: Session, sender_id: str) -> int | None:
        return session.query(func.max(self.SQLEvent.id)).filter(
            self.SQLEvent.sender_id == sender_id).scalar()

    def _caught_up(self, session: Session, held: HeldTracker) -> DialogueStateTracker | None:
        """The held tracker with what other processes stored since; None to read it all.

        It is read again in full when events were deleted (an erasure, the retention
        sweep) or when another process started a new session.
        """
        tracker = held.tracker
        if len(tracker.events) != held.mark.events:
            return None  # changed since it was saved (a turn that did not finish)
        newest = self._newest_id(session, tracker.sender_id)
        last_id = held.mark.last_id
        if newest is None or last_id is None or newest < last_id:
            return None
        if newest > last_id:
            rows = session.query(self.SQLEvent).filter(
                self.SQLEvent.sender_id == tracker.sender_id, self.SQLEvent.id > last_id,
            ).order_by(self.SQLEvent.id).all()
            if any(row.type_name == SessionStarted.type_name for row in rows):
                return None
            for event in deserialise_events([json.loads(row.data) for row in rows]):
                tracker.update(event)
            last_id = rows[-1].id
            tracker = recent_window(tracker, self.domain.slots) or tracker
        self.cache.lend(tracker, StoredMark(len(tracker.events), last_id))
        return tracker

    def _read_session(self, session: Session, sender_id: str) -> DialogueStateTracker | None:
        """Rasa's own read (every event since the session started, replayed), windowed."""
        rows = self._event_query(session, sender_id,
                                 fetch_events_from_all_sessions=False).all()
        if not rows or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(row.data) for row in rows], self.domain.slots)
        tracker = recent_window(tracker, self.domain.slots) or tracker
        self.cache.lend(tracker, StoredMark(len(tracker.events), max(row.id for row in rows)))
        return tracker

    # ----------------------------------------------------------------- writing

    def _insert(self, session: Session, sender_id: str, events: list[Event]) -> int | None:
        """Writes the events, in order, in as few statements as it can; the newest id written.

        One multi-row INSERT per `_ROWS_PER_INSERT` events instead of one per event: with
        RETURNING on PostgreSQL; on SQLite (the product's two databases) the last row of a
        statement has the highest id (`last_insert_rowid()`, on the same connection).
        """
        rows = [self._values(sender_id, event) for event in events]
        if not rows:
            return None
        table = self.SQLEvent.__table__
        postgres = self.engine.dialect.name == "postgresql"
        newest = None
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            statement = insert(table).values(rows[start:start + _ROWS_PER_INSERT])
            if postgres:
                newest = max(session.execute(statement.returning(table.c.id)).scalars())
            else:
                session.execute(statement)
                newest = session.execute(text("select last_insert_rowid()")).scalar()
        return newest

    @staticmethod
    def _values(sender_id: str, event: Event) -> dict[str, Any]:
        """One event's row, as Rasa's `save` writes it."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }


_ROWS_PER_INSERT = 200
"""Events per INSERT statement (6 values each: far below SQLite's 32,766 parameters)."""
