"""The one interface every order back end implements (`bot.orders.factory` picks one)."""

from __future__ import annotations

import abc

from bot.orders.model import Order


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
