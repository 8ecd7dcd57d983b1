"""Handing a conversation to a person, and the guard that does it when an action fails.

Every path to a person goes through `hand_off`: it opens the ticket (with transcript and
summary), tells the customer honestly when a person will answer and their case number,
stops any form, and pauses the bot through the `handoff_case` slot.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import conversation
from actions.services import get_services
from bot.handoff.reasons import HandoffReason
from bot.handoff.tickets import HandoffRequest, Ticket

logger = logging.getLogger(__name__)


def answer_time_values(ticket: Ticket, now: datetime, language: object) -> dict[str, Any]:
    """The values the handoff responses need: case number and when a person answers.

    The answer time is phrased in the conversation's language ("domani alle 9:00").
    """
    services = get_services()
    return {
        "case_number": ticket.case_number,
        "answer_time": services.phrasing(language).moment(ticket.expected_answer_at, now),
        "minutes": services.brand.answer_within_minutes_when_open,
    }


async def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: HandoffReason,
    *, order_number: str | None = None,
) -> list[EventType]:
    """Opens (or joins) the conversation's ticket, tells the customer, pauses the bot.

    `order_number` goes on the ticket instead of the `order_number` slot's (a delivery
    problem names its order in the very message that hands off).
    """
    services = get_services()
    now = services.clock()
    events = await asyncio.to_thread(conversation.session_events, tracker, services.engine)
    ticket = await asyncio.to_thread(
        services.tickets.open_ticket,
        HandoffRequest(
            conversation_id=tracker.sender_id,
            channel=conversation.channel_of(tracker),
            reason=reason,
            transcript=conversation.transcript(events, hide=conversation.proofs_given(events)),
            customer_name=tracker.get_slot("first_name"),
            language=services.language_of(tracker.get_slot("language")),
            order_number=order_number or tracker.get_slot("order_number"),
            intents_seen=conversation.intents_seen(tracker),
            status_told=conversation.status_told(events),
        ),
    )
    logger.info(
        "handoff: case #%s reason=%s priority=%s",
        ticket.case_number,
        ticket.reason.value,
        ticket.priority.value,
    )
    dispatcher.utter_message(response=f"utter_handoff_ack_{reason.value}")
    soon = services.tickets.answers_soon(ticket, now)
    dispatcher.utter_message(
        response="utter_handoff_open_now" if soon else "utter_handoff_after_hours",
        **answer_time_values(ticket, now, tracker.get_slot("language")),
    )
    return [
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        SlotSet("handoff_case", str(ticket.case_number)),
        SlotSet("handoff_reminded", False),
    ]


async def hand_off_after_error(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType]:
    """Hands off for a technical error; if even that fails, points the customer to e-mail."""
    dispatcher.messages.clear()
    try:
        return await hand_off(dispatcher, tracker, HandoffReason.ACTION_ERROR)
    except Exception:  # noqa: BLE001 - the ticket store itself is down
        logger.exception("handoff after a failed action failed too")
        dispatcher.messages.clear()
        dispatcher.utter_message(
            response="utter_technical_problem", contact_email=get_services().brand.contact.email
        )
        return [ActiveLoop(None), SlotSet("requested_slot", None)]


class GuardedAction(Action, abc.ABC):
    """An action that hands the conversation to a person if it fails, instead of going silent."""

    @abc.abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """The action's own work."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Runs `act`; on any error, logs it (redacted) and hands off."""
        try:
            return await self.act(dispatcher, tracker, domain)
        except Exception:  # noqa: BLE001 - every failure must reach a person, not the void
            logger.exception("action %s failed; handing off", self.name())
            return await hand_off_after_error(dispatcher, tracker)
