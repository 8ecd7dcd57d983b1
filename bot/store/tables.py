"""SQLAlchemy table definitions for the product's own data (not Rasa's tracker store).

The `shop_*` tables are the demo shop behind the SQL order back end; the others belong to
handoff (tickets), order proof (attempt log), Messenger (inbox, threads, outbox), the
agents' desk (agents, audit log, sessions, claims, notes, deliveries), the web chat
(people's replies waiting for the page, browsers' sessions) and the trainer (marked
messages, review decisions).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

Base = declarative_base()


class UTCDateTime(TypeDecorator):
    """An aware datetime stored in UTC and read back aware, on SQLite and PostgreSQL alike.

    SQLite keeps no time zone, so every value is converted to UTC on the way in; naive
    values are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        """Converts to UTC before storing."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a time zone")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        """Returns an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class ShopCustomerRow(Base):
    """A customer of the demo shop."""

    __tablename__ = "shop_customers"

    id = Column(Integer, primary_key=True)
    first_name = Column(String(80), nullable=False)
    last_name = Column(String(80), nullable=False)
    email = Column(String(200), nullable=False, unique=True)
    street = Column(String(200), nullable=False)
    city = Column(String(100), nullable=False)
    postcode = Column(String(20), nullable=False)
    country = Column(String(80), nullable=False)

    orders = relationship("ShopOrderRow", back_populates="customer")


class ShopOrderRow(Base):
    """An order of the demo shop, with its fulfilment state."""

    __tablename__ = "shop_orders"

    number = Column(String(20), primary_key=True)
    customer_id = Column(Integer, ForeignKey("shop_customers.id"), nullable=False)
    status = Column(String(30), nullable=False)
    placed_at = Column(UTCDateTime, nullable=False)
    currency = Column(String(3), nullable=False)
    total_cents = Column(Integer, nullable=False)
    payment_method = Column(String(30), nullable=False)
    carrier = Column(String(40))
    tracking_number = Column(String(60))
    tracking_url = Column(String(300))
    shipped_at = Column(UTCDateTime)
    original_estimate = Column(Date)
    expected_delivery = Column(Date)
    delivered_at = Column(UTCDateTime)
    delay_reason = Column(String(200))
    returned_at = Column(UTCDateTime)
    refund_amount_cents = Column(Integer)
    refunded_at = Column(UTCDateTime)
    cancelled_at = Column(UTCDateTime)

    customer = relationship("ShopCustomerRow", back_populates="orders")
    items = relationship(
        "ShopOrderItemRow", back_populates="order", cascade="all, delete-orphan"
    )


class ShopOrderItemRow(Base):
    """One line of an order; `shipped` tells which lines left the warehouse."""

    __tablename__ = "shop_order_items"

    id = Column(Integer, primary_key=True)
    order_number = Column(String(20), ForeignKey("shop_orders.number"), nullable=False)
    sku = Column(String(40), nullable=False)
    name = Column(String(200), nullable=False)
    size = Column(String(10))
    quantity = Column(Integer, nullable=False)
    unit_price_cents = Column(Integer, nullable=False)
    shipped = Column(Boolean, nullable=False, default=False)

    order = relationship("ShopOrderRow", back_populates="items")


class ProofAttemptRow(Base):
    """One attempt at proving an order is yours, successful or not."""

    __tablename__ = "proof_attempts"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False)
    order_number = Column(String(20), nullable=False)
    succeeded = Column(Boolean, nullable=False)
    attempted_at = Column(UTCDateTime, nullable=False)

    __table_args__ = (
        Index("ix_proof_attempts_conversation", "conversation_id", "attempted_at"),
        Index("ix_proof_attempts_order", "order_number", "attempted_at"),
    )


class TicketRow(Base):
    """A handoff ticket: a conversation waiting for (or owned by) a person."""

    __tablename__ = "handoff_tickets"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    channel = Column(String(30), nullable=False)
    customer_name = Column(String(120))
    reason = Column(String(40), nullable=False)
    priority = Column(String(10), nullable=False)
    language = Column(String(10), nullable=False)
    order_number = Column(String(20))
    summary = Column(Text, nullable=False)
    transcript = Column(Text, nullable=False)
    status = Column(String(20), nullable=False, default="open", index=True)
    created_at = Column(UTCDateTime, nullable=False)
    expected_answer_at = Column(UTCDateTime, nullable=False)
    reminder_sent = Column(Boolean, nullable=False, default=False)
    handed_back_at = Column(UTCDateTime)
    handed_back_by = Column(String(120))


