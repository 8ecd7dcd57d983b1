"""Actions around handoff: the explicit handoff, the paused bot, and the fallback."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import conversation
from actions.handoff_flow import GuardedAction, answer_time_values, hand_off
from actions.services import get_services
from bot.handoff.reasons import HandoffReason, reason_for_intent
from bot.handoff.tickets import TranscriptLine
from bot.orders.model import normalise_order_number
from bot.understanding.asking import likely_topics, offers_topics, topic_buttons

logger = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"


class ActionHandoff(GuardedAction):
    """Hands off for the intents a person must handle (asked for, complaint, payment, ...)."""

    def name(self) -> str:
        """Rasa name."""
        return "action_handoff"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Picks the reason from the latest intent.

        A delivery problem puts on the ticket the order number of its own message (the
        last of its numbers that is one: "a 39 instead of a 38, order 10027" is 10027).
        """
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reason = reason_for_intent(intent) or HandoffReason.HUMAN_REQUEST
        if reason is not HandoffReason.DELIVERY_PROBLEM:
            return await hand_off(dispatcher, tracker, reason)
        number = delivery_order_number(tracker)
        events = await hand_off(dispatcher, tracker, reason, order_number=number)
        if number and number != tracker.get_slot("order_number"):
            events.append(SlotSet("order_number", number))
        return events


def delivery_order_number(tracker: Tracker) -> str | None:
    """The order a delivery problem is about: from its own message, else the one known."""
    written = [normalise_order_number(str(value))
               for value in tracker.get_latest_entity_values("order_number")]
    numbers = [number for number in written if number]
    if numbers:
        return numbers[-1]
    known = tracker.get_slot("order_number")
    return normalise_order_number(str(known)) if known else None


class ActionHandoffPaused(GuardedAction):
    """While a person owns the conversation: keep the message on the ticket, remind once."""

    def name(self) -> str:
        """Rasa name."""
        return "action_handoff_paused"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Stores the latest message on the open ticket; the first time only, a reminder."""
        services = get_services()
        text = conversation.latest_text(tracker)
        ticket = await asyncio.to_thread(
            services.tickets.add_customer_message,
            tracker.sender_id,
            TranscriptLine("customer", text, conversation.latest_time(tracker)),
        )
        if ticket is None:
            # The case was closed without the bot being told: never stay silent for good.
            logger.warning("conversation paused without an open ticket; resuming the bot")
            return [SlotSet("handoff_case", None), SlotSet("handoff_reminded", False),
                    FollowupAction("action_listen")]
        if tracker.get_slot("handoff_reminded"):
            return []
        dispatcher.utter_message(
            response="utter_handoff_reminder",
            **answer_time_values(ticket, services.clock(), tracker.get_slot("language")),
        )
        await asyncio.to_thread(services.tickets.mark_reminder_sent, ticket.case_number)
        return [SlotSet("handoff_reminded", True)]


class ActionFallback(GuardedAction):
    """Unsure: ask which of the likeliest topics was meant, or offer a person.

    The second miss in a row hands off.
    """

    def name(self) -> str:
        """Rasa name."""
        return "action_fallback"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Looks at the customer's previous message to tell a first miss from a second."""
        messages = conversation.user_events(tracker)
        previous_intents = [conversation.intent_of(event)[0] for event in messages[-2:-1]]
        if previous_intents == [FALLBACK_INTENT]:
            return await hand_off(dispatcher, tracker, HandoffReason.REPEATED_FALLBACK)
        titles = topic_titles(tracker.get_slot("language"))
        latest = tracker.latest_message or {}
        topics = likely_topics(latest.get("intent_ranking") or [], titles) \
            if offers_topics(latest) else []
        if topics:
            dispatcher.utter_message(response="utter_ask_which_topic",
                                     buttons=topic_buttons(topics, titles))
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []


def topic_titles(language: object) -> dict[str, str]:
    """The quick-reply title of each topic the bot can offer, in the conversation's language."""
    services = get_services()
    code = services.language_of(language)
    prefix = "topics."
    return {key.removeprefix(prefix): text
            for key, text in services.wording.words[code].items() if key.startswith(prefix)}
