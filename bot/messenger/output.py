"""Rasa's answers sent to a Messenger thread through the Send API, inside the window rules.

`MessengerOutput` is the Rasa `OutputChannel` of one processed event. Every message first
passes the messaging window (`bot.messenger.window`): a bot message more than 24 hours after
the customer's last message is stored as undeliverable, never sent; an agent's message after
24 hours carries the HUMAN_AGENT tag and past 7 days is refused. Every outcome is written to
the outbox. A send that finally fails (after the client's retries) is counted in `failures`
so the caller can hand the conversation to a person; it never stops the rest of the answer.

With a `SendLedger` and the inbound event's id, every message is recorded against its
position in the answer before it is sent, and an answer computed again after a crash sends
only the positions that were not sent (`bot.messenger.send_ledger`).

Rasa buttons become quick replies (Messenger's chips), or a button template when one of them
opens a URL; the custom payload ``{"order_card": {...}}`` becomes a generic template.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from rasa.core.channels.channel import OutputChannel

from bot.messenger.channel_names import CHANNEL_NAME
from bot.messenger.graph_client import GraphClient
from bot.messenger.graph_errors import GraphSendError, failure_kind
from bot.messenger.graph_limits import MAX_BUTTONS, MEDIA_TYPES
from bot.messenger.outbox import OutboxLog
from bot.messenger.send_ledger import SendLedger
from bot.messenger.window import MessagingWindow, Sender
from bot.observability.metrics import count_send_failure
from bot.store import session_scope

logger = logging.getLogger(__name__)



def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class MessengerOutput(OutputChannel):
    """Sends one conversation's messages to Messenger and records each outcome.

    Args:
        graph: the page's Graph API client.
        psid: the customer's page-scoped id.
        last_customer_message_at: when the customer last wrote (None: never).
        outbox: where outcomes are recorded.
        sender: "bot" (Rasa's answers) or "agent" (a person of the brand).
        window: the messaging window rules.
        clock: the current aware time; for tests.
        ledger: records each message against `event_id` and its position (exactly once).
        event_id: the inbound event this answer is for.
        again: True when the event was tried before: positions the ledger holds as done
            are skipped, and one left 'sending' is sent again only if Graph shows it did
            not land.
        before_sending: what must reach the customer before the first message (the seen
            mark and the typing bubble, sent while Rasa works out the answer).
    """

    def __init__(
        self,
        graph: GraphClient,
        psid: str,
        last_customer_message_at: datetime | None,
        outbox: OutboxLog,
        *,
        sender: Sender = "bot",
        window: MessagingWindow | None = None,
        clock: Callable[[], datetime] = _utc_now,
        ledger: SendLedger | None = None,
        event_id: str | None = None,
        again: bool = False,
        before_sending: Awaitable[None] | None = None,
    ) -> None:
        self.graph = graph
        self.psid = psid
        self.last_customer_message_at = last_customer_message_at
        self.outbox = outbox
        self.sender = sender
        self.window = window or MessagingWindow()
        self.clock = clock
        self.sent = 0
        self.failures = 0
        self.held_back = 0
        self.skipped = 0
        self.last_reason: str | None = None
        self.ledger = ledger if event_id else None
        self.event_id = event_id or ""
        self.again = again
        self._position = 0
        self._before_sending = before_sending

    @classmethod
    def name(cls) -> str:
        """The channel name Rasa records on the conversation."""
        return CHANNEL_NAME

    # ------------------------------------------------------------ Rasa's hooks

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """A plain text (split at Messenger's 2000 characters by the client)."""
        if not text or not text.strip():
            return
        await self._deliver(
            "text",
            {"text": text},
            lambda tag, kind: self.graph.send_text(
                self.psid, text, tag=tag, messaging_type=kind
            ),
        )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Rasa buttons: quick replies, or a button template when a button opens a URL."""
        if any(button.get("url") for button in buttons):
            template = [_template_button(button) for button in buttons[:MAX_BUTTONS]]
            await self._deliver(
                "buttons",
                {"text": text, "buttons": template},
                lambda tag, kind: _one(
                    self.graph.send_buttons(
                        self.psid, text, template, tag=tag, messaging_type=kind
                    )
                ),
            )
            return
        replies = [
            (str(button.get("title") or ""), str(button.get("payload") or button.get("title")))
            for button in buttons
            if button.get("title")
        ]
        await self._deliver(
            "quick_replies",
            {"text": text, "quick_replies": replies},
            lambda tag, kind: self.graph.send_text(
                self.psid, text, replies or None, tag=tag, messaging_type=kind
            ),
        )

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Quick replies given as such in a response."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """An image by URL."""
        await self._send_media("image", image)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        """A media attachment ``{"type": "image", "url": ...}`` or a URL (sent as a file)."""
        if isinstance(attachment, dict):
            media_type = str(attachment.get("type") or "file")
            url = str(attachment.get("url") or (attachment.get("payload") or {}).get("url") or "")
        else:
            media_type, url = "file", str(attachment)
        if media_type not in MEDIA_TYPES or not url:
            logger.warning("attachment of type %s without a URL not sent", media_type)
            return
        await self._send_media(media_type, url)

    async def send_elements(
        self, recipient_id: str, elements: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Carousel elements: each sent as a card with its first URL button."""
        for element in elements:
            url = next(
                (b.get("url") for b in element.get("buttons") or [] if b.get("url")), None
            )
            if url and element.get("title"):
                await self._order_card(
                    {
                        "title": element["title"],
                        "subtitle": element.get("subtitle") or "",
                        "image_url": element.get("image_url"),
                        "tracking_url": url,
                    }
                )

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Our custom payloads; others are not meant for Messenger and are skipped."""
        card = json_message.get("order_card") if isinstance(json_message, dict) else None
        if isinstance(card, dict) and card.get("tracking_url") and card.get("title"):
            await self._order_card(card)
        else:
            logger.debug("custom payload without a Messenger rendering skipped")

    # -------------------------------------------------------------- plumbing

    async def _order_card(self, card: dict[str, Any]) -> None:
        await self._deliver(
            "order_card",
            {"order_card": card},
            lambda tag, kind: _one(
                self.graph.send_order_card(
                    self.psid,
                    str(card["title"]),
                    str(card.get("subtitle") or ""),
                    card.get("image_url") or None,
                    str(card["tracking_url"]),
                    button_title=str(card.get("button_title") or "Track order"),
                    tag=tag,
                    messaging_type=kind,
                )
            ),
        )

    async def _send_media(self, media_type: str, url: str) -> None:
        await self._deliver(
            media_type,
            {"attachment": {"type": media_type, "url": url}},
            lambda tag, kind: _one(
                self.graph.send_media(self.psid, media_type, url, tag=tag, messaging_type=kind)
            ),
        )

    async def _deliver(
        self,
        kind: str,
        body: dict[str, Any],
        send: Callable[[str | None, str], Awaitable[list[str]]],
    ) -> bool:
        """Applies the window, sends, records the outcome. True when it was sent."""
        position, self._position = self._position, self._position + 1
        if self._before_sending is not None:
            before, self._before_sending = self._before_sending, None
            await before
        if self.ledger is not None:
            done = await self._done_before(position)
            if done is not None:
                self.skipped += 1
                return done
            text = body.get("text")
            await asyncio.to_thread(self.ledger.begin, self.event_id, position,
                                    text if isinstance(text, str) else None)
        outcome, ids, entry = await self._window_and_send(kind, body, send)
        await asyncio.to_thread(self._record, position, outcome, ids, entry)
        return outcome == "sent"

    def _record(self, position: int, outcome: str, ids: list[str],
                entry: dict[str, Any]) -> None:
        """The outbox's entry and the ledger's outcome of one message, in one transaction."""
        ledger = self.ledger
        if ledger is not None and ledger.engine is not self.outbox.engine:  # kept apart
            self.outbox.record(self.psid, sender=self.sender, **entry)
            ledger.finish(self.event_id, position, outcome, ids)
            return
        with session_scope(self.outbox.engine) as session:
            session.add(self.outbox.new_row(self.psid, sender=self.sender, **entry))
            if ledger is not None:
                session.execute(ledger.finish_statement(self.event_id, position, outcome, ids))

    async def _done_before(self, position: int) -> bool | None:
        """For an event tried before: whether this position was sent (None: send it now)."""
        if not self.again or self.ledger is None:
            return None
        previous = await asyncio.to_thread(self.ledger.get, self.event_id, position)
        if previous is None:
            return None
        if previous.final:
            return previous.status == "sent"
        # 'sending': the process died between the Send API call and its record; look for
        # the words that were being sent (the answer computed again may word it otherwise)
        text = previous.text
        landed = None
        if text:
            landed = await self.graph.text_landed(self.psid, text,
                                                  previous.started_at.timestamp())
        if landed:
            logger.info("messenger: a message interrupted by a crash had landed; not resent")
            await asyncio.to_thread(self.ledger.finish, self.event_id, position, "sent")
            return True
        logger.info("messenger: a message interrupted by a crash %s; sending it",
                    "did not land" if landed is False else "may not have landed")
        return None

    async def _window_and_send(
        self,
        kind: str,
        body: dict[str, Any],
        send: Callable[[str | None, str], Awaitable[list[str]]],
    ) -> tuple[str, list[str], dict[str, Any]]:
        """Applies the window and sends: the outcome, the message ids, the outbox's entry."""
        if self.last_customer_message_at is None:
            outcome, tag = "undeliverable", None
            reason = "the customer has not written in Messenger yet"
            if self.sender == "agent":
                outcome = "refused"
        else:
            decision = self.window.decide(self.last_customer_message_at, self.clock(), self.sender)
            outcome, tag, reason = decision.outcome, decision.tag, decision.reason
        if outcome != "send":
            self.held_back += 1
            count_send_failure("undeliverable")
            self.last_reason = reason
            logger.info("messenger: %s message not sent: %s", self.sender, outcome)
            return outcome, [], {"kind": kind, "body": body, "status": outcome,
                                 "reason": reason}
        try:
            ids = await send(tag, "MESSAGE_TAG" if tag else "RESPONSE")
        except GraphSendError as error:
            self.failures += 1
            count_send_failure(failure_kind(error))
            self.last_reason = str(error)
            logger.error("messenger: %s message could not be sent: %s", self.sender, error)
            sent_ids = list(error.sent_message_ids or [])
            return "failed", sent_ids, {"kind": kind, "body": body, "status": "failed",
                                        "tag": tag, "reason": str(error),
                                        "message_ids": sent_ids or None}
        self.sent += 1
        return "sent", ids, {"kind": kind, "body": body, "status": "sent", "tag": tag,
                             "message_ids": ids}


async def _one(call: Awaitable[str]) -> list[str]:
    """A single message id as a list."""
    return [await call]


def _template_button(button: dict[str, Any]) -> dict[str, Any]:
    """A Rasa button as a Messenger template button."""
    title = str(button.get("title") or "")
    if button.get("url"):
        return {"type": "web_url", "title": title, "url": str(button["url"])}
    return {"type": "postback", "title": title, "payload": str(button.get("payload") or title)}
