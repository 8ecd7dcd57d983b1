"""A person's messages to web chat customers: put here by the desk, fetched by the chat page.

The web chat talks to the bot by request and answer (`bot.webchat.channel`), so an agent's
reply in the morning has no request to travel with. The desk stores it here; the page asks
every few seconds for the messages after the last one it has shown. No Rasa import, so the
desk can use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.store.database import session_scope
from bot.store.tables import WebChatAgentMessageRow

WEBCHAT_CHANNEL = "webchat"
"""The channel name of web chat conversations (and of their tickets)."""

MAX_FETCHED = 50


@dataclass(frozen=True)
class AgentMessage:
    """One stored message from a person."""

    id: int
    text: str
    at: datetime

    def as_json(self) -> dict[str, object]:
        """What the page receives."""
        return {"id": self.id, "text": self.text, "at": self.at.isoformat()}


class AgentMessageBox:
    """The stored messages of people to web chat conversations."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def post(self, conversation_id: str, text: str, at: datetime) -> AgentMessage:
        """Stores a message for the conversation's page to fetch."""
        with session_scope(self._engine) as session:
            row = WebChatAgentMessageRow(conversation_id=conversation_id, text=text, at=at)
            session.add(row)
            session.flush()
            return AgentMessage(row.id, row.text, row.at)

    def after(self, conversation_id: str, after_id: int = 0) -> list[AgentMessage]:
        """The conversation's messages stored after `after_id`, oldest first (at most 50)."""
        with session_scope(self._engine) as session:
            rows = (session.query(WebChatAgentMessageRow)
                    .filter(WebChatAgentMessageRow.conversation_id == conversation_id,
                            WebChatAgentMessageRow.id > after_id)
                    .order_by(WebChatAgentMessageRow.id)
                    .limit(MAX_FETCHED)
                    .all())
            return [AgentMessage(row.id, row.text, row.at) for row in rows]
