"""An honest holding message when the bot cannot answer a waiting customer itself.

Two moments need it. The bot is down (crashed, restarting, loading a model) while customers'
messages wait in the inbox: the webhook receiver, which stays up, runs `HoldingWatch`, and
after `holding_after` sends each waiting customer one message ("we've got your message; a
person will reply by …, case #…") in their language and opens the case; the bot answers
the waiting messages itself once it is back. Or one message failed or crashed the bot twice
and is quarantined: the same message and a case, so a person reads what it said.

A conversation that already has an open case is not told again: the case it has stands, and
the message goes on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.handoff.log_redaction import describe_failure
from bot.handoff.reasons import HandoffReason
from bot.handoff.tickets import HandoffRequest, Ticket, TicketService, TranscriptLine
from bot.language import Phrasing, Wording
from bot.messenger.channel_names import COMMENT_CHANNEL
from bot.messenger.event_types import CommentEvent, InboundEvent, StandbyEvent, event_time
from bot.messenger.graph_client import GraphClient
from bot.messenger.inbox import Inbox
from bot.messenger.outbox import OutboxLog
from bot.messenger.output import CHANNEL_NAME, MessengerOutput
from bot.messenger.responses import render
from bot.messenger.threads import ThreadStore
from bot.messenger.translate import to_rasa
from bot.settings import Brand

logger = logging.getLogger(__name__)

HOLDING_RESPONSE = "utter_holding_message"

_REMEMBERED = 10_000
"""Waiting events the watch remembers having handled (its memory stays bounded)."""


def customer_text(event: InboundEvent) -> str | None:
    """What the customer wrote (or did) in a message event, as an agent should read it."""
    if isinstance(event, CommentEvent):
        return event.message or None
    inner = event.inner if isinstance(event, StandbyEvent) else event
    rasa_input = to_rasa(inner)
    if rasa_input is None:
        return None
    return str(rasa_input.metadata.get("display_text") or rasa_input.text)


@dataclass
class HoldingReplies:
    """Opens the case of a waiting customer and tells them, once, in their language.

    Attributes:
        brand: the brand (languages, time zone).
        wording: the words Babel does not know, per language.
        responses: the domain's responses (`utter_holding_message`).
        tickets: the handoff tickets.
        graph: the page's Graph API client.
        outbox: where each outgoing message is recorded.
        threads: per-thread state (when the customer last wrote).
        language_of: the brand language a text is written in.
        clock: the current aware time.
    """

    brand: Brand
    wording: Wording
    responses: Mapping[str, list[dict[str, Any]]]
    tickets: TicketService
    graph: GraphClient
    outbox: OutboxLog
    threads: ThreadStore
    language_of: Callable[[str], str]
    clock: Callable[[], datetime]

    async def hold(self, event: InboundEvent, reason: HandoffReason) -> Ticket | None:
        """Opens the case for the event's customer and sends the holding message.

        Returns:
            The case opened, or None when the conversation already had one (the message is
            added to it) or the event is not a customer's message.
        """
        text = customer_text(event)
        if text is None:
            return None
        conversation = event.conversation_id
        line = TranscriptLine("customer", text, event_time(event))
        if await asyncio.to_thread(self.tickets.open_for_conversation, conversation):
            await asyncio.to_thread(self.tickets.add_customer_message, conversation, line)
            return None
        language = self.language_of(text)
        comment = isinstance(event, CommentEvent)
        ticket = await asyncio.to_thread(
            self.tickets.open_ticket,
            HandoffRequest(conversation_id=conversation,
                           channel=COMMENT_CHANNEL if comment else CHANNEL_NAME,
                           reason=reason, transcript=[line], language=language),
        )
        logger.warning("messenger: case #%s opened for a waiting customer (%s)",
                       ticket.case_number, reason.value)
        if not comment:
            await self._tell(event, ticket, language)
        return ticket

    async def _tell(self, event: InboundEvent, ticket: Ticket, language: str) -> None:
        """The holding message, inside the messaging window like every bot message."""
        psid = event.conversation_id
        now = self.clock()
        phrasing = Phrasing(self.wording, language, self.brand.timezone)
        text = render(self.responses, HOLDING_RESPONSE, {
            "case_number": str(ticket.case_number),
            "answer_time": phrasing.moment(ticket.expected_answer_at, now),
        }, language=language)
        state = await asyncio.to_thread(self.threads.get, psid)
        wrote_at = event_time(event)
        if state is not None and state.last_customer_message_at is not None:
            wrote_at = max(wrote_at, state.last_customer_message_at)
        output = MessengerOutput(self.graph, psid, wrote_at, self.outbox, clock=self.clock)
        await output.send_text_message(psid, text)


class HoldingWatch:
    """Runs in the webhook receiver: while the bot is down, waiting customers are told.

    Args:
        inbox: the durable inbox.
        holding: what tells a customer and opens the case.
        bot_ready: whether the bot (Rasa) answers its readiness URL now.
        hold_after: how long a message may wait while the bot is down.
        check_seconds: how often the watch looks.
        clock: the current aware time, the inbox's clock (its `received_at`): real time, even
            when the customer-facing clock is frozen for a demo or a test.
    """

    def __init__(
        self,
        inbox: Inbox,
        holding: HoldingReplies,
        bot_ready: Callable[[], Awaitable[bool]],
        hold_after: timedelta,
        check_seconds: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.inbox = inbox
        self.holding = holding
        self.bot_ready = bot_ready
        self.hold_after = hold_after
        self.check_seconds = check_seconds
        self.clock = clock
        self.held = 0
        self._looked_at: OrderedDict[str, None] = OrderedDict()

    async def run(self) -> None:
        """Looks every `check_seconds` until cancelled; a failed look is logged, not raised."""
        while True:
            await asyncio.sleep(self.check_seconds)
            try:
                await self.check_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the watch must outlive a bad moment
                logger.error("messenger: the holding watch failed (%s)", describe_failure(error))

    async def check_once(self) -> int:
        """One look: when the bot is down, tells each customer waiting too long. How many."""
        if await self.bot_ready():
            return 0
        cutoff = self.clock() - self.hold_after
        waiting = await asyncio.to_thread(self.inbox.waiting_since, cutoff)
        told = 0
        for event in waiting:
            if event.event_id in self._looked_at:
                continue  # told already (or added to its case) during this outage
            if await self.holding.hold(event, HandoffReason.BOT_UNAVAILABLE) is not None:
                told += 1
            self._looked_at[event.event_id] = None
            while len(self._looked_at) > _REMEMBERED:
                self._looked_at.popitem(last=False)
        self.held += told
        return told
