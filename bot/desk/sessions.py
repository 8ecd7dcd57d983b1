"""Desk login sessions: opened by a password, kept by a cookie, closed by logout or idleness.

The browser holds a random token in an HttpOnly, SameSite cookie; the database holds only
its SHA-256, the agent and the session's CSRF token. A session idle for longer than
`idle_timeout`, or older than `max_age`, no longer counts, and a deactivated agent's
sessions stop counting at once. Logging in and out are written to the audit log in the same
transaction as the session's row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine

from bot.desk.agents import Agent, agent_from_row
from bot.store.audit import AuditLog
from bot.store.tables import AgentRow, DeskSessionRow

IDLE_TIMEOUT = timedelta(hours=8)
MAX_AGE = timedelta(days=7)

_SESSIONS = DeskSessionRow.__table__
_AGENTS = AgentRow.__table__


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class DeskSession:
    """A valid session: whose it is and the token its forms must carry."""

    agent: Agent
    csrf_token: str

    def csrf_ok(self, submitted: str | None) -> bool:
        """Whether a form's (or header's) CSRF token is this session's (constant time)."""
        if not submitted:
            return False
        return hmac.compare_digest(submitted.encode(), self.csrf_token.encode())


class SessionStore:
    """Sessions in the product database.

    Args:
        engine: the product database (tables made by `bot.store.ensure_schema`).
        clock: the current aware time; for tests.
        idle_timeout: how long a session may go unused.
        max_age: how long a session lasts at most.
    """

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = _utc_now,
        idle_timeout: timedelta = IDLE_TIMEOUT,
        max_age: timedelta = MAX_AGE,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._idle_timeout = idle_timeout
        self._max_age = max_age
        self._audit = AuditLog(engine, clock)

    def open(self, agent: Agent, *, address: str) -> str:
        """Starts a session for an authenticated agent; the token for the cookie.

        Args:
            agent: who logged in.
            address: where from (the address the login limit sees), for the audit log.
        """
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._engine.begin() as connection:
            connection.execute(_SESSIONS.insert().values(
                token_hash=_hash(token), agent_id=agent.id, csrf_token=secrets.token_urlsafe(32),
                created_at=now, last_seen_at=now,
            ))
            self._audit.record(agent.login, "session.login", f"agent:{agent.login}",
                               {"address": address}, connection=connection)
        return token

    def find(self, token: str | None) -> DeskSession | None:
        """The valid session of a cookie's token, its last use updated; None otherwise."""
        if not token:
            return None
        now = self._clock()
        with self._engine.begin() as connection:
            row = connection.execute(
                select(
                    _AGENTS,
                    _SESSIONS.c.csrf_token,
                    _SESSIONS.c.last_seen_at,
                    _SESSIONS.c.created_at.label("session_created_at"),
                )
                .join(_AGENTS, _AGENTS.c.id == _SESSIONS.c.agent_id)
                .where(_SESSIONS.c.token_hash == _hash(token))
            ).first()
            if row is None:
                return None
            expired = (now - row.last_seen_at > self._idle_timeout
                       or now - row.session_created_at > self._max_age)
            if expired or not row.active:
                connection.execute(delete(_SESSIONS).where(_SESSIONS.c.token_hash == _hash(token)))
                return None
            connection.execute(update(_SESSIONS).where(_SESSIONS.c.token_hash == _hash(token))
                               .values(last_seen_at=now))
        return DeskSession(agent_from_row(row), row.csrf_token)

    def close(self, token: str | None) -> None:
        """Ends a session (logout), audited under its agent; an unknown token is fine."""
        if not token:
            return
        with self._engine.begin() as connection:
            login = connection.execute(
                select(_AGENTS.c.login).join(_SESSIONS, _AGENTS.c.id == _SESSIONS.c.agent_id)
                .where(_SESSIONS.c.token_hash == _hash(token))
            ).scalar()
            if login is None:
                return
            connection.execute(delete(_SESSIONS).where(_SESSIONS.c.token_hash == _hash(token)))
            self._audit.record(login, "session.logout", f"agent:{login}", connection=connection)
