"""Where a conversation's data is held: every table, how its rows are found, read and erased.

A conversation is named by its id (a Messenger PSID, a web chat id, a REST sender). Its rows:

* keyed by the conversation id: Rasa's tracker events, handoff tickets, Messenger inbox,
  outbox and thread, proof attempts, the web chat's people's messages and sessions, the
  trainer's marked messages;
* keyed by one of its tickets: packets, claims, notes, team-channel deliveries;
* keyed by one of its inbox events: the Send API ledger;
* keyed by one of its messages (``<conversation>@<time>``): the trainer's review decisions.

`NOT_ABOUT_CUSTOMERS` names the tables that hold nothing about a customer, with why; a test
checks that every table of the schema is in one list or the other, so a new table cannot be
forgotten by export, erasure and retention.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import MetaData, Table, delete, func, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import NoSuchTableError

from bot.store.tables import Base

TRACKER_EVENTS = "events"
"""Rasa's tracker store table (`SQLTrackerStore`), in the product database."""


@dataclass(frozen=True)
class ByConversation:
    """A table whose rows name the conversation in `column`; `when` is each row's time."""

    table: str
    column: str
    when: str


@dataclass(frozen=True)
class ByParent:
    """A table whose rows belong to a row of `parent` (its `parent_key`) through `column`."""

    table: str
    column: str
    parent: str
    parent_key: str


BY_CONVERSATION: tuple[ByConversation, ...] = (
    ByConversation(TRACKER_EVENTS, "sender_id", "timestamp"),
    ByConversation("handoff_tickets", "conversation_id", "created_at"),
    ByConversation("messenger_inbox", "conversation_id", "received_at"),
    ByConversation("messenger_outbox", "conversation_id", "created_at"),
    ByConversation("messenger_threads", "psid", "updated_at"),
    ByConversation("proof_attempts", "conversation_id", "attempted_at"),
    ByConversation("webchat_agent_messages", "conversation_id", "at"),
    ByConversation("webchat_sessions", "conversation_id", "last_seen_at"),
    ByConversation("trainer_marks", "conversation_id", "marked_at"),
)

BY_PARENT: tuple[ByParent, ...] = (
    ByParent("handoff_packets", "ticket_id", "handoff_tickets", "id"),
    ByParent("desk_claims", "ticket_id", "handoff_tickets", "id"),
    ByParent("desk_notes", "ticket_id", "handoff_tickets", "id"),
    ByParent("desk_deliveries", "ticket_id", "handoff_tickets", "id"),
    ByParent("messenger_sends", "event_id", "messenger_inbox", "event_id"),
)

REVIEW_DECISIONS = "trainer_decisions"
"""Keyed by message (`bot.trainer.review.message_key`: ``<conversation>@<seconds>``)."""

NOT_ABOUT_CUSTOMERS: dict[str, str] = {
    "desk_agents": "the team's own accounts",
    "desk_sessions": "agents' login sessions",
    "desk_login_failures": "agents' failed logins (retention erases the old ones)",
    "desk_audit": "who changed what: case numbers and counts, never a customer's words",
    "shop_customers": "the demo shop behind the SQL order back end (the shop's own records)",
    "shop_orders": "the demo shop behind the SQL order back end (the shop's own records)",
    "shop_order_items": "the demo shop behind the SQL order back end (the shop's own records)",
}

SECRET_COLUMNS = frozenset({"token_hash", "csrf_token", "password_hash"})
"""Never exported: what lets someone act as a customer or an agent."""

JSON_COLUMNS = frozenset({
    (TRACKER_EVENTS, "data"), ("messenger_inbox", "payload"), ("messenger_outbox", "body"),
    ("messenger_outbox", "message_ids"), ("messenger_sends", "message_ids"),
    ("handoff_packets", "intents_seen"),
})
"""Text columns that hold JSON: exported parsed, so the document reads as one."""

CHUNK = 400
"""Conversation ids per IN (...) list (SQLite allows some hundreds of bound values)."""


def held_tables() -> tuple[str, ...]:
    """Every table that holds something about a customer's conversation."""
    return (*(h.table for h in BY_CONVERSATION), *(h.table for h in BY_PARENT),
            REVIEW_DECISIONS)


def chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    """`values` in slices of at most `CHUNK`."""
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


