"""A long conversation is handed to Rasa as its recent window, and nothing is lost.

`bot.store.tracker_window` through the real tracker store (SQLite and PostgreSQL): the
window replays to the state the whole session replays to; the database gets every event
once, as Rasa writes it; the action server, sent the window, gets the whole session back
from the database (`actions.conversation.session_events`).
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk import Tracker
from sqlalchemy import text

from actions import conversation
from bot import settings as settings_module
from bot.store.conversation_events import RECENT_TURNS
from bot.store.tracker_store import ProductTrackerStore
from bot.store.tracker_window import is_window, recent_window

PROJECT_DIR = Path(__file__).resolve().parents[3]
DOMAIN = Domain.from_path(str(PROJECT_DIR / "domain.yml"))


def turn(number: int) -> list[Event]:
    at = 10.0 + number
    events: list[Event] = [
        UserUttered(f"dov'è l'ordine 100{number}?", {"name": "order_status",
                                                     "confidence": 0.9},
                    timestamp=at, message_id=f"m{number}"),
        SlotSet("order_number", f"100{number}", timestamp=at + 0.1),
        ActionExecuted("action_order_status", timestamp=at + 0.2),
        BotUttered(f"L'ordine 100{number} è partito.", timestamp=at + 0.3,
                   metadata={"utter_action": "utter_order_shipped"}),
        ActionExecuted("action_listen", timestamp=at + 0.4),
    ]
    if number == 2:
        events.insert(2, SlotSet("proof", "ada@example.com", timestamp=at + 0.15))
    return events


def opening() -> list[Event]:
    return [SessionStarted(timestamp=1.0), SlotSet("language", "it", 1.1),
            ActionExecuted("action_listen", timestamp=1.2)]


def whole_conversation(turns: int, sender: str = "w") -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        sender, opening() + [e for n in range(turns) for e in turn(n)], DOMAIN.slots)


def same_state(window: DialogueStateTracker, whole: DialogueStateTracker) -> None:
    assert window.current_slot_values() == whole.current_slot_values()
    assert window.latest_message.as_dict() == whole.latest_message.as_dict()
    assert window.active_loop_name == whole.active_loop_name
    assert window.is_paused() == whole.is_paused()
    assert window.latest_action_name == whole.latest_action_name
    assert window.past_states(DOMAIN)[-RECENT_TURNS * 2:] == \
        whole.past_states(DOMAIN)[-RECENT_TURNS * 2:]


def test_a_short_conversation_is_kept_whole():
    assert recent_window(whole_conversation(2 * RECENT_TURNS - 1), DOMAIN.slots) is None


def test_the_window_replays_to_the_state_of_the_whole_session():
    whole = whole_conversation(40)
    window = recent_window(whole, DOMAIN.slots)
    assert is_window(window) and not is_window(whole)
    messages = [e for e in window.events if isinstance(e, UserUttered)]
    assert [m.message_id for m in messages] == [f"m{n}" for n in range(40 - RECENT_TURNS, 40)]
    same_state(window, whole)
    # in a form, paused for a person: both come through the cut
    for event in [ActiveLoop("order_status_form", timestamp=60.0),
                  ConversationPaused(timestamp=60.1)]:
        whole.update(event)
    for number in range(40, 40 + RECENT_TURNS):
        for event in turn(number):
            whole.update(event)
    window = recent_window(whole, DOMAIN.slots)
    assert window.active_loop_name == "order_status_form" and window.is_paused()
    same_state(window, whole)


@pytest.fixture
def database(engine, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    settings_module.get_settings.cache_clear()
    yield engine
    settings_module.get_settings.cache_clear()


def stored(engine, sender: str) -> list[dict]:  # noqa: ANN001
    import json

    with engine.connect() as connection:
        rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :s "
                                       "ORDER BY id"), {"s": sender})
        return [json.loads(data) for (data,) in rows]


@pytest.mark.parametrize("held", [16, 0])
def test_turn_after_turn_rasa_sees_a_bounded_window_and_the_database_gets_everything(
        database, held):
    sender = f"window-{uuid.uuid4().hex[:8]}"
    ours = ProductTrackerStore(domain=DOMAIN, cached_conversations=held)
    whole = DialogueStateTracker.from_events(sender, opening(), DOMAIN.slots)
    asyncio.run(ours.save(DialogueStateTracker.from_events(sender, opening(), DOMAIN.slots)))
    for number in range(60):
        tracker = asyncio.run(ours.retrieve(sender))
        assert sum(isinstance(e, UserUttered) for e in tracker.events) < 2 * RECENT_TURNS
        for event in turn(number):
            tracker.update(event)
            whole.update(event)
        same_state(tracker, whole)
        asyncio.run(ours.save(tracker))
    assert stored(database, sender) == [e.as_dict() for e in whole.events]


def test_the_action_server_sent_the_window_reads_the_whole_session_back(database):
    sender = f"window-{uuid.uuid4().hex[:8]}"
    ours = ProductTrackerStore(domain=DOMAIN, cached_conversations=0)
    asyncio.run(ours.save(whole_conversation(40, sender)))
    tracker = asyncio.run(ours.retrieve(sender))
    assert is_window(tracker)
    tracker.update(UserUttered("voglio parlare con una persona",
                               {"name": "human_request", "confidence": 0.99},
                               timestamp=100.0, message_id="now"))  # not stored yet
    whole = whole_conversation(40, sender)
    whole.update(tracker.events[-1])
    sent = Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))  # what Rasa sends

    events = conversation.session_events(sent, database)
    assert events == [e.as_dict() for e in whole.events]
    assert len(conversation.transcript(events)) == 81
    assert conversation.proofs_given(events) == {"ada@example.com"}
    assert conversation.status_told(events) == "L'ordine 10039 è partito."
    assert conversation.intents_seen(sent) == conversation.intents_seen(
        Tracker.from_dict(whole.current_state(EventVerbosity.ALL)))


def test_an_erased_session_leaves_the_window(database):
    window = recent_window(whole_conversation(40, f"window-{uuid.uuid4().hex[:8]}"),
                           DOMAIN.slots)  # never stored
    sent = Tracker.from_dict(window.current_state(EventVerbosity.ALL))
    assert conversation.session_events(sent, database) == sent.events


def test_a_window_saved_without_its_loan_writes_only_its_new_events(database):
    sender = f"window-{uuid.uuid4().hex[:8]}"
    ours = ProductTrackerStore(domain=DOMAIN, cached_conversations=0)
    asyncio.run(ours.save(whole_conversation(40, sender)))
    copy = asyncio.run(ours.retrieve(sender)).copy()  # not the tracker that was lent
    for event in turn(40):
        copy.update(event)
    asyncio.run(ours.save(copy))
    whole = whole_conversation(41, sender)
    assert stored(database, sender) == [e.as_dict() for e in whole.events]
