"""The conversations a Rasa process answered lately, held as trackers between their turns.

Rasa's SQL tracker store rebuilds a conversation on every turn: it reads every event since
the session started, decodes each one's JSON and replays it into a new tracker, and before
saving it counts the stored events again. At a conversation's 200th message that is a
thousand events read, decoded and replayed for one answer. `ProductTrackerStore` keeps the
tracker it saved here instead, with the id of the last event it wrote; the next turn checks
that id against the database (one indexed query) and takes the tracker back, reading only
the events another process wrote meanwhile.

A held tracker is lent, never shared: `take` removes it, so a turn that fails before its
save leaves nothing behind, and the next turn reads the conversation from the database.
The number of conversations held is bounded; the least recently answered go first.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass

from rasa.shared.core.trackers import DialogueStateTracker


@dataclass(frozen=True)
class StoredMark:
    """How much of a tracker is in the database.

    Attributes:
        events: how many of the tracker's events are stored (its first `events`).
        last_id: the id of the conversation's newest stored event, None for none.
    """

    events: int
    last_id: int | None


@dataclass(frozen=True)
class HeldTracker:
    """A tracker kept between turns, with how much of it is stored."""

    tracker: DialogueStateTracker
    mark: StoredMark


class TrackerCache:
    """Trackers between turns (at most `capacity`), and the marks of those lent out.

    Lending works with a capacity of 0 too: a window of a long conversation is always lent,
    for its save must know which of its events are new.
    """

    def __init__(self, capacity: int) -> None:
        """`capacity` 0 keeps nothing: every turn reads its conversation from the database."""
        if capacity < 0:
            raise ValueError(f"a tracker cache holds zero or more conversations, not {capacity}")
        self.capacity = capacity
        self._held: OrderedDict[str, HeldTracker] = OrderedDict()
        # by the tracker object's id: two trackers of one conversation may be out at once
        self._lent: dict[int, tuple[weakref.ref[DialogueStateTracker], StoredMark]] = {}

    def __len__(self) -> int:
        return len(self._held)

    def take(self, sender_id: str) -> HeldTracker | None:
        """The conversation's held tracker, removed from the cache; None when none is held."""
        return self._held.pop(sender_id, None)

    def lend(self, tracker: DialogueStateTracker, mark: StoredMark) -> None:
        """Remembers what of `tracker`, just handed to Rasa, is stored (for its save)."""
        key = id(tracker)
        self._lent[key] = (weakref.ref(tracker, lambda _: self._lent.pop(key, None)), mark)

    def returned(self, tracker: DialogueStateTracker) -> StoredMark | None:
        """The mark of `tracker` when this cache lent it, else None.

        Forgets the loan either way: a tracker is saved once per loan.
        """
        lent = self._lent.pop(id(tracker), None)
        if lent is None:
            return None
        reference, mark = lent
        return mark if reference() is tracker else None

    def hold(self, tracker: DialogueStateTracker, mark: StoredMark) -> None:
        """Keeps `tracker`, stored up to `mark`, for its conversation's next turn."""
        if not self.capacity:
            return
        self._held[tracker.sender_id] = HeldTracker(tracker, mark)
        self._held.move_to_end(tracker.sender_id)
        while len(self._held) > self.capacity:
            self._held.popitem(last=False)

    def drop_held(self) -> None:
        """Drops every held tracker (the loans stand: their saves still need them)."""
        self._held.clear()

    def forget(self, sender_id: str) -> None:
        """Drops what is held for the conversation."""
        self._held.pop(sender_id, None)
