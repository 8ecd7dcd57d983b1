"""Order status: the form that collects order number and proof, and the status answer.

Nothing about an order is said before the proof matches; a mismatch and an unknown order
number look the same to the customer. Failed proofs are limited by `bot.orders.proof`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import conversation
from actions.handoff_flow import GuardedAction, hand_off, hand_off_after_error
from actions.services import get_services
from bot.handoff.reasons import HandoffReason
from bot.orders import ProofOutcome, normalise_order_number
from bot.orders.model import OrderStatus
from bot.orders.presentation import status_response

logger = logging.getLogger(__name__)

_ORDER_NUMBER_IN_TEXT = re.compile(r"(?<![\w@.])#?\s?(\d{4,8})(?![\w@])")


def _order_number_in(text: str) -> str | None:
    """The order number in a slot value: the value itself, or the one number in a sentence."""
    number = normalise_order_number(text)
    if number is not None:
        return number
    found = _ORDER_NUMBER_IN_TEXT.findall(text)
    return found[0] if len(found) == 1 else None


_BARE_ANSWER = re.compile(r"^\s*(?:#\s*)?([A-Za-z0-9][A-Za-z0-9 -]{2,9})\s*[.!]?\s*$")


class ValidateOrderStatusForm(FormValidationAction):
    """Validates the order number, tells a postcode from an order number, checks the proof."""

    def name(self) -> str:
        """Rasa name."""
        return "validate_order_status_form"

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        """Normalises "#10023"; a bare number typed when the postcode was asked is the postcode."""
        previous = conversation.slot_before_latest_message(tracker, "order_number")
        asked_for_proof = tracker.get_slot("requested_slot") == "proof"
        bare = _BARE_ANSWER.match(conversation.latest_text(tracker))
        if asked_for_proof and previous and bare and not tracker.get_slot("proof"):
            if normalise_order_number(bare.group(1)) == previous:
                return {"order_number": previous}  # the number again: not a proof
            return {"order_number": previous, "proof": bare.group(1).strip()}
        number = _order_number_in(str(value))
        if number is None:
            dispatcher.utter_message(response="utter_invalid_order_number")
            return {"order_number": None}
        return {"order_number": number}

    def validate_proof(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        """Keeps the proof as typed; a bare order number typed when it was asked is the number.

        The order's own number typed again at the proof prompt ("10023", "it's #10023") is no
        proof, so no failed one: the customer is told what is needed. The proof itself is
        checked once both slots are known.
        """
        text = str(value).strip()
        asked_for_number = tracker.get_slot("requested_slot") == "order_number"
        if asked_for_number and not tracker.get_slot("order_number"):
            number = normalise_order_number(text)
            if number is not None and _BARE_ANSWER.match(conversation.latest_text(tracker)):
                return {"proof": None, "order_number": number}
        known = (conversation.slot_before_latest_message(tracker, "order_number")
                 or tracker.get_slot("order_number"))
        if known and _order_number_in(text) == known and "@" not in text:
            # the order number typed again at the proof prompt: not a (failed) proof
            dispatcher.utter_message(response="utter_proof_is_the_order_number")
            return {"proof": None}
        return {"proof": text or None}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        """Per-slot validation, then the ownership check when number and proof are both there."""
        events = await super().get_validation_events(dispatcher, tracker, domain)
        number = tracker.slots.get("order_number")
        proof = tracker.slots.get("proof")
        if not number or not proof or tracker.slots.get("verified_order") == number:
            return events
        verifier = get_services().verifier
        try:
            result = await verifier.verify(tracker.sender_id, number, proof)
        except Exception:  # noqa: BLE001 - shop or database down: a person takes over
            logger.exception("ownership check failed; handing off")
            return await hand_off_after_error(dispatcher, tracker)
        if result.outcome is ProofOutcome.VERIFIED:
            return [*events, SlotSet("verified_order", number), SlotSet("proof_locked", False)]
        if result.outcome is ProofOutcome.LOCKED:
            return [*events, SlotSet("proof_locked", True)]
        dispatcher.utter_message(
            response="utter_proof_mismatch", attempts_left=result.attempts_left
        )
        return [*events, SlotSet("proof", None), SlotSet("verified_order", None)]


CARD_STATUSES = frozenset(
    {OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELAYED,
     OrderStatus.PARTIALLY_SHIPPED}
)
"""Statuses whose answer comes with an order card (a parcel with a tracking link)."""


class ActionOrderStatus(GuardedAction):
    """Tells the status of the verified order, or hands off when the proofs ran out."""

    def name(self) -> str:
        """Rasa name."""
        return "action_order_status"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Looks the order up again (fresh status) and explains it in words."""
        number = tracker.get_slot("order_number")
        if tracker.get_slot("proof_locked"):
            return [
                *await hand_off(dispatcher, tracker, HandoffReason.FAILED_PROOF),
                SlotSet("proof", None),
                SlotSet("proof_locked", False),
            ]
        if not number or tracker.get_slot("verified_order") != number:
            # The form never completes without a verified order; refuse to disclose anyway.
            dispatcher.utter_message(response="utter_ask_order_number")
            return [SlotSet("proof", None)]
        services = get_services()
        order = await services.orders.get_order(number)
        if order is None:
            raise LookupError("a verified order disappeared from the back end")
        response, values = status_response(
            order, services.brand, services.clock(),
            services.phrasing(tracker.get_slot("language")),
        )
        dispatcher.utter_message(response=response, **values)
        if order.tracking_url and order.status in CARD_STATUSES:
            # Messenger and the web chat show it as a card with a tracking button
            dispatcher.utter_message(response="utter_order_card", **values)
        return []
