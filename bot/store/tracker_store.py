"""Rasa's SQL tracker store, pointed at the product database from `DATABASE_URL`.

Referenced from endpoints.yml, so one setting decides where both our tables and Rasa's
conversations live (SQLite file by default, PostgreSQL in production).
"""

from __future__ import annotations

from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.engine import make_url

from bot.settings import get_settings
from bot.store.database import create_db_engine


class ProductTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` configured from the settings instead of endpoints.yml keys."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        """Parses `DATABASE_URL`; `host` and other endpoint keys are ignored."""
        url = make_url(get_settings().database_url)
        if url.get_backend_name() == "sqlite":
            with create_db_engine(str(url)).connect():
                pass  # creates the folder and switches the file to WAL mode (it stays so)
        super().__init__(
            domain=domain,
            dialect=url.drivername,
            host=url.host,
            port=url.port,
            db=url.database,
            username=url.username,
            password=url.password,
            event_broker=event_broker,
            query=dict(url.query),
        )
