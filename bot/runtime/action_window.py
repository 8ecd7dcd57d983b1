"""What the Rasa process sends the action server: the recent events, not the whole session.

Rasa's `RemoteAction` puts the whole tracker (every event since the session started) into
each action call: about 23 KB at a conversation's 5th message, 240 KB at its 200th, encoded,
sent and decoded again for every custom action. `install_action_window` replaces that one
method so a call carries the events from the customer's last `RECENT_TURNS` messages on,
preceded by one marker event (`EARLIER_EVENTS_MARKER`, naming the first message kept) and
the latest value each slot was set to before it; the slots, the latest message, the active
loop and the rest of the tracker's state are sent whole, as before. Actions that need the
whole session read what was left out from the database (`bot.store.conversation_events`).
A conversation with no more than `RECENT_TURNS` messages is sent as Rasa sends it.

The domain goes only to the actions that ask for it (`send_domain` in domain.yml), as
Rasa's `enable_selective_domain` in endpoints.yml has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.store.conversation_events import (
    EARLIER_EVENTS_MARKER,
    FROM_MESSAGE_KEY,
    LEFT_OUT_KEY,
    RECENT_TURNS,
)

_WINDOWED = "_nightdesk_action_window"


def recent_events(events: Sequence[Event], turns: int = RECENT_TURNS) -> list[Event] | None:
    """The events to send for a session's `events`: None when every one goes.

    From the `turns`-th last customer message on, after the marker and the slots set before.
    """
    seen = 0
    start = None
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            seen += 1
            if seen == turns:
                start = index
                break
    if start is None or not any(isinstance(event, UserUttered) for event in events[:start]):
        return None  # no customer message before the recent ones: nothing worth leaving out
    first = events[start]
    assert isinstance(first, UserUttered)
    earlier_slots: dict[str, SlotSet] = {}
    for event in events[:start]:
        if isinstance(event, SlotSet):
            earlier_slots.pop(event.key, None)  # keeps the order the slots were last set in
            earlier_slots[event.key] = event
    marker = ActionExecuted(EARLIER_EVENTS_MARKER, timestamp=events[start - 1].timestamp,
                            metadata={FROM_MESSAGE_KEY: first.message_id, LEFT_OUT_KEY: start})
    return [marker, *earlier_slots.values(), *list(events)[start:]]


def _action_call(self: RemoteAction, tracker: DialogueStateTracker,
                 domain: Domain) -> dict[str, Any]:
    """`RemoteAction._action_call_format` with the session's recent events only."""
    events = list(tracker.events)
    recent = recent_events(events)
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in (events if recent is None else recent)]
    call: dict[str, Any] = {
        "next_action": self._name,
        "sender_id": tracker.sender_id,
        "tracker": state,
        "version": rasa.__version__,
    }
    if not self._is_selective_domain_enabled() \
            or domain.does_custom_action_explicitly_need_domain(self.name()):
        call["domain"] = domain.as_dict()
    return call


def install_action_window() -> None:
    """Makes every Rasa action call in this process carry the recent events (once)."""
    if getattr(RemoteAction, _WINDOWED, False):
        return
    RemoteAction._action_call_format = _action_call  # type: ignore[method-assign]
    setattr(RemoteAction, _WINDOWED, True)
