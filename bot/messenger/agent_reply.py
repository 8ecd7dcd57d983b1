"""A person of the brand answering a customer on Messenger, inside Messenger's rules.

Within 24 hours of the customer's last message the reply is a normal response; from 24 hours
to 7 days it carries the HUMAN_AGENT tag; past 7 days it is refused with a clear reason and
nothing is sent. The outcome is written to the outbox like every other message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from bot.messenger.graph_client import GraphClient
from bot.messenger.outbox import OutboxLog
from bot.messenger.output import MessengerOutput
from bot.messenger.threads import ThreadStore


@dataclass(frozen=True)
class AgentReplyResult:
    """What happened to an agent's reply.

    Attributes:
        sent: True when the customer got it.
        reason: why it was refused or failed (no personal data), None when sent.
    """

    sent: bool
    reason: str | None


async def send_agent_reply(
    graph: GraphClient,
    threads: ThreadStore,
    outbox: OutboxLog,
    psid: str,
    text: str,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> AgentReplyResult:
    """Sends a person's text to the customer, tagged only when the 24-hour window has passed.

    Raises:
        ValueError: an empty text.
    """
    if not text.strip():
        raise ValueError("an empty reply cannot be sent")
    state = threads.get(psid)
    output = MessengerOutput(
        graph, psid, state.last_customer_message_at if state else None, outbox, sender="agent",
        clock=clock,
    )
    await output.send_text_message(psid, text)
    if output.sent:
        return AgentReplyResult(True, None)
    return AgentReplyResult(False, output.last_reason or "not sent")
