"""The earlier part of a conversation, for code handed only its recent events.

A long conversation is handed to Rasa, and from Rasa to the action server, as its recent
events only (`bot.store.tracker_window`): a thousand events replayed, featurized and sent
on every turn of a conversation's 200th message made each turn slower as the conversation
went on. Such a window starts with a `session_started` event whose metadata names the first
customer message it kept (`FROM_MESSAGE_KEY`), followed by the state the conversation was in
before it (each slot's value, an active form, a pause). What needs the whole session (a
handoff's transcript, the proofs given, the status told) reads the earlier events here, from
Rasa's own ``events`` table: everything the session stored before that message.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

RECENT_TURNS = 8
"""The customer messages a window always holds (with every event after the first of them).

The policies look back four turns (max_history in config.yml), the actions at most five
customer messages (the intents on a ticket)."""

FROM_MESSAGE_KEY = "nightdesk_window_from"
"""In a window's `session_started` metadata: the message id of its first customer message."""

_SESSION_EVENTS = text(
    "SELECT data FROM events WHERE sender_id = :sender AND ("
    " timestamp >= (SELECT max(timestamp) FROM events"
    "               WHERE sender_id = :sender AND type_name = 'session_started')"
    " OR NOT EXISTS (SELECT 1 FROM events"
    "                WHERE sender_id = :sender AND type_name = 'session_started'))"
    " ORDER BY id"
)
"""The session's events as Rasa's SQL tracker store reads them (since its latest start)."""


def window_start(event: dict[str, Any]) -> str | None:
    """The first kept message's id when `event` starts a window of recent events, else None."""
    if event.get("event") != "session_started":
        return None
    metadata = event.get("metadata")
    first = metadata.get(FROM_MESSAGE_KEY) if isinstance(metadata, dict) else None
    return str(first) if first else None


def earlier_events(engine: Engine, sender_id: str,
                   before_message_id: str) -> list[dict[str, Any]] | None:
    """The session's stored events before the customer message `before_message_id`.

    None when the session holds no such message (it was not stored, or was erased).
    """
    if not inspect(engine).has_table("events"):
        return None  # Rasa never stored a conversation in this database
    earlier: list[dict[str, Any]] = []
    with engine.connect() as connection:
        for (data,) in connection.execute(_SESSION_EVENTS, {"sender": sender_id}):
            event = json.loads(data)
            if event.get("event") == "user" and event.get("message_id") == before_message_id:
                return earlier
            earlier.append(event)
    return None