class HandoffPacketRow(Base):
    """The parts of a ticket's handoff packet the transcript does not hold.

    `intents_seen` is JSON, ``[[name, confidence], ...]`` for the customer's last messages;
    `status_told` is the bot's last answer about the order's status, as the customer read it.
    A table of its own, so databases made before it get it from `ensure_schema`.
    """

    __tablename__ = "handoff_packets"

    ticket_id = Column(Integer, ForeignKey("handoff_tickets.id"), primary_key=True)
    intents_seen = Column(Text, nullable=False, default="[]")
    status_told = Column(Text)


class InboxEventRow(Base):
    """One webhook event in the Messenger inbox, keyed by its event id (a duplicate is a no-op).

    `status` is one of 'pending', 'processing', 'done', 'ignored' (recorded, never answered)
    and 'failed' (gave up after too many attempts). `error` holds a short, non-personal
    description of the last failure (an exception class name, never message text).
    """

    __tablename__ = "messenger_inbox"

    event_id = Column(String(200), primary_key=True)
    page_id = Column(String(64), nullable=False)
    conversation_id = Column(String(200), nullable=False, index=True)
    kind = Column(String(30), nullable=False)
    timestamp = Column(BigInteger, nullable=False)
    payload = Column(Text, nullable=False)
    status = Column(String(20), nullable=False, default="pending")
    attempts = Column(Integer, nullable=False, default=0)
    received_at = Column(UTCDateTime, nullable=False)
    claimed_at = Column(UTCDateTime)
    claimed_by = Column(String(120))
    heartbeat_at = Column(UTCDateTime)
    """When the worker holding a 'processing' claim last said it is alive (every few seconds);
    any worker's claim takes the event over once this (or `claimed_at` while it is null) is
    older than the claim timeout."""
    processed_at = Column(UTCDateTime)
    error = Column(String(300))

    __table_args__ = (
        Index("ix_messenger_inbox_status_conversation", "status", "conversation_id", "timestamp"),
    )


class MessengerSendRow(Base):
    """One message the bot's answer to one inbound event sends, by its position in the answer.

    Written 'sending' before the Send API call and 'sent' (or 'undeliverable', 'refused',
    'failed') after it, so that an event processed again after a crash sends only what was
    not sent. `text` is what was being sent (like the outbox's body, it can be personal):
    an answer computed again may word a message differently, and the check whether an
    interrupted send landed looks for the words actually sent.
    """

    __tablename__ = "messenger_sends"

    event_id = Column(String(200), primary_key=True)
    position = Column(Integer, primary_key=True)
    status = Column(String(20), nullable=False)
    text = Column(Text)
    message_ids = Column(Text)
    started_at = Column(UTCDateTime, nullable=False)
    finished_at = Column(UTCDateTime)


class MessengerThreadRow(Base):
    """What the bot knows about one Messenger thread (one customer PSID on the page).

    `last_customer_message_at` drives the messaging window; `owner` is "bot" or "person"
    (thread control passed to the page inbox or another app, `owner_app_id`).
    """

    __tablename__ = "messenger_threads"

    psid = Column(String(64), primary_key=True)
    page_id = Column(String(64), nullable=False)
    last_customer_message_at = Column(UTCDateTime)
    owner = Column(String(20), nullable=False, default="bot")
    owner_app_id = Column(String(64))
    updated_at = Column(UTCDateTime, nullable=False)


class MessengerOutboxRow(Base):
    """One message the page sent or tried to send on Messenger.

    `status` is 'sent', 'undeliverable' (a bot message outside the 24-hour window, kept here
    instead of being sent), 'refused' (an agent message past 7 days) or 'failed' (Graph
    refused it or could not be reached after retries). `body` is the Send API message (it can
    hold personal data, like the tracker store); `reason` never does.
    """

    __tablename__ = "messenger_outbox"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    sender = Column(String(20), nullable=False)
    kind = Column(String(30), nullable=False)
    body = Column(Text, nullable=False)
    status = Column(String(20), nullable=False)
    tag = Column(String(30))
    reason = Column(String(300))
    message_ids = Column(Text)
    created_at = Column(UTCDateTime, nullable=False)


class AgentRow(Base):
    """A person who works the desk: an agent, a trainer or an admin.

    `password_hash` is an argon2id hash (`bot.desk.passwords`); the password itself is never
    stored. An agent who leaves is deactivated, not deleted, so the audit log keeps its name.
    """

    __tablename__ = "desk_agents"

    id = Column(Integer, primary_key=True, autoincrement=True)
    login = Column(String(64), nullable=False, unique=True)
    name = Column(String(120), nullable=False)
    role = Column(String(16), nullable=False)
    password_hash = Column(String(255), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UTCDateTime, nullable=False)
    password_changed_at = Column(UTCDateTime, nullable=False)


