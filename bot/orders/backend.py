"""The one interface every order back end implements, and the factory that picks one."""

from __future__ import annotations

import abc

from bot.orders.model import Order
from bot.settings import Settings


class OrderLookupError(RuntimeError):
    """The back end could not answer (down, timed out, malformed answer)."""


class OrderBackend(abc.ABC):
    """Looks orders up by number. Ownership checks happen above this, in `bot.orders.proof`."""

    @abc.abstractmethod
    async def get_order(self, number: str) -> Order | None:
        """The order with this number, or None when the shop has no such order.

        Raises:
            OrderLookupError: the shop could not be asked.
        """

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Releases connections; the default has none."""

    @staticmethod
    def create(settings: Settings) -> OrderBackend:
        """The back end named by `ORDERS_BACKEND` in the settings."""
        if settings.orders_backend == "http":
            from bot.orders.http_backend import HttpOrderBackend

            assert settings.shop_api_url is not None  # checked by load_settings
            return HttpOrderBackend(settings.shop_api_url, settings.shop_api_token)
        from bot.orders.sql_backend import SqlOrderBackend
        from bot.store import create_db_engine

        return SqlOrderBackend(create_db_engine(settings.database_url))
