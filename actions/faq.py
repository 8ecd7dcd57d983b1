"""Answers to product questions (size, care, materials, ...) from the brand's `faq.yml`.

When the bot cannot answer (no answer in faq.yml, out of scope) it offers a person; a "yes"
to that offer is the person asked for (`action_affirm`).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff_flow import GuardedAction, hand_off
from actions.services import get_services
from bot.app_context import Services
from bot.handoff.reasons import HandoffReason
from bot.settings import get_faq
from bot.settings.faq import topic_of_intent

PERSON_OFFERS = frozenset({"utter_faq_no_answer", "utter_out_of_scope"})
"""Responses that end by offering a person ("Shall I pass you to someone?")."""


def _response_before_latest_message(tracker: Tracker) -> str | None:
    """The response the bot sent just before the customer's latest message, if any."""
    seen_latest = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_latest:
                return None
            seen_latest = True
        elif kind == "bot" and seen_latest:
            metadata = event.get("metadata") or {}
            return metadata.get("utter_action") if isinstance(metadata, dict) else None
    return None


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
        topic's answer.
        """
        services = get_services()
        language = services.language_of(tracker.get_slot("language"))
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        topic = topic_of_intent(intent)
        answer = get_faq().answer(topic, language) if topic else None
        if answer is None:
            dispatcher.utter_message(response="utter_faq_no_answer")
            return []
        dispatcher.utter_message(
            response="utter_faq_answer", answer=answer.format(**_brand_facts(services, language))
        )
        return []


class ActionAffirm(GuardedAction):
    """A "yes" on its own: to a person just offered, the handoff; otherwise "what can I do?"."""

    def name(self) -> str:
        """Rasa name."""
        return "action_affirm"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Hands off when the bot's previous message offered a person."""
        if _response_before_latest_message(tracker) in PERSON_OFFERS:
            return await hand_off(dispatcher, tracker, HandoffReason.HUMAN_REQUEST)
        dispatcher.utter_message(response="utter_how_can_help")
        return []
