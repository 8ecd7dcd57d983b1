"""Everything the desk web app works with, gathered in one place for `create_app`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.desk.agents import Agent, AgentDirectory
from bot.desk.canned import CannedReply
from bot.desk.claims import ClaimBook
from bot.desk.login_limit import LoginLimit
from bot.desk.notes import NoteBook
from bot.desk.sessions import SessionStore
from bot.handoff.tickets import Ticket, TicketService
from bot.messenger.threads import ThreadStore
from bot.orders import OrderBackend
from bot.privacy.customer_data import CustomerData
from bot.trainer.review import ReviewInbox
from bot.trainer.settings import TrainerSettings
from bot.trainer.training_data import TrainingData

HandBack = Callable[..., Awaitable[Ticket]]
"""``(case_number, login, resolved=False)``: gives a case back to the bot on behalf of a
login (`bot.messenger.hand_back.hand_back`); `resolved` when the person settled it."""

Reply = Callable[[Ticket, Agent, str], Awaitable[None]]
"""Sends an agent's reply to the ticket's customer (`bot.desk.replies.reply_to_customer`)."""


@dataclass(frozen=True)
class DeskServices:
    """The desk's stores and actions.

    Attributes:
        agents: the desk's people (and the audit log, `agents.audit`).
        sessions: login sessions.
        login_limit: failed-login counting.
        tickets: handoff tickets.
        claims: who works which ticket.
        notes: private notes.
        orders: the shop's orders, shown beside a ticket.
        threads: Messenger threads (when the customer last wrote).
        zone: the brand's time zone, for every time shown.
        hand_back: gives a conversation back to the bot.
        send_reply: sends an agent's reply to the customer.
        canned: the brand's canned replies (`canned_replies.yml`), each in every language.
        languages: the brand's languages, the default first (the queue's language filter).
        report: the figures of a period ("yesterday", "today", a date), as JSON-ready data.
        review: the trainers' review inbox, where agents mark messages the bot misread.
        training: the Rasa project's data, which the Training section changes.
        trainer_settings: `trainer.yml` (grouping, the test share).
        customer_data: exports and erases a customer's data (the admins' Customers' data
            section); None: the section says there is none.
    """

    agents: AgentDirectory
    sessions: SessionStore
    login_limit: LoginLimit
    tickets: TicketService
    claims: ClaimBook
    notes: NoteBook
    orders: OrderBackend
    threads: ThreadStore
    zone: ZoneInfo
    hand_back: HandBack
    send_reply: Reply
    canned: tuple[CannedReply, ...] = ()
    languages: tuple[str, ...] = ()
    report: Callable[[str], dict[str, object]] | None = None
    review: ReviewInbox | None = None
    training: TrainingData | None = None
    trainer_settings: TrainerSettings = TrainerSettings()
    customer_data: CustomerData | None = None


SERVICES = web.AppKey("services", DeskServices)
"""Where the desk application keeps its `DeskServices`."""
