"""Private notes on tickets: what one agent leaves for the next, never seen by the customer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.desk.agents import Agent
from bot.store.audit import AuditLog
from bot.store.tables import AgentRow, TicketNoteRow, TicketRow

MAX_NOTE_LENGTH = 4000

_NOTES = TicketNoteRow.__table__
_AGENTS = AgentRow.__table__
_TICKETS = TicketRow.__table__


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class NoteError(ValueError):
    """The note cannot be added; the message says why."""


@dataclass(frozen=True)
class Note:
    """One private note."""

    author: str
    text: str
    at: datetime


class NoteBook:
    """Notes in the product database; adding one is audited (without its text).

    Args:
        engine: the product database.
        clock: the current aware time; for tests.
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _utc_now) -> None:
        self._engine = engine
        self._clock = clock
        self._audit = AuditLog(engine, clock)

    def add(self, case_number: int, agent: Agent, text: str) -> Note:
        """Adds a note to a ticket; `NoteError` for an empty or too long note, or no ticket."""
        text = text.strip()
        if not text:
            raise NoteError("the note is empty")
        if len(text) > MAX_NOTE_LENGTH:
            raise NoteError(f"a note is at most {MAX_NOTE_LENGTH} characters")
        now = self._clock()
        with self._engine.begin() as connection:
            exists = connection.execute(
                select(_TICKETS.c.id).where(_TICKETS.c.id == case_number)).first()
            if exists is None:
                raise NoteError(f"there is no case #{case_number}")
            connection.execute(_NOTES.insert().values(
                ticket_id=case_number, agent_id=agent.id, text=text, at=now))
            self._audit.record(agent.login, "ticket.note", f"ticket:{case_number}",
                               {"characters": len(text)}, connection=connection)
        return Note(agent.name, text, now)

    def for_ticket(self, case_number: int) -> list[Note]:
        """A ticket's notes, oldest first."""
        query = (select(_AGENTS.c.name, _NOTES.c.text, _NOTES.c.at)
                 .join(_AGENTS, _AGENTS.c.id == _NOTES.c.agent_id)
                 .where(_NOTES.c.ticket_id == case_number).order_by(_NOTES.c.id))
        with self._engine.connect() as connection:
            return [Note(row.name, row.text, row.at) for row in connection.execute(query)]
