"""The desk's login rate limit: too many failed passwords lock a login, or an address, a while.

Three counts over the last `window`, so that one person's typos cannot lock the team out when
every agent comes through the same HTTPS proxy (one address), while guessing stays slow:

* a login *from one address* is refused once it has `max_per_login_and_address` failures
  there (someone guessing one person's password; that person's own typos lock only them);
* a login is refused from every address once it has `max_per_login` failures in all
  (someone guessing one password from many addresses);
* an address is refused for every login once it has `max_per_address` failures, whichever
  logins they tried (someone trying many logins); it is much higher than the others because
  a whole team may share one address.

Attempts refused by the limit are not counted, so after a lock one login's failures stay at
`max_per_login_and_address` and never reach the address's limit by themselves. Failures are
kept in the product database, so every desk process sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

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
        max_per_login: failures of one login, from any addresses, that lock it everywhere.
        max_per_address: failures from one address, for any logins, that lock the address.
        max_per_login_and_address: failures of one login from one address that lock that
            login from that address.
    """

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = _utc_now,
        window: timedelta = timedelta(minutes=15),
        max_per_login: int = 20,
        max_per_address: int = 100,
        max_per_login_and_address: int = 5,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self.window = window
        self._max_per_login = max_per_login
        self._max_per_address = max_per_address
        self._max_per_login_and_address = max_per_login_and_address

    def blocked(self, login: str, address: str) -> bool:
        """Whether an attempt for this login from this address must be refused unchecked."""
        since = self._clock() - self.window
        recent = _TABLE.c.at > since
        same_login = _TABLE.c.login == _key(login)
        same_address = _TABLE.c.address == address[:64]

        def count(connection: Connection, *where: ColumnElement) -> int:
            return connection.execute(select(func.count()).where(recent, *where)).scalar_one()

        with self._engine.connect() as connection:
            return (
                count(connection, same_login, same_address) >= self._max_per_login_and_address
                or count(connection, same_login) >= self._max_per_login
                or count(connection, same_address) >= self._max_per_address
            )

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
