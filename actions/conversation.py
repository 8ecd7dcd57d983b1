"""Reading a Rasa SDK tracker: transcript, intents seen, order status told, who and where.

A long conversation's tracker holds only its recent events (`bot.store.tracker_window`):
what reads the whole session (a handoff's transcript, the proofs given, the status told)
takes `session_events`, which puts the earlier events back from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Tracker
from sqlalchemy.engine import Engine

from bot.handoff.tickets import TranscriptLine
from bot.orders import OrderStatus
from bot.store.conversation_events import earlier_events, window_start

logger = logging.getLogger(__name__)

_SENDERS = {"user": "customer", "bot": "bot"}


def _event_time(event: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(float(event.get("timestamp") or 0), tz=timezone.utc)


def session_events(tracker: Tracker, engine: Engine) -> list[dict[str, Any]]:
    """Every event of the session, oldest first: the stored earlier ones, then the tracker's.

    When the earlier events cannot be found (erased meanwhile), the tracker's recent ones.
    """
    events = list(tracker.events)
    first_kept = window_start(events[0]) if events else None
    if first_kept is None:
        return events
    kept = next((index for index, event in enumerate(events)
                 if event.get("event") == "user" and event.get("message_id") == first_kept),
                None)
    earlier = earlier_events(engine, tracker.sender_id, first_kept) \
        if kept is not None else None
    if earlier is None:
        logger.warning("conversation: the session's earlier events are not stored; "
                       "the recent ones only")
        return events
    return earlier + events[kept:]


def proofs_given(events: Iterable[dict[str, Any]]) -> set[str]:
    """Every value the customer gave as proof of ownership (e-mail or postcode)."""
    return {
        str(event["value"])
        for event in events
        if event.get("event") == "slot" and event.get("name") == "proof" and event.get("value")
    }


def transcript(events: Iterable[dict[str, Any]],
               hide: set[str] = frozenset()) -> list[TranscriptLine]:
    """Every customer and bot message, oldest first; the strings in `hide` become "[proof]".

    The ticket keeps the rest as written, for the agent who answers (whatever leaves the desk
    is redacted on its way out); `hide` covers the proofs of ownership, which not even an
    agent needs to read: next to an order number they are a credential.
    """
    lines = []
    for event in events:
        sender = _SENDERS.get(event.get("event", ""))
        text = shown_text(event)
        if sender and text:
            for secret in sorted(hide, key=len, reverse=True):
                text = text.replace(secret, "[proof]")
            lines.append(TranscriptLine(sender, text, _event_time(event)))
    return lines


def user_events(tracker: Tracker) -> list[dict[str, Any]]:
    """The customer's messages as raw events, oldest first."""
    return [event for event in tracker.events if event.get("event") == "user"]


def intent_of(event: dict[str, Any]) -> tuple[str, float]:
    """The intent name and confidence of a `user` event."""
    intent = (event.get("parse_data") or {}).get("intent") or {}
    return intent.get("name") or "", float(intent.get("confidence") or 0.0)


def intents_seen(tracker: Tracker, last: int = 5) -> list[tuple[str, float]]:
    """The intents of the customer's last few messages, with confidence."""
    return [intent_of(event) for event in user_events(tracker)[-last:]]


def status_told(events: list[dict[str, Any]]) -> str | None:
    """The bot's last answer about an order's status (``utter_order_<status>``), as shown."""
    answers = {f"utter_order_{status.value}" for status in OrderStatus}
    for event in reversed(events):
        metadata = event.get("metadata") or {}
        if event.get("event") == "bot" and isinstance(metadata, dict) \
                and metadata.get("utter_action") in answers:
            return event.get("text") or None
    return None


def channel_of(tracker: Tracker) -> str:
    """The input channel of the customer's latest message ("rest", "messenger", ...)."""
    return tracker.get_latest_input_channel() or "unknown"


def shown_text(event: dict[str, Any]) -> str | None:
    """A message's text as a person should read it.

    A channel that turns something other than text into a message (a photo becomes the
    intent trigger ``/share_media{...}``) says what it was in the metadata's `display_text`.
    """
    metadata = event.get("metadata") or {}
    display = metadata.get("display_text") if isinstance(metadata, dict) else None
    return str(display) if display else event.get("text")


def latest_text(tracker: Tracker) -> str:
    """The text of the customer's latest message, as a person should read it."""
    return shown_text(tracker.latest_message or {}) or ""


def latest_time(tracker: Tracker) -> datetime:
    """When the customer's latest message arrived."""
    events = user_events(tracker)
    return _event_time(events[-1]) if events else datetime.now(timezone.utc)


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The value of an entity in the latest message, if any."""
    return next(tracker.get_latest_entity_values(entity), None)


def slot_before_latest_message(tracker: Tracker, slot: str) -> Any:
    """A slot's value as it was before the customer's latest message was processed."""
    value = None
    seen_latest_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_latest_user = True
            continue
        if seen_latest_user and event.get("event") == "slot" and event.get("name") == slot:
            value = event.get("value")
            break
    return value
