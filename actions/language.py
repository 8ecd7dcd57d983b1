"""The conversation's language, decided from each customer message (a custom slot mapping).

Rasa runs `action_detect_language` from `action_extract_slots` after every customer message,
before the policies choose what to say, so every response of the turn is already in the
language the customer wrote in.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services import get_services


class ActionDetectLanguage(Action):
    """Sets `language` (and `language_settled`) from the latest customer message."""

    def name(self) -> str:
        """Rasa name."""
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Keeps the language on short or unclear messages; switches on a clear longer one."""
        services = get_services()
        current = services.language_of(tracker.get_slot("language"))
        settled = bool(tracker.get_slot("language_settled"))
        text = str((tracker.latest_message or {}).get("text") or "")
        choice = services.detector.choose(text, current, settled)
        events: list[EventType] = []
        if choice.language != tracker.get_slot("language"):
            events.append(SlotSet("language", choice.language))
        if choice.settled != settled:
            events.append(SlotSet("language_settled", choice.settled))
        return events
