"""A customer's data on request: all of it as one JSON document, or erased everywhere.

`export_customer` gathers, for every conversation the id names (`bot.privacy.subject`),
every row `bot.privacy.holdings` knows: Rasa's events, tickets with their transcripts,
notes, claims and deliveries, the Messenger inbox, sends, outbox and thread, proof
attempts, the web chat's messages and sessions, the trainer's marks and decisions.

`erase_customer` deletes all of that in one transaction, and in the same transaction adds
one audit entry: who, when, the id's kind and SHA-256, how many conversations and rows; never
the id or any content. Both are audited (an export is a disclosure too).

The audit log is passed in (anything with the `AuditRecorder` shape), so this package does
not depend on the desk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Connection, Engine

from bot.privacy.holdings import NOT_ABOUT_CUSTOMERS, Holdings
from bot.privacy.subject import Subject, resolve

EXPORT_FORMAT = "nightdesk-customer-export/1"


class AuditRecorder(Protocol):
    """What the privacy actions need of the audit log (`bot.store.audit.AuditLog`)."""

    def record(self, actor: str, action: str, target: str,
               detail: dict[str, Any] | None = None, *,
               connection: Connection | None = None) -> None:
        """Adds an entry, inside `connection`'s transaction when given."""


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed."""

    subject: Subject
    rows: dict[str, int]

    @property
    def total(self) -> int:
        """Rows deleted in all."""
        return sum(self.rows.values())


def audit_target(subject: Subject) -> str:
    """The audit entry's target: the id's kind and the start of its hash."""
    return f"customer:{subject.kind}:{subject.id_hash[:16]}"


def export_customer(engine: Engine, customer_id: str, *, by: str, audit: AuditRecorder,
                    now: datetime, kind: str | None = None) -> dict[str, Any]:
    """Everything held about the person, as one JSON-ready document (audited).

    Raises:
        SubjectError: the id is malformed or does not fit `kind`.
    """
    holdings = Holdings(engine)
    with engine.begin() as connection:
        subject = resolve(holdings, connection, customer_id, kind)
        rows = holdings.rows(connection, subject.conversations)
        audit.record(by, "customer.export", audit_target(subject),
                     {"kind": subject.kind, "id_sha256": subject.id_hash,
                      "conversations": len(subject.conversations),
                      "rows": sum(len(found) for found in rows.values())},
                     connection=connection)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": now.isoformat(),
        "asked_for": {"kind": subject.kind, "id": customer_id.strip()},
        "conversations": list(subject.conversations),
        "held": {name: found for name, found in sorted(rows.items()) if found},
        "not_held_here": dict(sorted(NOT_ABOUT_CUSTOMERS.items())),
    }


def erase_customer(engine: Engine, customer_id: str, *, by: str, audit: AuditRecorder,
                   kind: str | None = None) -> Erasure:
    """Deletes everything held about the person, with one audit entry, in one transaction.

    Raises:
        SubjectError: the id is malformed or does not fit `kind`.
    """
    holdings = Holdings(engine)
    with engine.begin() as connection:
        subject = resolve(holdings, connection, customer_id, kind)
        rows = holdings.erase(connection, subject.conversations)
        audit.record(by, "customer.erase", audit_target(subject),
                     {"kind": subject.kind, "id_sha256": subject.id_hash,
                      "conversations": len(subject.conversations), "rows": rows},
                     connection=connection)
    return Erasure(subject, rows)


class CustomerData:
    """Export and erasure bound to one database, audit log and clock (for the desk).

    Args:
        engine: the product database.
        audit: the audit log the actions are recorded in.
        clock: the current aware time (the export's date).
    """

    def __init__(self, engine: Engine, audit: AuditRecorder,
                 clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._audit = audit
        self._clock = clock

    def export(self, customer_id: str, *, by: str, kind: str | None = None) -> dict[str, Any]:
        """`export_customer` (audited under `by`)."""
        return export_customer(self._engine, customer_id, by=by, audit=self._audit,
                               now=self._clock(), kind=kind)

    def erase(self, customer_id: str, *, by: str, kind: str | None = None) -> Erasure:
        """`erase_customer` (audited under `by`)."""
        return erase_customer(self._engine, customer_id, by=by, audit=self._audit, kind=kind)
