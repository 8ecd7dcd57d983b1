"""Which language each customer message was answered in, replayed from Rasa's stored events.

The tracker store's ``events`` table holds the conversation's ``language`` slot events.
Rasa's `action_extract_slots` runs `action_detect_language` right after a customer message,
so the ``language`` slot event that follows a message in its turn (before the bot's answer,
before a new session starts) is the language of that message; without one the value from
before holds (an earlier turn, a session carried over); a restart or a slot reset brings the
slot back to its initial value (the brand's default, never stored as an event), as does a
conversation that never set it. The desk's figures and the trainer's review inbox both read
messages this way.
"""

from __future__ import annotations

import json

__all__ = ["LANGUAGE_EVENT_TYPES", "LANGUAGE_SLOT", "LanguageReplay"]

LANGUAGE_SLOT = "language"

_TURN_ENDS = frozenset({"bot", "session_started"})
_SLOTS_RESET = frozenset({"restart", "reset_slots"})  # Rasa's Restarted and AllSlotsReset

LANGUAGE_EVENT_TYPES = ("slot", *sorted(_TURN_ENDS | _SLOTS_RESET))
"""The event types the replay needs besides the customer messages ("user") themselves."""


class LanguageReplay:
    """Follows each conversation's language slot through its events, in stored order.

    Give every event (ordered by timestamp, then id) to `see`; `languages` then holds, by the
    row id of each customer message seen, the language it was answered in (None: the slot's
    initial value).
    """

    def __init__(self) -> None:
        self.languages: dict[int, str | None] = {}
        self._current: dict[str, str | None] = {}  # each conversation's slot so far
        self._open: dict[str, int] = {}  # each conversation's message still in its turn

    def see(self, row_id: int, sender: str, type_name: str, data: str | None) -> None:
        """One stored event of a conversation."""
        if type_name == "user":
            self._open[sender] = row_id
            self.languages[row_id] = self._current.get(sender)
        elif type_name in _TURN_ENDS:
            self._open.pop(sender, None)
        elif type_name in _SLOTS_RESET:
            self._current.pop(sender, None)
            self._open.pop(sender, None)
        elif type_name == "slot" and (value := _language_value(data)) is not _NOT_LANGUAGE:
            self._current[sender] = value  # type: ignore[assignment]
            if sender in self._open:
                self.languages[self._open[sender]] = value  # type: ignore[assignment]


_NOT_LANGUAGE = object()


def _language_value(data: str | None) -> object:
    """The value a stored slot event gives the language slot; `_NOT_LANGUAGE` for others."""
    try:
        event = json.loads(data or "")
    except ValueError:
        return _NOT_LANGUAGE
    if not isinstance(event, dict) or event.get("name") != LANGUAGE_SLOT:
        return _NOT_LANGUAGE
    value = event.get("value")
    return value if isinstance(value, str) and value else None
