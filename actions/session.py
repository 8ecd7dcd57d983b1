"""Session start: who the customer is (from the channel's metadata) and the brand's names."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services import get_services
from bot.handoff.first_names import first_name_or_none

# A verified order is not carried over: a new session proves ownership again.
CARRIED_OVER = ("first_name", "handoff_case", "handoff_reminded", "language",
                "language_settled")


def first_name_from_metadata(metadata: dict[str, Any] | None) -> str | None:
    """The customer's first name as a channel reports it (`first_name`, or `name`'s first word).

    Only a value that looks like a first name (`first_name_or_none`) fills the slot, so a
    client that sends an e-mail or a sentence as the name is not greeted by it.
    """
    if not isinstance(metadata, dict):
        return None
    name = metadata.get("first_name") or metadata.get("name")
    return first_name_or_none(name) if isinstance(name, str) else None


def language_from_metadata(
    metadata: dict[str, Any] | None, languages: tuple[str, ...]
) -> str | None:
    """A brand language the channel suggests (`language`, or a locale such as "it_IT")."""
    if not isinstance(metadata, dict):
        return None
    for key in ("language", "locale"):
        value = metadata.get(key)
        if isinstance(value, str) and value[:2].lower() in languages:
            return value[:2].lower()
    return None


class ActionSessionStart(Action):
    """Starts a session, keeping the pause and the name across sessions."""

    def name(self) -> str:
        """Rasa name."""
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Carries over what must survive, then fills name and brand slots."""
        services = get_services()
        brand = services.brand
        metadata = tracker.get_slot("session_started_metadata")
        events: list[EventType] = [SessionStarted()]
        for slot in CARRIED_OVER:
            value = tracker.get_slot(slot)
            if value is not None:
                events.append(SlotSet(slot, value))
        first_name = first_name_from_metadata(metadata)
        if first_name:
            events.append(SlotSet("first_name", first_name))
        # which variations may greet by name (conditions cannot say "first_name is set")
        events.append(SlotSet("has_first_name",
                              bool(first_name or tracker.get_slot("first_name"))))
        if not tracker.get_slot("language_settled"):
            # the channel's hint (the web chat page's or the REST client's language) until
            # the customer's own words tell
            hint = language_from_metadata(metadata, brand.languages)
            events.append(SlotSet("language", hint or services.language_of(
                tracker.get_slot("language"))))
        events.append(SlotSet("brand_name", brand.name))
        events.append(SlotSet("bot_name", brand.bot_name))
        events.append(ActionExecuted("action_listen"))
        return events
