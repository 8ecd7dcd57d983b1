"""Rasa's SQL tracker store, pointed at the product database from `DATABASE_URL`.

Referenced from endpoints.yml, so one setting decides where both our tables and Rasa's
conversations live (SQLite file by default, PostgreSQL in production).

Between turns it keeps the trackers it saved (`bot.store.tracker_cache`): a turn then costs
one indexed query to see that nothing changed, instead of reading, decoding and replaying
the whole session, and a save writes the new events without counting the stored ones.
What is read and written is Rasa's own `events` table, row for row as Rasa writes it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import func
from sqlalchemy.engine import make_url

from bot.settings import get_settings
from bot.store.database import create_db_engine
from bot.store.tracker_cache import HeldTracker, StoredMark, TrackerCache

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DEFAULT_CACHED_CONVERSATIONS = 256
"""How many conversations a Rasa process holds between turns unless told otherwise."""


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
            self.cache = TrackerCache(cache.capacity)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's current session: the held tracker when nothing changed since."""
        held = self.cache.take(sender_id)
        with self.session_scope() as session:
            tracker = self._caught_up(session, held) if held is not None else None
            if tracker is None:
                tracker = self._read_session(session, sender_id)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Writes the events added since the tracker was retrieved, and holds it for next time.

        A tracker this store did not lend (a new conversation, one rebuilt elsewhere), or one
        whose conversation changed in the database meanwhile, is saved Rasa's way: the
        stored events are counted and the rest written. A tracker that starts a new session
        is not held: the next turn reads the new session alone, as Rasa would.
        """
        mark = self.cache.returned(tracker)
        if mark is None:
            await self._save_rasas_way(tracker)
            return
        await self.stream_events(tracker)
        with self.session_scope() as session:
            if self._newest_id(session, tracker.sender_id) != mark.last_id:
                written = None
            else:
                new_events = list(itertools.islice(tracker.events, mark.events, None))
                rows = [self._row(tracker.sender_id, event) for event in new_events]
                session.add_all(rows)
                session.commit()
                written = max((row.id for row in rows), default=mark.last_id)
        if written is None:
            await self._save_rasas_way(tracker)
            return
        self._hold(tracker, new_events, written)

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
        """Keeps a saved tracker for its next turn, unless `new_events` start a new session.

        Rasa reads a session from its `session_started` event on: a tracker holding events
        from before one is not what the next turn would read.
        """
        if last_id is None or any(isinstance(event, SessionStarted) for event in new_events):
            return  # the next turn reads the new session alone, as Rasa would
        self.cache.hold(tracker, StoredMark(len(tracker.events) if stored is None else stored,
                                            last_id))

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
        self.cache.lend(tracker, StoredMark(len(tracker.events), last_id))
        return tracker

    def _read_session(self, session: Session, sender_id: str) -> DialogueStateTracker | None:
        """Rasa's own read: every event since the session started, replayed."""
        rows = self._event_query(session, sender_id,
                                 fetch_events_from_all_sessions=False).all()
        if not rows or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(row.data) for row in rows], self.domain.slots)
        self.cache.lend(tracker, StoredMark(len(tracker.events), max(row.id for row in rows)))
        return tracker

    def _row(self, sender_id: str, event: Event) -> SQLTrackerStore.SQLEvent:
        """One event as Rasa's `save` writes it."""
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )
