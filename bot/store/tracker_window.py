"""A long conversation's tracker cut down to its recent events, in the state they began in.

Rasa's policies featurize the whole tracker on every prediction (the rule policy formats
every state of it, even with debug logging off), the action server is sent it whole, and
the tracker store replays it: a turn at a conversation's 200th message cost several times a
turn at its 5th. What the bot decides needs far less: the policies look back four turns and
the actions five customer messages. `recent_window` keeps the events from the customer's
`RECENT_TURNS`-th last message on, once the session holds twice as many, after a
`session_started` event that names the first message kept (`FROM_MESSAGE_KEY`) and the
state the conversation was in just before it: every slot not at its initial value, the
active form, a pause. Replaying the window gives the same slots, form, pause and latest
message as replaying the whole session, and the same states for the last `RECENT_TURNS`
turns.

The window lives only in memory: the tracker store writes a window's new events after the
stored ones, never its first events (`bot.store.tracker_store`), and what needs the whole
session reads the earlier events back (`bot.store.conversation_events`).
"""

from __future__ import annotations

from collections.abc import Iterable

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker

from bot.store.conversation_events import FROM_MESSAGE_KEY, RECENT_TURNS


def is_window(tracker: DialogueStateTracker) -> bool:
    """Whether the tracker holds a window of the session rather than all of it."""
    first = tracker.events[0] if tracker.events else None
    return isinstance(first, SessionStarted) and bool(
        (first.metadata or {}).get(FROM_MESSAGE_KEY))


def recent_window(tracker: DialogueStateTracker, slots: Iterable[Slot],
                  turns: int = RECENT_TURNS) -> DialogueStateTracker | None:
    """The tracker's last `turns` customer messages on, in their state; None to keep it all.

    A tracker is cut once it holds `2 * turns` customer messages, so a turn replays at most
    that many, and a conversation is cut once every `turns` messages, not on every one.
    """
    events = list(tracker.events)
    messages = [index for index, event in enumerate(events) if isinstance(event, UserUttered)]
    if len(messages) < 2 * turns:
        return None
    start = messages[-turns]
    first_kept = events[start]
    assert isinstance(first_kept, UserUttered)
    if not first_kept.message_id:
        return None  # nothing to find the earlier events by
    listen = events[start - 1]
    if isinstance(listen, ActionExecuted) and listen.action_name == ACTION_LISTEN_NAME:
        start -= 1  # the listen before the message belongs to its turn
    slots = list(slots)
    before = DialogueStateTracker.from_events(tracker.sender_id, events[:start], slots)
    session_at = events[0].timestamp
    at = events[start - 1].timestamp
    head: list[Event] = [SessionStarted(timestamp=session_at,
                                        metadata={FROM_MESSAGE_KEY: first_kept.message_id})]
    head += [SlotSet(name, slot.value, timestamp=at) for name, slot in before.slots.items()
             if slot.value != slot.initial_value]
    if before.active_loop_name:
        head.append(ActiveLoop(before.active_loop_name, timestamp=at))
    if before.is_paused():
        head.append(ConversationPaused(timestamp=at))
    window = DialogueStateTracker.from_events(tracker.sender_id, head + events[start:], slots)
    window.model_id = tracker.model_id
    window.assistant_id = tracker.assistant_id
    return window
