"""The tracker store holds trackers between turns and stays exactly Rasa's store.

Each case compares what the holding store hands Rasa with what Rasa's own `SQLTrackerStore`
reads from the same database, on SQLite and on PostgreSQL; a second store on the same
database plays another Rasa process.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from bot import settings as settings_module
from bot.store.tracker_store import ProductTrackerStore

PROJECT_DIR = Path(__file__).resolve().parents[3]
DOMAIN = Domain.from_path(str(PROJECT_DIR / "domain.yml"))


@pytest.fixture
def database(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The test database as the process's DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    settings_module.get_settings.cache_clear()
    yield engine
    settings_module.get_settings.cache_clear()


def store(held: int = 16) -> ProductTrackerStore:
    return ProductTrackerStore(domain=DOMAIN, cached_conversations=held)


def rasa_reads(engine: Engine, sender: str) -> list[dict]:
    """The session's events as Rasa's own SQL tracker store reads them."""
    url = make_url(str(engine.url))
    rasa = SQLTrackerStore(domain=DOMAIN, dialect=url.drivername, host=url.host, port=url.port,
                           db=url.database, username=url.username, password=url.password)
    tracker = asyncio.run(rasa.retrieve(sender))
    rasa.engine.dispose()
    return [] if tracker is None else [event.as_dict() for event in tracker.events]


def stored_rows(engine: Engine, sender: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"),
                                  {"s": sender}).scalar()


def turn(number: int, at: float) -> list[Event]:
    return [
        UserUttered(f"where is order 100{number}?", {"name": "order_status", "confidence": 0.9},
                    timestamp=at, message_id=f"m{number}"),
        SlotSet("order_number", f"100{number}", timestamp=at + 0.1),
        ActionExecuted("action_order_status", timestamp=at + 0.2),
        BotUttered(f"Order 100{number} has shipped.", timestamp=at + 0.3),
        ActionExecuted("action_listen", timestamp=at + 0.4),
    ]


def a_turn(tracker_store: ProductTrackerStore, sender: str, number: int) -> DialogueStateTracker:
    """Retrieve, add a turn's events, save: what Rasa does for one message."""
    tracker = asyncio.run(tracker_store.retrieve(sender))
    if tracker is None:
        tracker = DialogueStateTracker(sender, DOMAIN.slots)
        for event in [SessionStarted(timestamp=1.0), ActionExecuted("action_listen",
                                                                    timestamp=1.02)]:
            tracker.update(event)
    for event in turn(number, 10.0 + number):
        tracker.update(event)
    asyncio.run(tracker_store.save(tracker))
    return tracker


@pytest.fixture
def sender() -> str:
    return f"cache-{uuid.uuid4().hex[:10]}"


def test_the_next_turn_gets_the_saved_tracker_back_and_it_is_what_rasa_reads(database,
                                                                               sender):
    ours = store()
    first = a_turn(ours, sender, 1)
    again = asyncio.run(ours.retrieve(sender))
    assert again is first  # held: nothing read, decoded or replayed
    assert [e.as_dict() for e in again.events] == rasa_reads(database, sender)
    asyncio.run(ours.save(again))
    for number in range(2, 6):
        a_turn(ours, sender, number)
    assert stored_rows(database, sender) == 2 + 5 * 5  # every event once
    assert [e.as_dict() for e in asyncio.run(ours.retrieve(sender)).events] == \
        rasa_reads(database, sender)
    assert ours.cache._held == {}  # lent out until saved


def test_what_another_process_stored_meanwhile_is_read_and_nothing_is_written_twice(
        database, sender):
    ours, theirs = store(), store()
    a_turn(ours, sender, 1)
    a_turn(theirs, sender, 2)  # the next message went to the other Rasa process
    a_turn(theirs, sender, 3)
    tracker = a_turn(ours, sender, 4)
    assert [e.as_dict() for e in tracker.events] == rasa_reads(database, sender)
    assert stored_rows(database, sender) == 2 + 4 * 5
    assert tracker.get_slot("order_number") == "1004"


