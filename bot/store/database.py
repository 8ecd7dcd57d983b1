"""Engine and session set-up for SQLite (WAL) and PostgreSQL (the schema: `bot.store.schema`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

SQLITE_POOL_SIZE = 8
"""SQLite connections a process keeps open (as many again may open for a burst)."""

SQLITE_BUSY_TIMEOUT_MS = 30000
"""How long an SQLite connection waits for another one's write lock before giving up."""


def _enable_sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


@lru_cache(maxsize=8)
def create_db_engine(database_url: str) -> Engine:
    """The (cached) engine for a database URL; SQLite files get WAL mode and their folder.

    Args:
        database_url: an SQLAlchemy URL such as `sqlite:////abs/path.db` or
            `postgresql://user@127.0.0.1:5432/test`.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # pooled: SQLAlchemy 1.4 opens a new file connection per use otherwise (NullPool),
        # and with it runs the PRAGMAs below, journal_mode's lock included, every time
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, future=True,
            poolclass=QueuePool, pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_SIZE,
        )
        event.listen(engine, "connect", _enable_sqlite_wal)
        return engine
    return create_engine(url, pool_pre_ping=True, future=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back on error."""
    session = sessionmaker(bind=engine, future=True, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
