"""The product's schema, kept by Alembic migrations (`bot/store/migrations`).

`upgrade` brings a database to the newest revision (or a named one) in one transaction;
`current` says where a database is; `history` lists the revisions. `ensure_schema`, which
every process runs on start, upgrades only when the database is behind, so a process whose
database is current costs one query.

Several processes may start at once on one PostgreSQL database (`nightdesk up --processes N`,
or systemd starting every unit): an upgrade takes a transaction-level advisory lock first, so
one process migrates while the others wait and then find nothing left to do (on SQLite, a
lock file beside the database does the same). A database made
by the release of 2026-12-01 (tables from `create_all`, no version) is adopted by the first
migration. Rasa's `events` table is Rasa's own and never migrated here.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from bot.store.tables import Base

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

UPGRADE_LOCK_KEY = 7_364_021_812
"""PostgreSQL advisory lock taken while a process upgrades (any number; ours alone)."""


def is_product_object(obj: object, name: str | None, type_: str, reflected: bool,
                      compare_to: object) -> bool:
    """Alembic's filter: tables that are not the product's (Rasa's `events`) are left out."""
    if type_ == "table":
        return name in Base.metadata.tables
    table = getattr(obj, "table", None)
    return table is None or table.name in Base.metadata.tables


@dataclass(frozen=True)
class Revision:
    """One migration: its id and the first line of what it does."""

    id: str
    summary: str


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands.

    Attributes:
        revision: its revision, or None when it has none.
        head: the newest revision there is.
        unversioned_tables: product tables found in a database that has no revision (made by
            the release of 2026-12-01, which the first migration adopts).
    """

    revision: str | None
    head: str
    unversioned_tables: int = 0

    @property
    def is_current(self) -> bool:
        """True when nothing is left to apply."""
        return self.revision == self.head

    def describe(self) -> str:
        """One line for a person: the revision, and what an upgrade would do."""
        if self.is_current:
            return f"{self.revision} (head)"
        if self.revision is not None and self.revision not in {r.id for r in history()}:
            return (f"{self.revision}, a revision this version does not know (a newer "
                    f"release migrated it): run that release, or restore a backup")
        pending = ", ".join(revision.id for revision in pending_after(self.revision))
        if self.revision is not None:
            return f"{self.revision}; behind: `nightdesk db upgrade` applies {pending}"
        if self.unversioned_tables:
            return (f"no revision, {self.unversioned_tables} product tables (made by the "
                    f"release of 2026-12-01); `nightdesk db upgrade` adopts it and applies "
                    f"{pending}")
        return f"empty; `nightdesk db upgrade` applies {pending}"


@dataclass(frozen=True)
class UpgradeResult:
    """What `upgrade` did: the revision before and after (equal when nothing was to do)."""

    before: str | None
    after: str | None

    def describe(self) -> str:
        """One line for a person."""
        if self.before == self.after:
            return f"Database schema: at {self.after}, nothing to apply."
        return f"Database schema: upgraded from {self.before or 'none'} to {self.after}."


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIR))


def head_revision() -> str:
    """The newest revision (the migrations have one head)."""
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}")
    return head


def history() -> list[Revision]:
    """Every revision, oldest first."""
    revisions = list(_scripts().walk_revisions())
    revisions.reverse()
    return [Revision(rev.revision, (rev.doc or "").strip().splitlines()[0]) for rev in revisions]


def pending_after(revision: str | None) -> list[Revision]:
    """The revisions an upgrade from `revision` (None: nothing yet) would apply, in order."""
    revisions = history()
    start = 0 if revision is None else [item.id for item in revisions].index(revision) + 1
    return revisions[start:]


def _revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current(engine: Engine) -> SchemaState:
    """Where `engine`'s database stands."""
    with engine.connect() as connection:
        revision = _revision_of(connection)
        unversioned = 0
        if revision is None:
            names = set(inspect(connection).get_table_names())
            unversioned = len(names & set(Base.metadata.tables))
    return SchemaState(revision, head_revision(), unversioned)


@contextmanager
def _one_upgrader(engine: Engine) -> Iterator[Connection]:
    """A transaction during which other processes' upgrades wait (committed at the end).

    PostgreSQL: an advisory lock held to the end of the transaction. SQLite runs DDL outside
    transactions, so processes on one file (the Rasa and action servers a test starts
    together) take an exclusive lock on a file beside it, until after the commit.
    """
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        with open(f"{database}.upgrade-lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with engine.begin() as connection:
                    yield connection
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": UPGRADE_LOCK_KEY})
        yield connection


def upgrade(engine: Engine, target: str = "head") -> UpgradeResult:
    """Applies the migrations up to `target`, all in one transaction.

    Args:
        engine: the product database.
        target: a revision id, or "head" (the newest).

    Raises:
        alembic.util.exc.CommandError: `target` names no revision.
    """
    with _one_upgrader(engine) as connection:
        before = _revision_of(connection)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        command.upgrade(config, target)
        after = _revision_of(connection)
    return UpgradeResult(before, after)


def ensure_schema(engine: Engine) -> None:
    """Upgrades `engine`'s database to the newest revision unless it is there already."""
    with engine.connect() as connection:
        if _revision_of(connection) == head_revision():
            return
    upgrade(engine)


def drop_schema(engine: Engine) -> None:
    """Drops the product's tables and its revision, with every row (tests and benchmarks).

    Rasa's `events` table, if any, stays.
    """
    with _one_upgrader(engine) as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
