"""Per-thread state of Messenger conversations: the customer's last message and who owns it.

The messaging window is measured from the customer's last message, and thread control
(Handover Protocol / Conversation Routing) decides whether the bot or a person answers.
Both are kept in the `messenger_threads` table, shared by every Rasa process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum

from sqlalchemy.engine import Engine

from bot.store import MessengerThreadRow, session_scope


class ThreadOwner(str, Enum):
    """Who answers in a thread."""

    BOT = "bot"
    PERSON = "person"


@dataclass(frozen=True)
class ThreadState:
    """One thread as stored.

    Attributes:
        psid: the customer's page-scoped id.
        page_id: the page the thread is on.
        last_customer_message_at: when the customer last wrote (None: never, e.g. a private
            reply to a comment opened the thread).
        owner: whether the bot or a person owns the thread now.
        owner_app_id: the app that owns it, when thread control told us.
    """

    psid: str
    page_id: str
    last_customer_message_at: datetime | None
    owner: ThreadOwner
    owner_app_id: str | None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ThreadStore:
    """Reads and updates `messenger_threads`.

    Args:
        engine: the product database (schema created).
        clock: the current aware time; for tests.
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _utc_now) -> None:
        self._engine = engine
        self._clock = clock

    def get(self, psid: str) -> ThreadState | None:
        """The thread, or None when the page never talked with this customer."""
        with session_scope(self._engine) as session:
            row = session.get(MessengerThreadRow, psid)
            return None if row is None else _state(row)

    def customer_wrote(self, psid: str, page_id: str, at: datetime) -> ThreadState:
        """Records a customer message; the thread as it is now (what `get` would read next).

        The window never moves back for an older event.
        """
        with session_scope(self._engine) as session:
            row = self._row(session, psid, page_id)
            if row.last_customer_message_at is None or at > row.last_customer_message_at:
                row.last_customer_message_at = at
            row.updated_at = self._clock()
            return _state(row)

    def ensure(self, psid: str, page_id: str) -> None:
        """Creates the thread if it is new (e.g. a private reply opened it); changes nothing."""
        with session_scope(self._engine) as session:
            self._row(session, psid, page_id)

    def set_owner(
        self, psid: str, page_id: str, owner: ThreadOwner, app_id: str | None = None
    ) -> bool:
        """Records who owns the thread now.

        Returns:
            True when this changed the owner.
        """
        with session_scope(self._engine) as session:
            row = self._row(session, psid, page_id)
            changed = row.owner != owner.value
            row.owner = owner.value
            row.owner_app_id = app_id
            row.updated_at = self._clock()
            return changed

    def _row(self, session, psid: str, page_id: str) -> MessengerThreadRow:  # noqa: ANN001
        row = session.get(MessengerThreadRow, psid, with_for_update=True)
        if row is None:
            row = MessengerThreadRow(
                psid=psid, page_id=page_id, owner=ThreadOwner.BOT.value, updated_at=self._clock()
            )
            session.add(row)
            session.flush()
        return row


def _state(row: MessengerThreadRow) -> ThreadState:
    """What a thread row says."""
    return ThreadState(row.psid, row.page_id, row.last_customer_message_at,
                       ThreadOwner(row.owner), row.owner_app_id)