class AuditRow(Base):
    """One state change made by a person (or the CLI on someone's behalf): who, what, when.

    `target` names what changed (``agent:anna``, ``ticket:17``); `detail` is JSON with the
    facts of the change, never a password or a customer's personal data.
    """

    __tablename__ = "desk_audit"

    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(UTCDateTime, nullable=False, index=True)
    actor = Column(String(64), nullable=False)
    action = Column(String(64), nullable=False)
    target = Column(String(120), nullable=False)
    detail = Column(Text, nullable=False, default="{}")


class DeskSessionRow(Base):
    """A logged-in browser.

    Only the SHA-256 of the session token is stored, so a copy of the database cannot be used
    to log in; `csrf_token` guards the session's form posts.
    """

    __tablename__ = "desk_sessions"

    token_hash = Column(String(64), primary_key=True)
    agent_id = Column(Integer, ForeignKey("desk_agents.id"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False)
    last_seen_at = Column(UTCDateTime, nullable=False)


class LoginFailureRow(Base):
    """A failed desk login, kept for the login rate limit (by login and by address)."""

    __tablename__ = "desk_login_failures"

    id = Column(Integer, primary_key=True, autoincrement=True)
    login = Column(String(64), nullable=False, index=True)
    address = Column(String(64), nullable=False, index=True)
    at = Column(UTCDateTime, nullable=False)


class TicketClaimRow(Base):
    """Who is working on an open ticket.

    One row per ticket: the key makes a second claim fail, so two agents can never both hold
    one ticket.
    """

    __tablename__ = "desk_claims"

    ticket_id = Column(Integer, ForeignKey("handoff_tickets.id"), primary_key=True)
    agent_id = Column(Integer, ForeignKey("desk_agents.id"), nullable=False, index=True)
    claimed_at = Column(UTCDateTime, nullable=False)


class TicketNoteRow(Base):
    """A private note on a ticket, for the team only; never sent to the customer."""

    __tablename__ = "desk_notes"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(Integer, ForeignKey("handoff_tickets.id"), nullable=False, index=True)
    agent_id = Column(Integer, ForeignKey("desk_agents.id"), nullable=False)
    text = Column(Text, nullable=False)
    at = Column(UTCDateTime, nullable=False)


class TranscriptDeliveryRow(Base):
    """A new ticket's transcript on its way to the team's private channel (chat or e-mail).

    `status` is 'pending', 'sent' or 'failed' (gave up after the last attempt); `last_error`
    never holds personal data.
    """

    __tablename__ = "desk_deliveries"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(Integer, ForeignKey("handoff_tickets.id"), nullable=False, index=True)
    target = Column(String(20), nullable=False)
    status = Column(String(20), nullable=False, index=True)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(String(300))
    created_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)


class WebChatAgentMessageRow(Base):
    """An agent's reply from the desk to a web chat customer, waiting for the page to fetch it.

    The web chat speaks to the bot by request and answer, so a person's later message has no
    request to ride on: the page asks for new ones (`after` the last `id` it has shown).
    """

    __tablename__ = "webchat_agent_messages"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    text = Column(Text, nullable=False)
    at = Column(UTCDateTime, nullable=False)


class WebChatSessionRow(Base):
    """A web chat browser's conversation, found by the token in its HttpOnly cookie.

    The server, not the page, makes the conversation id ("wc-" and 32 random hex digits), so
    no web chat client can name another channel's conversation. Only the SHA-256 of the
    token is stored, so a copy of the database cannot be used to read a chat.
    """

    __tablename__ = "webchat_sessions"

    token_hash = Column(String(64), primary_key=True)
    conversation_id = Column(String(64), nullable=False, unique=True)
    created_at = Column(UTCDateTime, nullable=False)
    last_seen_at = Column(UTCDateTime, nullable=False)


class TrainerMarkRow(Base):
    """A customer message an agent marked on a ticket: "the bot should have understood this".

    `at` is when the customer wrote it (the transcript line's time), which, with the
    conversation, finds the message among Rasa's stored events.
    """

    __tablename__ = "trainer_marks"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    at = Column(UTCDateTime, nullable=False)
    text = Column(Text, nullable=False)
    marked_by = Column(String(120), nullable=False)
    marked_at = Column(UTCDateTime, nullable=False)


class ReviewDecisionRow(Base):
    """What a trainer decided about a reviewed message: assigned to an intent, or noise.

    `item_key` is the message's key (`bot.trainer.review.message_key`); `decision` is
    'assigned' (to `intent`, an existing one or one the trainer created) or 'dismissed'.
    """

    __tablename__ = "trainer_decisions"

    item_key = Column(String(260), primary_key=True)
    decision = Column(String(20), nullable=False)
    intent = Column(String(100))
    decided_by = Column(String(120), nullable=False)
    decided_at = Column(UTCDateTime, nullable=False)
