"""The desk's people: adding them, checking their passwords, listing and deactivating them.

Every change is written to the audit log in the same transaction as the change itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.desk.passwords import hash_password, needs_rehash, verify_password
from bot.desk.roles import Role
from bot.store.audit import AuditLog
from bot.store.tables import AgentRow, DeskSessionRow

LOGIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
MAX_NAME_LENGTH = 120

_TABLE = AgentRow.__table__
_SESSIONS = DeskSessionRow.__table__


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class AgentError(ValueError):
    """A change to the desk's people that cannot be made; the message says why."""


@dataclass(frozen=True)
class Agent:
    """A person on the desk (without the password hash)."""

    id: int
    login: str
    name: str
    role: Role
    active: bool
    created_at: datetime

    @property
    def first_name(self) -> str:
        """What customers see when this person replies."""
        return self.name.split()[0]


def agent_from_row(row: object) -> Agent:
    """An `Agent` from a row of `desk_agents` (or a join holding its columns)."""
    return Agent(row.id, row.login, row.name, Role(row.role), bool(row.active), row.created_at)


def check_login(login: str) -> str:
    """The login, lower-cased, or `AgentError` saying what a login may contain."""
    login = login.strip().lower()
    if not LOGIN_PATTERN.fullmatch(login):
        raise AgentError(
            "a login is 2 to 64 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return login


class AgentDirectory:
    """The desk's people in the product database.

    Args:
        engine: the product database (tables made by `bot.store.ensure_schema`).
        clock: the current aware time; for tests.
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _utc_now) -> None:
        self._engine = engine
        self._clock = clock
        self.audit = AuditLog(engine, clock)

    def add(self, login: str, name: str, role: Role | str, password: str, *, by: str) -> Agent:
        """Adds a person; `AgentError` for a taken login, a bad name or role, a weak password."""
        login = check_login(login)
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME_LENGTH:
            raise AgentError(f"a name is 1 to {MAX_NAME_LENGTH} characters")
        try:
            role = Role(role)
        except ValueError:
            choices = ", ".join(r.value for r in Role)
            raise AgentError(f"unknown role {role!r}: one of {choices}") from None
        try:
            password_hash = hash_password(password)
        except ValueError as error:
            raise AgentError(str(error)) from None
        now = self._clock()
        try:
            with self._engine.begin() as connection:
                new_id = connection.execute(
                    _TABLE.insert().values(
                        login=login, name=name, role=role.value, password_hash=password_hash,
                        active=True, created_at=now, password_changed_at=now,
                    )
                ).inserted_primary_key[0]
                self.audit.record(by, "agent.add", f"agent:{login}", {"role": role.value},
                                  connection=connection)
        except IntegrityError:
            raise AgentError(f"the login {login!r} is taken") from None
        return Agent(new_id, login, name, role, True, now)

    def get(self, login: str) -> Agent | None:
        """The person with this login, active or not."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(_TABLE).where(_TABLE.c.login == login.strip().lower())
            ).first()
        return agent_from_row(row) if row is not None else None

    def all(self) -> list[Agent]:
        """Everyone, by login."""
        with self._engine.connect() as connection:
            rows = connection.execute(select(_TABLE).order_by(_TABLE.c.login))
            return [agent_from_row(row) for row in rows]

    def any_admin(self) -> bool:
        """Whether an active admin exists."""
        with self._engine.connect() as connection:
            return connection.execute(
                select(_TABLE.c.id).where(_TABLE.c.role == Role.ADMIN.value,
                                          _TABLE.c.active.is_(True)).limit(1)
            ).first() is not None

    def authenticate(self, login: str, password: str) -> Agent | None:
        """The active person whose password this is, or None; a stale hash is renewed."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(_TABLE).where(_TABLE.c.login == login.strip().lower())
            ).first()
        stored = row.password_hash if row is not None and row.active else None
        if not verify_password(stored, password):
            return None
        if needs_rehash(row.password_hash):
            with self._engine.begin() as connection:
                connection.execute(update(_TABLE).where(_TABLE.c.id == row.id)
                                   .values(password_hash=hash_password(password)))
        return agent_from_row(row)

    def set_password(self, login: str, password: str, *, by: str) -> None:
        """Gives a person a new password; `AgentError` for an unknown login or weak password."""
        try:
            password_hash = hash_password(password)
        except ValueError as error:
            raise AgentError(str(error)) from None
        self._change(login, {"password_hash": password_hash,
                             "password_changed_at": self._clock()},
                     "agent.password", {}, by, end_sessions=True)

    def deactivate(self, login: str, *, by: str) -> None:
        """Stops a person from logging in; their past actions stay in the audit log."""
        self._change(login, {"active": False}, "agent.deactivate", {}, by, end_sessions=True)

    def _change(
        self, login: str, values: dict, action: str, detail: dict, by: str,
        *, end_sessions: bool = False,
    ) -> None:
        login = login.strip().lower()
        with self._engine.begin() as connection:
            changed = connection.execute(
                update(_TABLE).where(_TABLE.c.login == login).values(**values)
            ).rowcount
            if changed != 1:
                raise AgentError(f"no one has the login {login!r}")
            if end_sessions:  # a new password or a departure logs every browser out
                agent_id = select(_TABLE.c.id).where(_TABLE.c.login == login).scalar_subquery()
                connection.execute(delete(_SESSIONS).where(_SESSIONS.c.agent_id == agent_id))
            self.audit.record(by, action, f"agent:{login}", detail, connection=connection)
