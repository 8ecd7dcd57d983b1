"""Whom an export or erasure is about: from the id an admin gives to that person's conversations.

The id is one of:

* a conversation id: a Messenger PSID, a web chat id (``wc-...``), a REST sender;
* an e-mail address (it has an ``@``): the conversations where the customer gave it (as
  their proof of an order, or anywhere in a message) or that a ticket's transcript holds;
  and the orders the demo shop has under it;
* an order number: the conversations that asked about it (the ``order_number`` slot, a
  ticket, a proof attempt).

Which kind it is can be said (`kind`); else an ``@`` means an e-mail, an id some
conversation has means that conversation, and a short id of letters, digits and dashes
that some conversation asked about means an order number.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from bot.privacy.holdings import BY_CONVERSATION, TRACKER_EVENTS, Holdings

KINDS = ("conversation", "email", "order")
MAX_ID_CHARS = 200
ORDER_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{1,19}")
EMAIL = re.compile(r"[^@\s]{1,100}@[^@\s]{1,100}")
EMAIL_SLOTS = frozenset({"proof"})
"""Slots where a customer's e-mail address is kept (the ownership proof)."""


class SubjectError(ValueError):
    """The id cannot name anyone; the message says why (never repeating the id)."""


@dataclass(frozen=True)
class Subject:
    """A person, as the conversations held about them.

    Attributes:
        kind: what the given id is ("conversation", "email" or "order").
        id_hash: SHA-256 (hex) of the id as given (trimmed; e-mails lower-cased): what the
            audit log keeps, so an erasure can be shown without keeping the id.
        conversations: the conversation ids found, sorted.
    """

    kind: str
    id_hash: str
    conversations: tuple[str, ...]


def checked_id(raw: str) -> str:
    """The id trimmed, or SubjectError when it is empty, too long or holds control text."""
    given = raw.strip()
    if not given:
        raise SubjectError("the id is empty")
    if len(given) > MAX_ID_CHARS:
        raise SubjectError(f"the id is longer than {MAX_ID_CHARS} characters")
    if any(unicodedata.category(char)[0] == "C" for char in given):
        raise SubjectError("the id holds control characters")
    return given


def id_hash(given: str, kind: str) -> str:
    """What the audit log keeps of an id."""
    normal = given.lower() if kind == "email" else given
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def resolve(holdings: Holdings, connection: Connection, raw: str,
            kind: str | None = None) -> Subject:
    """The conversations an id is about (none found is no error: nothing is held).

    Raises:
        SubjectError: the id is malformed, or `kind` is unknown or does not fit it.
    """
    given = checked_id(raw)
    if kind is not None and kind not in KINDS:
        raise SubjectError(f"the kind must be one of {', '.join(KINDS)}")
    if kind is None:
        kind = _guess(holdings, connection, given)
    if kind == "email":
        if not EMAIL.fullmatch(given):
            raise SubjectError("that is not an e-mail address")
        found = _by_email(holdings, connection, given.lower())
    elif kind == "order":
        if not ORDER_NUMBER.fullmatch(given):
            raise SubjectError("an order number is 2 to 20 letters, digits or dashes")
        found = _by_order(holdings, connection, given)
    else:
        found = {given} if _is_conversation(holdings, connection, given) else set()
    return Subject(kind, id_hash(given, kind), tuple(sorted(found)))


def _guess(holdings: Holdings, connection: Connection, given: str) -> str:
    if "@" in given:
        return "email"
    if _is_conversation(holdings, connection, given):
        return "conversation"
    if ORDER_NUMBER.fullmatch(given) and _by_order(holdings, connection, given):
        return "order"
    return "conversation"


def _is_conversation(holdings: Holdings, connection: Connection, given: str) -> bool:
    for holding in BY_CONVERSATION:
        table = holdings.table(holding.table)
        if table is None:
            continue
        query = select(table.c[holding.column]).where(table.c[holding.column] == given).limit(1)
        if connection.execute(query).first() is not None:
            return True
    return False


def _slot_value_senders(holdings: Holdings, connection: Connection, slots: frozenset[str],
                        value: str, fold_case: bool) -> set[str]:
    """Conversations that set one of `slots` to `value` (read from Rasa's slot events)."""
    events = holdings.table(TRACKER_EVENTS)
    if events is None:
        return set()
    wanted = value.lower() if fold_case else value
    query = select(events.c.sender_id, events.c.data).where(
        events.c.type_name == "slot",
        func.lower(events.c.data).contains(wanted.lower(), autoescape=True))
    found = set()
    for sender_id, data in connection.execute(query):
        event = _parsed(data)
        held = event.get("value")
        if event.get("name") in slots and isinstance(held, str):
            if (held.strip().lower() if fold_case else held.strip()) == wanted:
                found.add(sender_id)
    return found


def _by_email(holdings: Holdings, connection: Connection, email: str) -> set[str]:
    found = _slot_value_senders(holdings, connection, EMAIL_SLOTS, email, fold_case=True)
    events = holdings.table(TRACKER_EVENTS)
    if events is not None:
        query = select(events.c.sender_id, events.c.data).where(
            events.c.type_name == "user",
            func.lower(events.c.data).contains(email, autoescape=True))
        for sender_id, data in connection.execute(query):
            text = _parsed(data).get("text")
            if isinstance(text, str) and email in text.lower():
                found.add(sender_id)
    tickets = holdings.table("handoff_tickets")
    if tickets is not None:
        query = select(tickets.c.conversation_id).where(
            func.lower(tickets.c.transcript).contains(email, autoescape=True))
        found |= {row.conversation_id for row in connection.execute(query)}
    for number in _shop_orders_of(holdings, connection, email):
        found |= _by_order(holdings, connection, number)
    return found


def _shop_orders_of(holdings: Holdings, connection: Connection, email: str) -> list[str]:
    """The demo shop's order numbers under an e-mail (none with another order back end)."""
    customers, orders = holdings.table("shop_customers"), holdings.table("shop_orders")
    if customers is None or orders is None:
        return []
    query = (select(orders.c.number).join(customers, orders.c.customer_id == customers.c.id)
             .where(func.lower(customers.c.email) == email))
    return [row.number for row in connection.execute(query)]


def _by_order(holdings: Holdings, connection: Connection, number: str) -> set[str]:
    found = _slot_value_senders(holdings, connection, frozenset({"order_number"}), number,
                                fold_case=False)
    for name in ("handoff_tickets", "proof_attempts"):
        table = holdings.table(name)
        if table is not None:
            query = select(table.c.conversation_id).where(table.c.order_number == number)
            found |= {row.conversation_id for row in connection.execute(query)}
    return found


def _parsed(data: object) -> dict:
    try:
        value = json.loads(data) if isinstance(data, str) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
