"""Picks the order back end the settings name (`ORDERS_BACKEND`), apart from its interface."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.orders.backend import OrderBackend
from bot.orders.http_backend import HttpOrderBackend
from bot.orders.sql_backend import SqlOrderBackend
from bot.settings import Settings


def order_backend_for(settings: Settings, engine: Engine) -> OrderBackend:
    """The back end named by `ORDERS_BACKEND` in the settings.

    Args:
        settings: the process settings (`orders_backend`, the shop API's URL and token).
        engine: the product database, where the demo shop's orders are (the "sql" back end).
    """
    if settings.orders_backend == "http":
        assert settings.shop_api_url is not None  # checked by load_settings
        return HttpOrderBackend(settings.shop_api_url, settings.shop_api_token)
    return SqlOrderBackend(engine)