class Holdings:
    """The tables of one database, as export, erasure and retention read them.

    Rasa's ``events`` table is reflected when it exists (it does once Rasa stored a
    conversation); a table of the map that the database does not have yet holds nothing.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._tables: dict[str, Table] = dict(Base.metadata.tables)
        try:
            self._tables[TRACKER_EVENTS] = Table(TRACKER_EVENTS, MetaData(),
                                                 autoload_with=engine)
        except NoSuchTableError:
            pass

    def table(self, name: str) -> Table | None:
        """The table, or None when this database has none of that name."""
        return self._tables.get(name)

    def rows(self, connection: Connection,
             conversation_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Every row held about the conversations, by table, each as JSON-ready data."""
        found: dict[str, list[dict[str, Any]]] = {}
        ids = sorted(set(conversation_ids))
        parents: dict[str, list[Any]] = {}
        for holding in BY_CONVERSATION:
            table = self.table(holding.table)
            if table is None:
                continue
            rows = _rows_where_in(connection, table, holding.column, ids)
            found[holding.table] = [_jsonable(holding.table, row) for row in rows]
            parents[holding.table] = rows
        for holding in BY_PARENT:
            table = self.table(holding.table)
            keys = [row[holding.parent_key] for row in parents.get(holding.parent, [])]
            if table is None:
                continue
            rows = _rows_where_in(connection, table, holding.column, keys)
            found[holding.table] = [_jsonable(holding.table, row) for row in rows]
        decisions = self.table(REVIEW_DECISIONS)
        if decisions is not None:
            rows = []
            for part in chunks(ids):
                query = select(decisions).where(_keyed_by(decisions, part)).order_by(
                    decisions.c.item_key)
                rows += [dict(row._mapping) for row in connection.execute(query)]
            found[REVIEW_DECISIONS] = [_jsonable(REVIEW_DECISIONS, row) for row in rows]
        return found

    def erase(self, connection: Connection, conversation_ids: Sequence[str]) -> dict[str, int]:
        """Deletes every row held about the conversations, children first; rows per table.

        Runs in `connection`'s transaction: the caller commits all of it or none.
        """
        ids = sorted(set(conversation_ids))
        erased: dict[str, int] = {}
        for holding in BY_PARENT:
            table, parent = self.table(holding.table), self.table(holding.parent)
            owner = next(h for h in BY_CONVERSATION if h.table == holding.parent)
            if table is None or parent is None:
                continue
            count = 0
            for part in chunks(ids):
                keys = select(parent.c[holding.parent_key]).where(
                    parent.c[owner.column].in_(part))
                count += connection.execute(
                    delete(table).where(table.c[holding.column].in_(keys))).rowcount
            erased[holding.table] = count
        decisions = self.table(REVIEW_DECISIONS)
        if decisions is not None:
            erased[REVIEW_DECISIONS] = sum(
                connection.execute(delete(decisions).where(_keyed_by(decisions, part))).rowcount
                for part in chunks(ids))
        for holding in BY_CONVERSATION:
            table = self.table(holding.table)
            if table is None:
                continue
            erased[holding.table] = sum(
                connection.execute(
                    delete(table).where(table.c[holding.column].in_(part))).rowcount
                for part in chunks(ids))
        return {name: count for name, count in erased.items() if count}

    def last_activity(self, connection: Connection) -> dict[str, datetime]:
        """Each conversation's latest row time over every table that names conversations."""
        latest: dict[str, datetime] = {}
        for holding in BY_CONVERSATION:
            table = self.table(holding.table)
            if table is None:
                continue
            query = select(table.c[holding.column], func.max(table.c[holding.when])).group_by(
                table.c[holding.column])
            for conversation_id, when in connection.execute(query):
                at = _as_datetime(when)
                if conversation_id is None or at is None:
                    continue
                if conversation_id not in latest or at > latest[conversation_id]:
                    latest[conversation_id] = at
        return latest


def _rows_where_in(connection: Connection, table: Table, column: str,
                   values: Sequence[Any]) -> list[dict[str, Any]]:
    """The rows whose `column` is one of `values`, in primary-key order per chunk."""
    rows: list[dict[str, Any]] = []
    for part in chunks(values):
        query = (select(table).where(table.c[column].in_(part))
                 .order_by(*table.primary_key.columns))
        rows += [dict(row._mapping) for row in connection.execute(query)]
    return rows


def _keyed_by(decisions: Table, conversation_ids: Iterable[str]) -> Any:
    """Review decisions about a message of one of the conversations."""
    return or_(*(decisions.c.item_key.like(f"{_escaped(cid)}@%", escape="\\")
                 for cid in conversation_ids))


def _escaped(text: str) -> str:
    """`text` matched literally by LIKE (a backslash is the escape character)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _as_datetime(value: object) -> datetime | None:
    """A row time: Rasa keeps seconds since the epoch, our tables aware datetimes."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    if isinstance(value, str):  # SQLite's max() over a datetime column gives its text
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def _jsonable(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON-ready data: times in ISO 8601, JSON text parsed, secrets left out."""
    out: dict[str, Any] = {}
    for column, value in row.items():
        if column in SECRET_COLUMNS:
            continue
        if isinstance(value, (datetime, date)):
            value = value.isoformat()
        elif isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, str) and (table, column) in JSON_COLUMNS:
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if table == TRACKER_EVENTS and column == "timestamp" and isinstance(value, float):
            out["at"] = datetime.fromtimestamp(value, tz=timezone.utc).isoformat()
        out[column] = value
    return out
