"""Exactly-once replies: each message of an answer is recorded before it is sent.

The record names the inbound event and the message's position in the answer. A process
killed in the middle of a turn leaves its event 'processing'; the next process runs the turn
again. The answer it computes has the same messages in the same places (the same dialogue on
the same tracker), so `MessengerOutput` asks the ledger for each position: a message already
'sent' (or held back by the window, or failed for good) is not sent again; one left
'sending' (the process died between the Send API call and the record) is sent again only
when Graph does not show the words that were being sent (recorded with it, since an answer
computed again may choose another variation).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Executable

from bot.store import MessengerSendRow, session_scope

SENDING = "sending"
FINAL_STATUSES = frozenset({"sent", "undeliverable", "refused", "failed"})


@dataclass(frozen=True)
class SendRecord:
    """What the ledger knows of one position of one answer."""

    event_id: str
    position: int
    status: str
    message_ids: list[str]
    started_at: datetime
    text: str | None = None

    @property
    def final(self) -> bool:
        """True when the message was sent or held back for good: never send it again."""
        return self.status in FINAL_STATUSES


class SendLedger:
    """Reads and writes `messenger_sends`.

    Args:
        engine: the product database (schema created).
        clock: the current aware time.
    """

    def __init__(
        self, engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert

    def get(self, event_id: str, position: int) -> SendRecord | None:
        """The record of one position, or None when nothing was tried there."""
        with session_scope(self._engine) as session:
            row = session.get(MessengerSendRow, (event_id, position))
            if row is None:
                return None
            return SendRecord(row.event_id, row.position, row.status,
                              json.loads(row.message_ids or "[]"), row.started_at, row.text)

    def begin(self, event_id: str, position: int, text: str | None = None) -> None:
        """Records that the message at `position` (its text, if any) is about to be sent."""
        statement = (
            self._insert(MessengerSendRow.__table__)
            .values(event_id=event_id, position=position, status=SENDING, text=text,
                    started_at=self._clock())
            .on_conflict_do_update(
                index_elements=["event_id", "position"],
                set_={"status": SENDING, "text": text, "started_at": self._clock(),
                      "finished_at": None},
            )
        )
        with session_scope(self._engine) as session:
            session.execute(statement)

    @property
    def engine(self) -> Engine:
        """The database the ledger is kept in."""
        return self._engine

    def finish_statement(self, event_id: str, position: int, status: str,
                         message_ids: list[str] | None = None) -> Executable:
        """The statement recording the outcome of the message at `position`.

        For a transaction of the caller's: the outbox's record of the same message goes in it.

        Raises:
            ValueError: an unknown status.
        """
        if status not in FINAL_STATUSES:
            raise ValueError(f"unknown send status {status!r}")
        now = self._clock()
        return (
            self._insert(MessengerSendRow.__table__)
            .values(event_id=event_id, position=position, status=status,
                    message_ids=json.dumps(message_ids or []), started_at=now, finished_at=now)
            .on_conflict_do_update(
                index_elements=["event_id", "position"],
                set_={"status": status, "message_ids": json.dumps(message_ids or []),
                      "finished_at": now},
            )
        )

    def finish(self, event_id: str, position: int, status: str,
               message_ids: list[str] | None = None) -> None:
        """Records the outcome of the message at `position`.

        Raises:
            ValueError: an unknown status.
        """
        statement = self.finish_statement(event_id, position, status, message_ids)
        with session_scope(self._engine) as session:
            session.execute(statement)

    def for_event(self, event_id: str) -> list[SendRecord]:
        """Every recorded position of one event's answer, in order."""
        with session_scope(self._engine) as session:
            rows = (
                session.query(MessengerSendRow)
                .filter(MessengerSendRow.event_id == event_id)
                .order_by(MessengerSendRow.position)
                .all()
            )
            return [SendRecord(row.event_id, row.position, row.status,
                               json.loads(row.message_ids or "[]"), row.started_at, row.text)
                    for row in rows]
