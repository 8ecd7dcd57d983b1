"""Giving a handed-off conversation back to the bot, the same way from the CLI and the desk.

In order: on Messenger, take thread control back from the page inbox; clear the pause on the
Rasa server; then close the ticket. A step that fails stops the sequence and the ticket stays
open, so nothing is half handed back.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.handoff.rasa_handback import RasaUnavailableError, resume_bot
from bot.handoff.tickets import Ticket, TicketError, TicketService
from bot.messenger.thread_control import ThreadControlError, take_back_thread
from bot.settings import Settings


class HandBackError(RuntimeError):
    """The conversation could not be given back; the message says why, the ticket is open."""


async def hand_back(
    settings: Settings,
    engine: Engine,
    tickets: TicketService,
    case_number: int,
    by: str,
    resolved: bool = False,
) -> Ticket:
    """Gives case `case_number` back to the bot; the closed ticket.

    Its status is 'resolved' when the person settled the case, else 'handed_back'.
    """
    try:
        ticket = tickets.get(case_number)
        if ticket.status != "open":
            raise TicketError(f"case #{case_number} is {ticket.status}, not open")
        if ticket.channel == "messenger":
            await take_back_thread(settings, engine, ticket.conversation_id)
        await resume_bot(settings.rasa_url, settings.rasa_auth_token, ticket.conversation_id)
        return tickets.hand_back(case_number, by=by, resolved=resolved)
    except (TicketError, RasaUnavailableError, ThreadControlError) as error:
        raise HandBackError(str(error)) from error
