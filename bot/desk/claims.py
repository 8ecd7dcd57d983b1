"""Claiming tickets: one agent at a time works a ticket; the second claim is refused clearly.

The claim is a row keyed by the ticket, so two claims at the same moment (two browsers, two
desk processes) cannot both succeed: the database refuses the second insert.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.desk.agents import Agent
from bot.store.audit import AuditLog
from bot.store.tables import AgentRow, TicketClaimRow, TicketRow

_CLAIMS = TicketClaimRow.__table__
_AGENTS = AgentRow.__table__
_TICKETS = TicketRow.__table__


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ClaimError(ValueError):
    """A claim or unclaim that cannot be done; the message says why."""


@dataclass(frozen=True)
class Claim:
    """Who holds a ticket, since when."""

    case_number: int
    login: str
    name: str
    claimed_at: datetime


class ClaimBook:
    """Claims in the product database, each change audited with it.

    Args:
        engine: the product database.
        clock: the current aware time; for tests.
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _utc_now) -> None:
        self._engine = engine
        self._clock = clock
        self._audit = AuditLog(engine, clock)

    def claim(self, case_number: int, agent: Agent) -> Claim:
        """Claims an open ticket for `agent`; `ClaimError` when it is held or not open."""
        now = self._clock()
        try:
            with self._engine.begin() as connection:
                status = connection.execute(
                    select(_TICKETS.c.status).where(_TICKETS.c.id == case_number)
                ).scalar()
                if status is None:
                    raise ClaimError(f"there is no case #{case_number}")
                if status != "open":
                    raise ClaimError(f"case #{case_number} is {status}, not open")
                connection.execute(_CLAIMS.insert().values(
                    ticket_id=case_number, agent_id=agent.id, claimed_at=now))
                self._audit.record(agent.login, "ticket.claim", f"ticket:{case_number}",
                                   connection=connection)
        except IntegrityError:
            holder = self.holder(case_number)
            who = "you" if holder and holder.login == agent.login else (
                holder.name if holder else "someone else")
            raise ClaimError(f"case #{case_number} is already claimed by {who}") from None
        return Claim(case_number, agent.login, agent.name, now)

    def unclaim(self, case_number: int, agent: Agent, *, force: bool = False) -> None:
        """Gives a claimed ticket back to the queue: only its holder may, or `force` (admin)."""
        holder = self.holder(case_number)
        if holder is None:
            raise ClaimError(f"case #{case_number} is not claimed")
        if holder.login != agent.login and not force:
            raise ClaimError(f"case #{case_number} is claimed by {holder.name}, not by you")
        with self._engine.begin() as connection:
            connection.execute(delete(_CLAIMS).where(_CLAIMS.c.ticket_id == case_number))
            self._audit.record(agent.login, "ticket.unclaim", f"ticket:{case_number}",
                               {"held_by": holder.login}, connection=connection)

    def release(self, case_number: int) -> None:
        """Drops the claim of a ticket that was closed (handed back or resolved)."""
        with self._engine.begin() as connection:
            connection.execute(delete(_CLAIMS).where(_CLAIMS.c.ticket_id == case_number))

    def holder(self, case_number: int) -> Claim | None:
        """Who holds the ticket, if anyone."""
        found = self._claims(_CLAIMS.c.ticket_id == case_number)
        return found.get(case_number)

    def holders(self) -> dict[int, Claim]:
        """Every claim, by case number."""
        return self._claims(None)

    def _claims(self, condition: object) -> dict[int, Claim]:
        query = select(_CLAIMS.c.ticket_id, _CLAIMS.c.claimed_at, _AGENTS.c.login,
                       _AGENTS.c.name).join(_AGENTS, _AGENTS.c.id == _CLAIMS.c.agent_id)
        if condition is not None:
            query = query.where(condition)
        with self._engine.connect() as connection:
            return {
                row.ticket_id: Claim(row.ticket_id, row.login, row.name, row.claimed_at)
                for row in connection.execute(query)
            }
