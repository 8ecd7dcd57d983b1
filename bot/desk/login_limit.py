"""The desk's login rate limit: too many failed passwords lock a login, or an address, a while.

A login is refused for `window` once it has `max_per_login` failures inside it, whichever
address they came from (someone guessing one person's password); an address is refused once
it has `max_per_address` failures inside it, whichever logins they tried (someone trying
many logins). Failures are kept in the product database, so every desk process sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from bot.store.tables import LoginFailureRow

_TABLE = LoginFailureRow.__table__


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class LoginLimit:
    """Counts failed logins and says when to stop accepting attempts.

    Args:
        engine: the product database.
        clock: the current aware time; for tests.
        window: how far back failures count.
        max_per_login: failures of one login that lock it.
        max_per_address: failures from one address that lock it.
    """

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = _utc_now,
        window: timedelta = timedelta(minutes=15),
        max_per_login: int = 5,
        max_per_address: int = 20,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self.window = window
        self._max_per_login = max_per_login
        self._max_per_address = max_per_address

    def blocked(self, login: str, address: str) -> bool:
        """Whether an attempt for this login from this address must be refused unchecked."""
        since = self._clock() - self.window
        with self._engine.connect() as connection:
            by_login = connection.execute(select(func.count()).where(
                _TABLE.c.login == _key(login), _TABLE.c.at > since)).scalar_one()
            by_address = connection.execute(select(func.count()).where(
                _TABLE.c.address == address[:64], _TABLE.c.at > since)).scalar_one()
        return by_login >= self._max_per_login or by_address >= self._max_per_address

    def failed(self, login: str, address: str) -> None:
        """Records a failed attempt; old failures are dropped on the way."""
        now = self._clock()
        with self._engine.begin() as connection:
            connection.execute(delete(_TABLE).where(_TABLE.c.at <= now - self.window))
            connection.execute(_TABLE.insert().values(
                login=_key(login), address=address[:64], at=now))

    def succeeded(self, login: str) -> None:
        """A correct password clears that login's failures."""
        with self._engine.begin() as connection:
            connection.execute(delete(_TABLE).where(_TABLE.c.login == _key(login)))


def _key(login: str) -> str:
    return login.strip().lower()[:64]
