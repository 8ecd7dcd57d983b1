"""The record of what the page sent, or could not send, on Messenger.

Every outgoing message is written to `messenger_outbox` with its outcome: 'sent',
'undeliverable' (a bot message outside the 24-hour window: kept, not sent), 'refused' (an
agent message past 7 days) or 'failed' (Graph refused it or was unreachable after retries).
The desk reads it to show what the customer did and did not receive.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.store import MessengerOutboxRow, session_scope

STATUSES = ("sent", "undeliverable", "refused", "failed")


@dataclass(frozen=True)
class OutboxEntry:
    """One recorded outgoing message."""

    conversation_id: str
    sender: str
    kind: str
    body: dict[str, Any]
    status: str
    tag: str | None
    reason: str | None
    message_ids: list[str]
    created_at: datetime


class OutboxLog:
    """Writes and reads `messenger_outbox`.

    Args:
        engine: the product database (schema created).
        clock: the current aware time; for tests.
    """

    def __init__(
        self, engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    ) -> None:
        self._engine = engine
        self._clock = clock

    @property
    def engine(self) -> Engine:
        """The database the log is kept in."""
        return self._engine

    def new_row(
        self,
        conversation_id: str,
        *,
        sender: str,
        kind: str,
        body: dict[str, Any],
        status: str,
        tag: str | None = None,
        reason: str | None = None,
        message_ids: list[str] | None = None,
    ) -> MessengerOutboxRow:
        """The row of one outgoing message, to add in a transaction of the caller's.

        Raises:
            ValueError: an unknown status.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown outbox status {status!r}")
        return MessengerOutboxRow(
            conversation_id=conversation_id,
            sender=sender,
            kind=kind,
            body=json.dumps(body, ensure_ascii=False),
            status=status,
            tag=tag,
            reason=(reason or None) and reason[:300],
            message_ids=json.dumps(message_ids or []),
            created_at=self._clock(),
        )

    def record(
        self,
        conversation_id: str,
        *,
        sender: str,
        kind: str,
        body: dict[str, Any],
        status: str,
        tag: str | None = None,
        reason: str | None = None,
        message_ids: list[str] | None = None,
    ) -> None:
        """Stores one outgoing message and its outcome in a transaction of its own.

        Raises:
            ValueError: an unknown status.
        """
        row = self.new_row(conversation_id, sender=sender, kind=kind, body=body, status=status,
                           tag=tag, reason=reason, message_ids=message_ids)
        with session_scope(self._engine) as session:
            session.add(row)

    def for_conversation(self, conversation_id: str) -> list[OutboxEntry]:
        """The conversation's outgoing messages, oldest first."""
        query = (
            select(MessengerOutboxRow)
            .where(MessengerOutboxRow.conversation_id == conversation_id)
            .order_by(MessengerOutboxRow.id)
        )
        with session_scope(self._engine) as session:
            return [
                OutboxEntry(
                    row.conversation_id, row.sender, row.kind, json.loads(row.body), row.status,
                    row.tag, row.reason, json.loads(row.message_ids or "[]"), row.created_at,
                )
                for row in session.execute(query).scalars()
            ]
