"""The audit log: every state change, with who made it, what it was and when.

Entries are only ever added. `detail` holds the facts of a change as JSON; callers never put
a password or a customer's personal data in it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from bot.store.tables import AuditRow

_TABLE = AuditRow.__table__


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class AuditEntry:
    """One recorded change."""

    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


class AuditLog:
    """Writes and reads the audit log.

    Args:
        engine: the product database (tables made by `bot.store.ensure_schema`).
        clock: the current aware time; for tests.
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _utc_now) -> None:
        self._engine = engine
        self._clock = clock

    def record(
        self,
        actor: str,
        action: str,
        target: str,
        detail: dict[str, Any] | None = None,
        *,
        connection: Connection | None = None,
    ) -> None:
        """Adds an entry.

        Inside `connection`'s transaction when given, so a change and its entry are committed
        together; else in a transaction of its own.
        """
        values = {
            "at": self._clock(),
            "actor": actor[:64],
            "action": action[:64],
            "target": target[:120],
            "detail": json.dumps(detail or {}, sort_keys=True, ensure_ascii=False),
        }
        if connection is not None:
            connection.execute(_TABLE.insert().values(**values))
            return
        with self._engine.begin() as own:
            own.execute(_TABLE.insert().values(**values))

    def recent(self, limit: int = 100, target: str | None = None) -> list[AuditEntry]:
        """The newest entries first, optionally only those about one target."""
        query = select(_TABLE).order_by(_TABLE.c.id.desc()).limit(limit)
        if target is not None:
            query = query.where(_TABLE.c.target == target)
        with self._engine.connect() as connection:
            return [
                AuditEntry(row.at, row.actor, row.action, row.target, json.loads(row.detail))
                for row in connection.execute(query)
            ]
