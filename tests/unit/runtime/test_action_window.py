"""The action server is sent a long conversation's recent events, and gets the rest back.

`bot.runtime.action_window` (the Rasa process's side) and `actions.conversation.session_events`
with `bot.store.conversation_events` (the action server's side), through a real tracker
store on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker

from actions import conversation
from bot import settings as settings_module
from bot.runtime.action_window import _action_call, install_action_window, recent_events
from bot.store.conversation_events import EARLIER_EVENTS_MARKER, RECENT_TURNS
from bot.store.tracker_store import ProductTrackerStore

PROJECT_DIR = Path(__file__).resolve().parents[3]
DOMAIN = Domain.from_path(str(PROJECT_DIR / "domain.yml"))


def conversation_of(turns: int, sender: str = "window") -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    events: list[Event] = [SessionStarted(timestamp=1.0), SlotSet("language", "it", 1.1),
                           ActionExecuted("action_listen", timestamp=1.2)]
    for number in range(turns):
        at = 10.0 + number
        events += [
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
            events.append(SlotSet("proof", "ada@example.com", timestamp=at + 0.5))
    for event in events:
        tracker.update(event)
    return tracker


def call(tracker: DialogueStateTracker, action: str, selective: bool = True) -> dict:
    endpoint = EndpointConfig("http://127.0.0.1:1/webhook", enable_selective_domain=selective)
    return _action_call(RemoteAction(action, endpoint), tracker, DOMAIN)


def test_a_short_conversation_is_sent_whole():
    tracker = conversation_of(RECENT_TURNS)
    assert recent_events(list(tracker.events)) is None
    sent = call(tracker, "action_order_status")["tracker"]
    assert sent == tracker.current_state(EventVerbosity.ALL)


def test_a_long_conversation_sends_its_recent_turns_after_the_slots_set_before():
    tracker = conversation_of(40)
    sent = call(tracker, "action_order_status")
    events = sent["tracker"]["events"]
    assert events[0]["event"] == "action" and events[0]["name"] == EARLIER_EVENTS_MARKER
    first_kept = f"m{40 - RECENT_TURNS}"
    assert events[0]["metadata"]["from_message_id"] == first_kept
    before = [(e["name"], e["value"]) for e in events[1:4]]
    assert before == [("language", "it"), ("proof", "ada@example.com"),
                      ("order_number", f"100{39 - RECENT_TURNS}")]
    assert events[4]["event"] == "user" and events[4]["message_id"] == first_kept
    full = tracker.current_state(EventVerbosity.ALL)
    assert events[4:] == full["events"][-RECENT_TURNS * 5:]
    assert {k: v for k, v in sent["tracker"].items() if k != "events"} == \
        {k: v for k, v in full.items() if k != "events"}  # slots, latest message... whole
    assert len(json.dumps(sent)) < len(json.dumps(full)) / 3
    assert "domain" not in sent  # only the actions that ask for it get the domain
    assert "domain" in call(tracker, "validate_order_status_form")
    assert "domain" in call(tracker, "action_order_status", selective=False)


def test_what_the_actions_read_back_in_recent_events_is_as_before():
    tracker = conversation_of(40)
    whole = Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))
    recent = Tracker.from_dict(call(tracker, "action_order_status")["tracker"])
    assert conversation.intents_seen(recent) == conversation.intents_seen(whole)
    assert conversation.slot_before_latest_message(recent, "order_number") == \
        conversation.slot_before_latest_message(whole, "order_number")
    assert conversation.latest_text(recent) == conversation.latest_text(whole)
    assert conversation.channel_of(recent) == conversation.channel_of(whole)


@pytest.fixture
def database(engine, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    settings_module.get_settings.cache_clear()
    yield engine
    settings_module.get_settings.cache_clear()


def test_a_handoff_reads_the_whole_session_back_from_the_database(database):
    sender = f"window-{uuid.uuid4().hex[:8]}"
    tracker = conversation_of(40, sender)
    asyncio.run(ProductTrackerStore(domain=DOMAIN, cached_conversations=0).save(tracker))
    now = UserUttered("voglio parlare con una persona", {"name": "human_request",
                                                         "confidence": 0.99},
                      timestamp=100.0, message_id="now")
    tracker.update(now)  # this turn's message: not stored until the turn ends
    whole = tracker.current_state(EventVerbosity.ALL)["events"]
    recent = Tracker.from_dict(call(tracker, "action_handoff")["tracker"])

    events = conversation.session_events(recent, database)
    assert events == whole
    assert conversation.transcript(events) == conversation.transcript(whole)
    assert len(conversation.transcript(events)) == 81
    assert conversation.proofs_given(events) == {"ada@example.com"}
    assert conversation.status_told(events) == "L'ordine 10039 è partito."


def test_an_erased_session_leaves_the_recent_events(database):
    tracker = conversation_of(40, f"window-{uuid.uuid4().hex[:8]}")  # never stored
    recent = Tracker.from_dict(call(tracker, "action_handoff")["tracker"])
    events = conversation.session_events(recent, database)
    assert events == recent.events[1:]


def test_installing_twice_patches_once():
    install_action_window()
    install_action_window()
    assert RemoteAction._action_call_format is _action_call
