"""Answers to product questions (size, care, materials, ...) from the brand's `faq.yml`."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff_flow import GuardedAction
from actions.services import Services, get_services
from bot.settings import get_faq
from bot.settings.faq import topic_of_intent


def _brand_facts(services: Services, language: object) -> dict[str, Any]:
    """The brand.yml facts an answer may name (`bot.settings.faq.FAQ_PLACEHOLDERS`)."""
    brand = services.brand
    phrasing = services.phrasing(language)
    return {
        "brand_name": brand.name,
        "contact_email": brand.contact.email,
        "contact_phone": brand.contact.phone,
        "help_url": brand.contact.website,
        "return_window_days": brand.returns.window_days,
        "exchanges": brand.returns.exchanges.of(phrasing.language).rstrip("."),
        "free_shipping_threshold": phrasing.money(
            brand.shipping.free_shipping_threshold, brand.shipping.currency
        ),
    }


class ActionAnswerFaq(GuardedAction):
    """The brand's answer to the topic the customer asked about, or a person offered."""

    def name(self) -> str:
        """Rasa name."""
        return "action_answer_faq"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Answers the latest intent's topic in the conversation's language.

        A topic the brand gives no answer to (or a latest intent that is no FAQ topic) gets
        the honest "a person can answer that" with the handoff offered: never another
        topic's answer. `faq_answered` tells the rules which it was (a "yes" after the offer
        hands off).
        """
        services = get_services()
        language = services.language_of(tracker.get_slot("language"))
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        topic = topic_of_intent(intent)
        answer = get_faq().answer(topic, language) if topic else None
        if answer is None:
            dispatcher.utter_message(response="utter_faq_no_answer")
            return [SlotSet("faq_answered", False)]
        dispatcher.utter_message(
            response="utter_faq_answer", answer=answer.format(**_brand_facts(services, language))
        )
        return [SlotSet("faq_answered", True)]
