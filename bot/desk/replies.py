"""An agent's reply from the desk, sent to the customer in the conversation's own channel.

On Messenger the reply goes through `bot.messenger.agent_reply` (normal response within 24 h
of the customer's last message, HUMAN_AGENT tag up to 7 days, refused after), signed with
the agent's first name, and lands on the ticket's transcript. On the web chat it is stored for
the chat page, which fetches it (`bot.webchat.agent_messages`). Other channels (the REST API,
comments) have no way to reach the customer later, and say so rather than pretend.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy.engine import Engine

from bot.desk.agents import Agent
from bot.handoff.tickets import Ticket, TicketService, TranscriptLine
from bot.messenger.agent_reply import send_agent_reply
from bot.messenger.channel_names import CHANNEL_NAME
from bot.messenger.graph_client import GraphClient
from bot.messenger.outbox import OutboxLog
from bot.messenger.threads import ThreadStore
from bot.settings import Settings
from bot.webchat.agent_messages import WEBCHAT_CHANNEL, AgentMessageBox

MAX_REPLY_LENGTH = 2000


class ReplyRefused(RuntimeError):
    """The reply was not sent; the message says why (never with personal data)."""


def signed(text: str, agent: Agent) -> str:
    """The customer sees who answered: the text, then the agent's first name."""
    return f"{text.strip()}\n— {agent.first_name}"


async def reply_to_customer(
    settings: Settings,
    engine: Engine,
    tickets: TicketService,
    ticket: Ticket,
    agent: Agent,
    text: str,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> None:
    """Sends an agent's reply for an open ticket; `ReplyRefused` when it was not sent."""
    text = text.strip()
    if not text:
        raise ReplyRefused("the reply is empty")
    if len(text) > MAX_REPLY_LENGTH:
        raise ReplyRefused(f"a reply is at most {MAX_REPLY_LENGTH} characters")
    if ticket.status != "open":
        raise ReplyRefused(f"case #{ticket.case_number} is {ticket.status}, not open")
    message = signed(text, agent)
    if ticket.channel == WEBCHAT_CHANNEL:
        AgentMessageBox(engine).post(ticket.conversation_id, message, clock())
    elif ticket.channel == CHANNEL_NAME:
        await _send_on_messenger(settings, engine, ticket.conversation_id, message, clock)
    else:
        raise ReplyRefused(
            f"replies to the {ticket.channel} channel cannot be delivered: only Messenger "
            "and web chat conversations can be answered from the desk"
        )
    tickets.add_customer_message(ticket.conversation_id, TranscriptLine("agent", message, clock()))


async def _send_on_messenger(settings: Settings, engine: Engine, psid: str, message: str,
                             clock: Callable[[], datetime]) -> None:
    """Sends through the Graph API under Messenger's window rules; `ReplyRefused` if not sent."""
    messenger = settings.messenger
    if not messenger.configured or not messenger.page_access_token:
        raise ReplyRefused("Messenger is not configured (PAGE_ACCESS_TOKEN, APP_SECRET, "
                           "VERIFY_TOKEN in .env)")
    async with GraphClient(
        messenger.graph_api_url, messenger.page_access_token, messenger.graph_api_version,
        app_secret=messenger.app_secret,
    ) as graph:
        result = await send_agent_reply(graph, ThreadStore(engine), OutboxLog(engine),
                                        psid, message, clock=clock)
    if not result.sent:
        raise ReplyRefused(result.reason or "Messenger did not accept the reply")