def test_a_turn_that_failed_before_its_save_leaves_nothing_behind(database, sender):
    ours = store()
    a_turn(ours, sender, 1)
    failed = asyncio.run(ours.retrieve(sender))
    failed.update(UserUttered("this turn crashes", timestamp=50.0, message_id="lost"))
    # ... and is never saved
    read = asyncio.run(ours.retrieve(sender))
    assert read is not failed
    assert [e.as_dict() for e in read.events] == rasa_reads(database, sender)
    assert all(getattr(e, "message_id", None) != "lost" for e in read.events)


def test_a_tracker_saved_twice_or_not_lent_is_saved_rasas_way(database, sender):
    ours = store()
    first = a_turn(ours, sender, 1)
    copy = first.copy()
    asyncio.run(ours.save(first))  # not lent again since its save: counted, nothing new
    asyncio.run(ours.save(copy))
    assert stored_rows(database, sender) == 2 + 5
    stranger = DialogueStateTracker.from_events(sender, list(first.events), DOMAIN.slots)
    for event in turn(2, 20.0):
        stranger.update(event)
    asyncio.run(ours.save(stranger))
    assert stored_rows(database, sender) == 2 + 2 * 5


def test_an_erased_conversation_is_not_served_from_memory(database, sender):
    ours = store()
    a_turn(ours, sender, 1)
    with database.begin() as connection:  # `nightdesk privacy erase`, another process
        connection.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
    assert asyncio.run(ours.retrieve(sender)) is None


def test_a_session_another_process_started_is_read_alone(database, sender):
    ours, theirs = store(), store()
    a_turn(ours, sender, 1)
    tracker = asyncio.run(theirs.retrieve(sender))
    for event in [ActionExecuted("action_session_start", timestamp=5000.0),
                  SessionStarted(timestamp=5000.01),
                  ActionExecuted("action_listen", timestamp=5000.02)]:
        tracker.update(event)
    asyncio.run(theirs.save(tracker))
    read = asyncio.run(ours.retrieve(sender))
    assert [e.as_dict() for e in read.events] == rasa_reads(database, sender)
    assert not any(isinstance(e, UserUttered) for e in read.events)  # the old session's


def test_a_session_started_here_is_read_alone_next_turn(database, sender):
    ours = store()
    tracker = a_turn(ours, sender, 1)
    tracker = asyncio.run(ours.retrieve(sender))
    for event in [ActionExecuted("action_session_start", timestamp=5000.0),
                  SessionStarted(timestamp=5000.01)]:
        tracker.update(event)
    asyncio.run(ours.save(tracker))
    read = asyncio.run(ours.retrieve(sender))
    assert read is not tracker
    assert [e.as_dict() for e in read.events] == rasa_reads(database, sender)
    assert not any(isinstance(e, UserUttered) for e in read.events)


def test_the_cache_is_bounded_and_can_be_off(database):
    ours = store(held=2)
    senders = [f"bounded-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    kept = [a_turn(ours, s, 1) for s in senders]
    assert len(ours.cache) == 2
    assert asyncio.run(ours.retrieve(senders[0])) is not kept[0]  # the oldest went first
    assert asyncio.run(ours.retrieve(senders[2])) is kept[2]
    off = store(held=0)
    tracker = a_turn(off, senders[1], 2)
    assert len(off.cache) == 0 and asyncio.run(off.retrieve(senders[1])) is not tracker


def test_a_new_domain_drops_what_is_held(database, sender):
    ours = store()
    held = a_turn(ours, sender, 1)
    ours.domain = Domain.from_path(str(PROJECT_DIR / "domain.yml"))  # a model was promoted
    assert asyncio.run(ours.retrieve(sender)) is not held


def test_a_new_conversation_changed_after_its_first_save_is_read_again(database, sender):
    """Rasa saves a new conversation's tracker, then goes on with that very object: if the
    turn dies there, the events it added were never stored and must not come back."""
    ours = store()
    created = DialogueStateTracker(sender, DOMAIN.slots)
    created.update(SessionStarted(timestamp=1.0))
    asyncio.run(ours.save(created))  # held, and still in Rasa's hands
    created.update(UserUttered("never stored", timestamp=2.0, message_id="lost"))
    read = asyncio.run(ours.retrieve(sender))
    assert read is not created
    assert [e.as_dict() for e in read.events] == rasa_reads(database, sender)
