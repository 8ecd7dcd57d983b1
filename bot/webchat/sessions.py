"""Web chat sessions: the server makes each browser's conversation id and keeps it by a cookie.

Rasa keys a conversation by its sender id alone, whatever the channel, so a web chat page
that chose its own id could name a Messenger customer's conversation and read the bot's
answers to it. Here the id is made by the server instead: ``"wc-"`` and 32 random hex digits,
found again by a random token that the browser holds in an HttpOnly cookie (`COOKIE_NAME`,
set by `bot.webchat.channel`). The database keeps only the token's SHA-256, so a copy of it
cannot be used to read a chat. A session unused for `MAX_IDLE` no longer counts.

No Rasa import, and nothing here logs the token or the conversation.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import Engine

from bot.store.database import session_scope
from bot.store.tables import WebChatSessionRow

COOKIE_NAME = "nightdesk_webchat"
"""The cookie that holds a browser's session token."""

MAX_IDLE = timedelta(days=30)
"""How long a session may go unused (also the cookie's Max-Age)."""

TOUCH_EVERY = timedelta(minutes=1)
"""A session's last use is written at most this often."""

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,64}")
"""What a token can look like (`secrets.token_urlsafe(32)` makes 43 such characters)."""

CONVERSATION_PATTERN = re.compile(r"wc-[0-9a-f]{32}")
"""What the conversation ids made here look like."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def token_hash(token: str) -> str:
    """The SHA-256 hex of a token: what the database keeps."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed_token(token: object) -> bool:
    """Whether a cookie's value has the shape of a token (checked before any database call)."""
    return isinstance(token, str) and TOKEN_PATTERN.fullmatch(token) is not None


@dataclass(frozen=True)
class OpenedSession:
    """A new session: the token for the cookie, and its conversation."""

    token: str
    conversation_id: str

    def __repr__(self) -> str:  # the token stays out of logs and tracebacks
        return "OpenedSession(token=..., conversation_id=...)"


class WebChatSessions:
    """The web chat's sessions in the product database.

    Args:
        engine: the product database (the table is made by `bot.store.ensure_schema`, or
            by `ensure_table`).
        clock: the current aware time; for tests.
        max_idle: how long a session may go unused.
    """

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = _utc_now,
        max_idle: timedelta = MAX_IDLE,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._max_idle = max_idle

    def ensure_table(self) -> None:
        """Creates the sessions table if the database has none yet (idempotent)."""
        WebChatSessionRow.__table__.create(self._engine, checkfirst=True)

    def open(self) -> OpenedSession:
        """Starts a session with a new conversation; its token (for the cookie) and id."""
        token = secrets.token_urlsafe(32)
        conversation_id = "wc-" + secrets.token_hex(16)
        now = self._clock()
        with session_scope(self._engine) as session:
            session.add(WebChatSessionRow(
                token_hash=token_hash(token), conversation_id=conversation_id,
                created_at=now, last_seen_at=now,
            ))
        return OpenedSession(token, conversation_id)

    def conversation_of(self, token: str | None) -> str | None:
        """The conversation of a cookie's token, or None (no, a malformed or an idle token).

        A token of the wrong shape or length is None without asking the database. The
        session's last use is written when it is more than `TOUCH_EVERY` old; an idle
        session is removed.
        """
        if not well_formed_token(token):
            return None
        assert token is not None
        now = self._clock()
        with session_scope(self._engine) as session:
            row = session.get(WebChatSessionRow, token_hash(token))
            if row is None:
                return None
            if now - row.last_seen_at > self._max_idle:
                session.delete(row)
                return None
            if now - row.last_seen_at >= TOUCH_EVERY:
                row.last_seen_at = now
            return str(row.conversation_id)

    def touch(self, token: str | None) -> bool:
        """Writes a session's last use now (whatever `TOUCH_EVERY`); whether it counts."""
        if not well_formed_token(token):
            return False
        assert token is not None
        with session_scope(self._engine) as session:
            row = session.get(WebChatSessionRow, token_hash(token))
            if row is None or self._clock() - row.last_seen_at > self._max_idle:
                return False
            row.last_seen_at = self._clock()
            return True
