"""The earlier part of a conversation, for an action server sent only its recent events.

Rasa sends the action server the conversation's tracker on every custom action. A long
conversation's whole session (a thousand events at its 200th message) made every action call
heavier as the conversation went on, so the Rasa process sends only the events from the
customer's last `RECENT_TURNS` messages on (`bot.runtime.action_window`). Those it leaves
out it replaces with one marker event, `EARLIER_EVENTS_MARKER`, that names the first message
it kept, followed by the latest value each slot was set to before it. The few actions that
need the whole session (a handoff's transcript) read the earlier events here, from Rasa's
own ``events`` table: everything the session stored before that message.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

RECENT_TURNS = 8
"""Customer messages whose events the action server is always sent (with every later event).

The actions look back at most five messages (the intents on a ticket)."""

EARLIER_EVENTS_MARKER = "nightdesk_earlier_events"
"""The name of the `action` event that stands in for the events left out."""

FROM_MESSAGE_KEY = "from_message_id"
"""In the marker's metadata: the message id of the first customer message sent in full."""

LEFT_OUT_KEY = "left_out"
"""In the marker's metadata: how many events were left out."""

_SESSION_EVENTS = text(
    "SELECT data FROM events WHERE sender_id = :sender AND ("
    " timestamp >= (SELECT max(timestamp) FROM events"
    "               WHERE sender_id = :sender AND type_name = 'session_started')"
    " OR NOT EXISTS (SELECT 1 FROM events"
    "                WHERE sender_id = :sender AND type_name = 'session_started'))"
    " ORDER BY id"
)
"""The session's events as Rasa's SQL tracker store reads them (since its latest start)."""


def earlier_events(engine: Engine, sender_id: str,
                   before_message_id: str) -> list[dict[str, Any]] | None:
    """The session's stored events before the customer message `before_message_id`.

    None when the session holds no such message (it was not stored, or was erased).
    """
    earlier: list[dict[str, Any]] = []
    if not inspect(engine).has_table("events"):
        return None  # Rasa never stored a conversation in this database
    with engine.connect() as connection:
        for (data,) in connection.execute(_SESSION_EVENTS, {"sender": sender_id}):
            event = json.loads(data)
            if event.get("event") == "user" and event.get("message_id") == before_message_id:
                return earlier
            earlier.append(event)
    return None


def is_marker(event: dict[str, Any]) -> bool:
    """Whether a tracker event is the stand-in for the events left out."""
    return event.get("event") == "action" and event.get("name") == EARLIER_EVENTS_MARKER
