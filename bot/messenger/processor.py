"""Processing one claimed inbox event: the bot's answer, comments, thread control.

* Customer messages (text, quick replies, postbacks, attachments, referrals) go to Rasa with
  a `MessengerOutput` while `mark_seen` and `typing_on` are sent (the answer's first message
  waits for them), with the customer's first name
  from their Graph profile in the metadata (while a case is open, Rasa's pause policy puts
  the message on the ticket instead of answering). When a reply finally cannot be sent, the
  conversation is
  handed to a person (a ticket, and the bot paused). When the dialogue handed off, thread
  control passes to the page inbox so a person owns the thread.
* Standby events (a person owns the thread) put the customer's messages on the ticket.
* Handover events record who owns the thread; when it comes back to us, the case is handed
  back and the bot resumes.
* Comments follow `bot.messenger.comments`.
Reactions are recorded by the inbox and not answered.

Exactly once. An event tried before (its process died during the turn) is first looked up in
Rasa's tracker: when the tracker holds its user message, the turn ran to the end and
nothing is done again. Otherwise the turn runs again and the send ledger lets through only
the messages that were not sent. A quarantined event (`quarantined`) goes to a person with
what it said, and the customer gets a holding message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.handoff.first_names import first_name_or_none
from bot.handoff.rasa_handback import RasaUnavailableError, pause_bot, resume_bot
from bot.handoff.reasons import HandoffReason
from bot.handoff.tickets import HandoffRequest, TicketService, TranscriptLine
from bot.messenger import comments
from bot.messenger.channel_names import COMMENT_CHANNEL
from bot.messenger.event_types import (
    AttachmentMessageEvent,
    CommentEvent,
    EventKind,
    HandoverAction,
    HandoverEvent,
    InboundEvent,
    MessagingEvent,
    StandbyEvent,
    TextMessageEvent,
    event_time,
)
from bot.messenger.graph_client import GraphClient
from bot.messenger.graph_errors import GraphSendError, failure_kind
from bot.messenger.graph_limits import PAGE_INBOX_APP_ID
from bot.messenger.holding import HoldingReplies, customer_text
from bot.messenger.inbox import ClaimedEvent
from bot.messenger.outbox import OutboxLog
from bot.messenger.output import CHANNEL_NAME, MessengerOutput
from bot.messenger.responses import render
from bot.messenger.send_ledger import SendLedger
from bot.messenger.threads import ThreadOwner, ThreadStore
from bot.messenger.translate import to_rasa
from bot.messenger.window import STANDARD_WINDOW
from bot.observability.metrics import count_send_failure
from bot.settings import Brand, Settings

logger = logging.getLogger(__name__)


OPENS_WINDOW = frozenset({EventKind.TEXT, EventKind.POSTBACK, EventKind.ATTACHMENT,
                          EventKind.REFERRAL})
"""Customer actions that open (or keep open) the 24-hour window."""


@dataclass
class MessengerContext:
    """What processing needs; built once per Rasa process by the channel.

    Attributes:
        settings: the process settings.
        brand: the brand's facts (names for replies).
        graph: the page's Graph API client.
        threads: per-thread state.
        outbox: outgoing message log.
        tickets: handoff tickets.
        handle_message: Rasa's `on_new_message`.
        parse: Rasa's NLU for one text (intent and confidence), for comments.
        responses: the domain's responses, for the replies the channel sends itself.
        clock: the current aware time.
        language_of: the brand language a text is written in (comments have no conversation
            language of their own); the brand's default language when not given.
        ledger: each reply recorded against its event and position (exactly once).
        tracker_holds: whether Rasa's tracker of a conversation holds a user message id.
        holding: tells a customer whose message cannot be processed, and opens the case.
    """

    settings: Settings
    brand: Brand
    graph: GraphClient
    threads: ThreadStore
    outbox: OutboxLog
    tickets: TicketService
    handle_message: Callable[[UserMessage], Awaitable[Any]]
    parse: Callable[[str], Awaitable[Mapping[str, Any]]]
    responses: Callable[[], Mapping[str, list[dict[str, Any]]]]
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    language_of: Callable[[str], str] | None = None
    ledger: SendLedger | None = None
    tracker_holds: Callable[[str, str], Awaitable[bool]] | None = None
    holding: HoldingReplies | None = None


class EventProcessor:
    """Handles one event at a time; the inbox guarantees per-conversation order."""

    def __init__(self, context: MessengerContext) -> None:
        self.context = context

    async def process(self, event: InboundEvent, tried_before: int = 0) -> bool:
        """Does what the event asks for; True when the bot sent the customer a reply.

        Raises on errors worth retrying (Graph, database).

        Args:
            event: the claimed event.
            tried_before: how many earlier tries failed or were cut short by a crash.
        """
        if isinstance(event, CommentEvent):
            await self._comment(event)
        elif isinstance(event, HandoverEvent):
            await self._handover(event)
        elif isinstance(event, StandbyEvent):
            await self._standby(event)
        elif isinstance(event, MessagingEvent):
            return await self._customer_event(event, tried_before > 0)
        else:
            logger.info("messenger: %s event not handled", event.kind.value)
        return False

    async def quarantined(self, claimed: ClaimedEvent) -> None:
        """An event that failed or crashed the bot twice: a person gets it, with its text."""
        holding = self.context.holding
        if holding is None:
            logger.error("messenger: a quarantined event has no one to go to")
            return
        await holding.hold(claimed.event, HandoffReason.UNPROCESSABLE_MESSAGE)

    # ------------------------------------------------------ customer messages

    async def _customer_event(self, event: MessagingEvent, again: bool = False) -> bool:
        ctx = self.context
        psid, at = event.sender_id, event_time(event)
        state = None
        if event.kind in OPENS_WINDOW:
            state = await asyncio.to_thread(ctx.threads.customer_wrote, psid, event.page_id, at)
        rasa_input = to_rasa(event)
        if rasa_input is None:
            return False
        if again and ctx.tracker_holds is not None and await ctx.tracker_holds(
            psid, event.event_id
        ):
            logger.info("messenger: the turn of an interrupted event had finished; not run "
                        "again")
            return False
        if state is None:
            state = await asyncio.to_thread(ctx.threads.get, psid)
        if state is not None and state.owner is ThreadOwner.PERSON:
            # Meta sends `messaging` only to the thread's owner: control came back to us
            # without a handover event. The pause policy still keeps the bot quiet while a
            # case is open.
            logger.info("messenger: thread control is ours again")
            await asyncio.to_thread(ctx.threads.set_owner, psid, event.page_id, ThreadOwner.BOT)
        fresh = ctx.clock() - at < STANDARD_WINDOW
        # the seen mark and the typing bubble go out while Rasa works out the answer; the
        # answer's first message waits for them
        presence = asyncio.ensure_future(self._show_presence(psid)) if fresh else None
        try:
            metadata = dict(rasa_input.metadata)
            name = await self._first_name(psid) if fresh else None
            if name:
                metadata["first_name"] = name
            output = MessengerOutput(
                ctx.graph, psid, state.last_customer_message_at if state else at, ctx.outbox,
                clock=ctx.clock, ledger=ctx.ledger, event_id=event.event_id, again=again,
                before_sending=presence,
            )
            await ctx.handle_message(
                UserMessage(
                    rasa_input.text, output, psid, input_channel=CHANNEL_NAME,
                    metadata=metadata, message_id=event.event_id,
                )
            )
        finally:
            if presence is not None:
                await presence  # sent, or logged as not shown: never left running
        if output.failures:
            await self._delivery_failed(psid, event, metadata.get("display_text") or
                                        rasa_input.text, name)
        elif not (output.sent or output.held_back or output.skipped):
            await self._silent_turn(psid, event)
        await self._pass_to_person_if_handed_off(psid, event.page_id)
        return output.sent > 0

    async def _silent_turn(self, psid: str, event: MessagingEvent) -> None:
        """The dialogue gave no answer (an action failed): a person takes over, never silence.

        While a case is open the bot is paused and silent on purpose; otherwise the customer
        gets the holding message and a case is opened.
        """
        ctx = self.context
        if ctx.holding is None:
            return
        if await asyncio.to_thread(ctx.tickets.open_for_conversation, psid) is not None:
            return
        logger.error("messenger: the bot's turn gave no answer (an action failed?); a person "
                     "takes over")
        await ctx.holding.hold(event, HandoffReason.ACTION_ERROR)

    async def _first_name(self, psid: str) -> str | None:
        """The customer's first name from Graph (cached), when it looks like a first name.

        None when Graph will not say, or when the profile's name is not one to greet by
        (an e-mail, a shop's name, a greeting: see `first_name_or_none`).
        """
        try:
            profile = await self.context.graph.user_profile(psid)
        except GraphSendError as error:
            logger.warning("messenger: profile not available: %s", error)
            return None
        return first_name_or_none(str(profile.get("first_name") or ""))

    async def _show_presence(self, psid: str) -> None:
        """The customer sees their message read and the bot typing (in that order)."""
        await self._sender_action(psid, "mark_seen")
        await self._sender_action(psid, "typing_on")

    async def _sender_action(self, psid: str, action: str) -> None:
        """A sender action; failing is not worth more than a log line."""
        try:
            await self.context.graph.sender_action(psid, action)
        except GraphSendError as error:
            logger.info("messenger: %s not shown: %s", action, error)

    async def _to_ticket(self, psid: str, event: InboundEvent) -> None:
        """A customer message while a person owns the thread goes on the open ticket."""
        text = customer_text(event)
        if text is None:
            return
        ticket = await asyncio.to_thread(
            self.context.tickets.add_customer_message,
            psid, TranscriptLine("customer", text, event_time(event)),
        )
        if ticket is None:
            logger.info("messenger: message while a person owns the thread, no open case")

    async def _delivery_failed(
        self, psid: str, event: InboundEvent, text: str, name: str | None
    ) -> None:
        """The customer did not get the answer: a person must pick the conversation up."""
        ctx = self.context
        ticket = await asyncio.to_thread(
            ctx.tickets.open_ticket,
            HandoffRequest(
                conversation_id=psid, channel=CHANNEL_NAME,
                reason=HandoffReason.DELIVERY_FAILED,
                transcript=[TranscriptLine("customer", text, event_time(event))],
                customer_name=name, language=self._language_of(text),
            ),
        )
        logger.warning("messenger: reply not delivered; case #%s opened", ticket.case_number)
        try:
            await pause_bot(ctx.settings.rasa_url, ctx.settings.rasa_auth_token, psid,
                            ticket.case_number)
        except RasaUnavailableError as error:
            logger.error("messenger: could not pause the bot for case #%s: %s",
                         ticket.case_number, error)

    async def _pass_to_person_if_handed_off(self, psid: str, page_id: str) -> None:
        """After a handoff, the page inbox (a person) gets thread control."""
        ctx = self.context
        ticket = await asyncio.to_thread(ctx.tickets.open_for_conversation, psid)
        if ticket is None:
            return
        state = await asyncio.to_thread(ctx.threads.get, psid)
        if state is not None and state.owner is ThreadOwner.PERSON:
            return
        try:
            await ctx.graph.pass_thread_control(
                psid, PAGE_INBOX_APP_ID, metadata=f"nightdesk case #{ticket.case_number}"
            )
        except GraphSendError as error:
            logger.error("messenger: thread control not passed for case #%s: %s",
                         ticket.case_number, error)
            return
        await asyncio.to_thread(
            ctx.threads.set_owner, psid, page_id, ThreadOwner.PERSON, str(PAGE_INBOX_APP_ID)
        )

    # ------------------------------------------------------- thread control

    async def _standby(self, event: StandbyEvent) -> None:
        """Another app owns the thread: customer messages go on the ticket."""
        inner = event.inner
        if not isinstance(inner, (TextMessageEvent, AttachmentMessageEvent)):
            return
        psid = inner.sender_id
        await asyncio.to_thread(
            self.context.threads.customer_wrote, psid, event.page_id, event_time(inner)
        )
        await asyncio.to_thread(
            self.context.threads.set_owner, psid, event.page_id, ThreadOwner.PERSON, None
        )
        await self._to_ticket(psid, inner)

    def _is_ours(self, app_id: str | None) -> bool:
        """Whether an app id is this bot's app."""
        ours = self.context.settings.messenger.app_id
        if ours:
            return app_id == ours
        return app_id is not None and app_id != str(PAGE_INBOX_APP_ID)

    async def _handover(self, event: HandoverEvent) -> None:
        """Records who owns the thread; back to us means the case is handed back."""
        ctx = self.context
        psid = event.sender_id
        if event.action is HandoverAction.REQUEST:
            logger.info("messenger: another app asked for thread control")
            return
        if not self._is_ours(event.new_owner_app_id):
            await asyncio.to_thread(
                ctx.threads.set_owner, psid, event.page_id, ThreadOwner.PERSON,
                event.new_owner_app_id,
            )
            return
        await asyncio.to_thread(
            ctx.threads.set_owner, psid, event.page_id, ThreadOwner.BOT, event.new_owner_app_id
        )
        ticket = await asyncio.to_thread(ctx.tickets.open_for_conversation, psid)
        if ticket is None:
            return
        await asyncio.to_thread(ctx.tickets.hand_back, ticket.case_number, "page inbox")
        await resume_bot(ctx.settings.rasa_url, ctx.settings.rasa_auth_token, psid)
        logger.info("messenger: case #%s handed back from the page inbox", ticket.case_number)

    # -------------------------------------------------------------- comments

    async def _comment(self, event: CommentEvent) -> None:
        """Answers, thanks, flags or escalates a public comment."""
        ctx = self.context
        intent, confidence = None, 0.0
        if event.message and event.message.strip() and not event.from_page:
            parsed = await ctx.parse(event.message)
            intent = (parsed.get("intent") or {}).get("name")
            confidence = float((parsed.get("intent") or {}).get("confidence") or 0.0)
        action = comments.decide(event, intent, confidence)
        logger.info("messenger: comment -> %s", action.value)
        if action is comments.CommentAction.IGNORE:
            return
        name = comments.first_name(event)
        language = self._language_of(event.message or "")
        if action is comments.CommentAction.ESCALATE:
            await self._comment_ticket(event, HandoffReason.ABUSE, name, language)
            return
        values = {"first_name": name, "bot_name": ctx.brand.bot_name,
                  "brand_name": ctx.brand.name}
        if action is comments.CommentAction.THANK:
            await self._public_reply(event, render(ctx.responses(), "utter_comment_thanks",
                                                   values, language=language))
            return
        await self._public_reply(
            event, render(ctx.responses(), "utter_comment_public_reply", values,
                          language=language)
        )
        flagged = action is comments.CommentAction.ANSWER_AND_FLAG
        private = (
            "utter_comment_private_reply_flagged" if flagged else "utter_comment_private_reply"
        )
        await self._private_reply(event, render(ctx.responses(), private, values,
                                                language=language))
        if flagged:
            await self._comment_ticket(event, HandoffReason.PERSONAL_DATA_IN_COMMENT, name,
                                       language)

    def _language_of(self, text: str) -> str:
        """The language a comment (or a message outside the dialogue) is written in."""
        ctx = self.context
        return ctx.language_of(text) if ctx.language_of else ctx.brand.language

    async def _comment_ticket(
        self, event: CommentEvent, reason: HandoffReason, name: str | None, language: str
    ) -> None:
        ctx = self.context
        ticket = await asyncio.to_thread(
            ctx.tickets.open_ticket,
            HandoffRequest(
                conversation_id=event.conversation_id, channel=COMMENT_CHANNEL, reason=reason,
                transcript=[TranscriptLine("customer", event.message or "", event_time(event))],
                customer_name=name, language=language,
            ),
        )
        logger.info("messenger: comment case #%s (%s)", ticket.case_number, reason.value)

    async def _already_sent(self, event: CommentEvent, kind: str) -> bool:
        """Whether this reply went out on an earlier attempt (no second public reply)."""
        entries = await asyncio.to_thread(
            self.context.outbox.for_conversation, event.conversation_id
        )
        return any(e.kind == kind and e.status == "sent" for e in entries)

    async def _public_reply(self, event: CommentEvent, text: str) -> None:
        if await self._already_sent(event, "public_reply"):
            return
        await self._comment_call(
            event, "public_reply", text,
            lambda: self.context.graph.public_reply(event.comment_id, text),
        )

    async def _private_reply(self, event: CommentEvent, text: str) -> None:
        if await self._already_sent(event, "private_reply"):
            return

        async def send() -> str:
            sent = await self.context.graph.private_reply(event.comment_id, text)
            if sent.recipient_id:
                await asyncio.to_thread(
                    self.context.threads.ensure, sent.recipient_id, event.page_id
                )
            return sent.message_id

        await self._comment_call(event, "private_reply", text, send)

    async def _comment_call(
        self, event: CommentEvent, kind: str, text: str, call: Callable[[], Awaitable[str]]
    ) -> None:
        """Sends one comment reply and records it; a failure is recorded and re-raised."""
        record = self.context.outbox.record
        try:
            message_id = await call()
        except GraphSendError as error:
            count_send_failure(failure_kind(error))
            await asyncio.to_thread(
                record, event.conversation_id, sender="bot", kind=kind, body={"text": text},
                status="failed", reason=str(error),
            )
            raise
        await asyncio.to_thread(
            record, event.conversation_id, sender="bot", kind=kind, body={"text": text},
            status="sent", message_ids=[message_id] if message_id else None,
        )
