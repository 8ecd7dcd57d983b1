"""Web chat sessions on SQLite and PostgreSQL: the server's conversation ids, kept by a token."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from bot.store.tables import WebChatSessionRow
from bot.webchat.sessions import (
    MAX_IDLE,
    TOUCH_EVERY,
    WebChatSessions,
    token_hash,
    well_formed_token,
)

T0 = datetime(2025, 3, 4, 22, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def sessions(engine: Engine, clock: Clock) -> WebChatSessions:
    return WebChatSessions(engine, clock=clock)


def _row(engine: Engine, token: str) -> WebChatSessionRow | None:
    with engine.connect() as connection:
        return connection.execute(
            select(WebChatSessionRow.__table__).where(
                WebChatSessionRow.token_hash == token_hash(token))
        ).first()


def test_a_session_gets_a_server_made_conversation_and_only_the_tokens_hash_is_kept(
    engine, sessions
):
    opened = sessions.open()
    assert re.fullmatch(r"wc-[0-9a-f]{32}", opened.conversation_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", opened.token)
    assert sessions.conversation_of(opened.token) == opened.conversation_id
    row = _row(engine, opened.token)
    assert row.token_hash == hashlib.sha256(opened.token.encode()).hexdigest()
    assert row.created_at == row.last_seen_at == T0
    with engine.connect() as connection:
        stored = [tuple(r) for r in connection.execute(select(WebChatSessionRow.__table__))]
    assert all(opened.token not in str(value) for value in stored[0])
    assert opened.token not in repr(opened) and opened.conversation_id not in repr(opened)


def test_two_sessions_have_different_conversations_and_tokens(sessions):
    first, second = sessions.open(), sessions.open()
    assert first.conversation_id != second.conversation_id and first.token != second.token
    assert sessions.conversation_of(second.token) == second.conversation_id


@pytest.mark.parametrize(
    "token",
    [None, "", "short", "x" * 31, "x" * 65, "a" * 43 + "'", "../../" + "a" * 40,
     "a b" + "c" * 40, "é" * 43, "a" * 10_000],
)
def test_a_token_of_the_wrong_shape_is_no_session_and_asks_no_database(token):
    class NoDatabase:
        def __getattr__(self, name):
            raise AssertionError(f"the database was asked ({name})")

    assert not well_formed_token(token)
    assert WebChatSessions(NoDatabase()).conversation_of(token) is None  # type: ignore[arg-type]
    assert WebChatSessions(NoDatabase()).touch(token) is False  # type: ignore[arg-type]


def test_an_unknown_token_of_the_right_shape_is_no_session(sessions):
    sessions.open()
    assert sessions.conversation_of("A" * 43) is None
    assert sessions.touch("A" * 43) is False


def test_the_last_use_is_written_at_most_once_a_minute(engine, sessions, clock):
    opened = sessions.open()
    clock.now = T0 + TOUCH_EVERY - timedelta(seconds=1)
    assert sessions.conversation_of(opened.token) == opened.conversation_id
    assert _row(engine, opened.token).last_seen_at == T0
    clock.now = T0 + TOUCH_EVERY
    assert sessions.conversation_of(opened.token) == opened.conversation_id
    assert _row(engine, opened.token).last_seen_at == T0 + TOUCH_EVERY
    clock.now = T0 + TOUCH_EVERY + timedelta(seconds=5)
    assert sessions.touch(opened.token) is True
    assert _row(engine, opened.token).last_seen_at == clock.now


def test_a_session_idle_too_long_no_longer_counts_and_is_removed(engine, sessions, clock):
    kept, idle = sessions.open(), sessions.open()
    clock.now = T0 + MAX_IDLE - timedelta(minutes=1)
    assert sessions.conversation_of(kept.token) == kept.conversation_id
    clock.now = T0 + MAX_IDLE + timedelta(seconds=1)
    assert sessions.touch(idle.token) is False
    assert sessions.conversation_of(idle.token) is None
    assert _row(engine, idle.token) is None
    assert sessions.conversation_of(kept.token) == kept.conversation_id  # used a minute ago


def test_the_table_is_made_by_the_schema_and_by_ensure_table(engine, sessions):
    assert "webchat_sessions" in inspect(engine).get_table_names()
    sessions.ensure_table()  # already there: nothing happens
    WebChatSessionRow.__table__.drop(engine)
    sessions.ensure_table()
    assert "webchat_sessions" in inspect(engine).get_table_names()
    opened = sessions.open()
    assert sessions.conversation_of(opened.token) == opened.conversation_id


def test_a_conversation_belongs_to_one_session(engine, sessions):
    opened = sessions.open()
    with pytest.raises(Exception):  # noqa: B017 - the unique constraint, whatever the driver
        with engine.begin() as connection:
            connection.execute(WebChatSessionRow.__table__.insert().values(
                token_hash="0" * 64, conversation_id=opened.conversation_id,
                created_at=T0, last_seen_at=T0))
