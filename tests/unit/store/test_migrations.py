"""Schema migrations: the last release's database, with data in every table, upgraded.

The release of 2026-12-01 made its tables with `create_all` and kept no revision. Its schema
is saved in tests/fixtures/schema_2026_12_01 (compiled from that commit's tables), so these
tests build that database without its code, fill every table, upgrade it through
`bot.store.schema` and through `nightdesk db`, and check that every row survived and that
the result is exactly the schema the code expects. On SQLite and on a PostgreSQL database of
their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine, make_url

from bot.store import Base, create_db_engine, ensure_schema
from bot.store.schema import (
    current,
    drop_schema,
    head_revision,
    history,
    is_product_object,
    upgrade,
)
from tests.conftest import POSTGRES_URL, PROJECT_DIR, _postgres_available

SNAPSHOT = PROJECT_DIR / "tests" / "fixtures" / "schema_2026_12_01"
ROWS_PER_TABLE = 3
RELEASE_TABLES = 21  # the tables of the release of 2026-12-01
ADDED_SINCE = {"messenger_inbox": {"heartbeat_at"}}  # columns its migrations add


@contextmanager
def new_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    if not _postgres_available():
        pytest.fail(f"PostgreSQL is required by this test and not reachable at {POSTGRES_URL}")
    name = f"nightdesk_migrate_{uuid.uuid4().hex[:12]}"
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    create_db_engine(url).dispose()
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's own: an SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'release.db'}"
        return
    with new_postgres_database() as url:
        yield url


CONNECT_ARGS = {"sqlite": {"timeout": 30}, "postgr": {}}  # by the URL's first letters


def build_release_database(engine: Engine) -> None:
    """The tables exactly as the release of 2026-12-01 made them, with no revision."""
    script = (SNAPSHOT / f"{engine.dialect.name}.sql").read_text(encoding="utf-8")
    statements = [part.strip() for part in script.split(";\n") if part.strip()]
    with engine.begin() as connection:
        for statement in statements:
            lines = [line for line in statement.splitlines() if not line.startswith("--")]
            if lines:
                connection.execute(text("\n".join(lines)))


def _value(table: Table, column: Any, number: int, parents: dict[str, list[Any]]) -> Any:
    """A value for `column` in row `number`, unique per row, of the column's type."""
    for key in column.foreign_keys:
        return parents[key.target_fullname][number]
    if column.nullable and number == ROWS_PER_TABLE - 1:
        return None  # the last row keeps every nullable column empty
    kind = column.type
    if isinstance(kind, Boolean):
        return number % 2 == 0
    if isinstance(kind, BigInteger):
        return 1_764_000_000_000 + number
    if isinstance(kind, Integer):
        return number + 1
    if isinstance(kind, DateTime):
        return datetime(2026, 11, 30, 23, 10, number, tzinfo=timezone.utc) + timedelta(hours=number)
    if isinstance(kind, Date):
        return date(2026, 12, 1) + timedelta(days=number)
    if isinstance(kind, String) and kind.length:
        return f"{number}-{column.name}-è€"[: kind.length]
    if isinstance(kind, (String, Text)):
        return f'{{"row": {number}, "text": "Dov\'è il mio ordine? 10023 €"}}'
    raise AssertionError(f"no value for {table.name}.{column.name} ({kind!r})")


def fill_every_table(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Rows in every table of the database (foreign keys pointing at real rows)."""
    reflected = MetaData()
    reflected.reflect(engine)
    parents: dict[str, list[Any]] = {}
    with engine.begin() as connection:
        for table in reflected.sorted_tables:
            rows = [{column.name: _value(table, column, number, parents)
                     for column in table.columns} for number in range(ROWS_PER_TABLE)]
            connection.execute(table.insert(), rows)
            for column in table.columns:
                parents[f"{table.name}.{column.name}"] = [row[column.name] for row in rows]
    return read_every_table(engine, reflected)


def read_every_table(engine: Engine, tables: MetaData | None = None
                     ) -> dict[str, list[dict[str, Any]]]:
    """Every row of every product table, in primary-key order."""
    if tables is None:
        tables = MetaData()
        tables.reflect(engine, only=lambda name, _: name in Base.metadata.tables)
    found: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for table in tables.sorted_tables:
            order = list(table.primary_key.columns)
            found[table.name] = [dict(row._mapping) for row in
                                 connection.execute(select(table).order_by(*order))]
    return found


def differences_from_code(engine: Engine) -> list[Any]:
    """What differs between the database's product tables and the code's (none: exact)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_object": is_product_object, "compare_type": True,
            "compare_server_default": True})
        return compare_metadata(context, Base.metadata)


def test_the_release_database_keeps_every_row_through_the_upgrade(database_url):
    engine = create_db_engine(database_url)
    build_release_database(engine)
    before = fill_every_table(engine)
    assert len(before) == RELEASE_TABLES
    assert all(len(rows) == ROWS_PER_TABLE for rows in before.values())
    assert current(engine).unversioned_tables == RELEASE_TABLES

    result = upgrade(engine)

    assert (result.before, result.after) == (None, head_revision())
    after = read_every_table(engine)
    for table, rows in before.items():
        added = ADDED_SINCE.get(table, set())
        kept = [{name: value for name, value in row.items() if name not in added}
                for row in after[table]]
        assert kept == rows, table
        assert all(row[name] is None for row in after[table] for name in added)
    assert differences_from_code(engine) == []
    # the upgraded database takes the new column's values
    with engine.begin() as connection:
        connection.execute(text("UPDATE messenger_inbox SET heartbeat_at = claimed_at"))


def test_an_empty_database_migrated_is_exactly_the_codes_schema(database_url):
    engine = create_db_engine(database_url)
    assert current(engine).describe().startswith("empty;")

    ensure_schema(engine)

    assert current(engine).is_current
    assert differences_from_code(engine) == []
    assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {
        "alembic_version"}


def test_each_migration_applies_on_its_own_and_nothing_is_applied_twice(database_url):
    engine = create_db_engine(database_url)
    build_release_database(engine)
    fill_every_table(engine)
    revisions = [revision.id for revision in history()]
    assert revisions[0] == "0001" and revisions[-1] == head_revision()

    assert upgrade(engine, "0001").after == "0001"
    assert "heartbeat_at" not in {column["name"] for column
                                  in inspect(engine).get_columns("messenger_inbox")}
    assert current(engine).describe().startswith("0001; behind")
    assert upgrade(engine).after == head_revision()
    again = upgrade(engine)
    assert again.before == again.after == head_revision()
    assert "nothing to apply" in again.describe()


def test_processes_starting_together_migrate_once(database_url):
    """Several upgrading one database at once: one migrates, the others find it done."""
    engine = create_db_engine(database_url)
    build_release_database(engine)
    before = fill_every_table(engine)
    results: list[Any] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            results.append(upgrade(create_engine(database_url, future=True,
                                                 connect_args=CONNECT_ARGS[database_url[:6]])))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Counter(result.before for result in results) == {None: 1, head_revision(): 3}
    assert {result.after for result in results} == {head_revision()}
    assert len(read_every_table(engine)["shop_orders"]) == len(before["shop_orders"])


def test_rasa_events_table_is_not_ours_to_migrate(database_url):
    engine = create_db_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, data TEXT)"))
        connection.execute(text("INSERT INTO events (id, data) VALUES (1, 'kept')"))
    ensure_schema(engine)
    assert differences_from_code(engine) == []
    drop_schema(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT data FROM events")).scalar() == "kept"
    assert current(engine).describe().startswith("empty;")


def nightdesk_db(database_url: str, *args: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "DATABASE_URL": database_url, "RASA_TELEMETRY_ENABLED": "false"}
    return subprocess.run([sys.executable, "-m", "bot.cli", "db", *args], env=environ,
                          cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)


def test_nightdesk_db_upgrades_the_release_database(database_url):
    engine = create_db_engine(database_url)
    build_release_database(engine)
    before = fill_every_table(engine)

    behind = nightdesk_db(database_url, "current")
    assert behind.returncode == 3, behind.stderr
    assert f"no revision, {RELEASE_TABLES} product tables" in behind.stdout
    listed = nightdesk_db(database_url, "history")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        revision.id for revision in history()]
    assert "(head)" in listed.stdout.splitlines()[-1]

    upgraded = nightdesk_db(database_url, "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded from none to {head_revision()}" in upgraded.stdout
    at_head = nightdesk_db(database_url, "current")
    assert at_head.returncode == 0
    assert f"{head_revision()} (head)" in at_head.stdout
    assert "(head, current)" in nightdesk_db(database_url, "history").stdout
    assert len(read_every_table(engine)["desk_agents"]) == len(before["desk_agents"])

    unknown = nightdesk_db(database_url, "upgrade", "9999")
    assert unknown.returncode == 2
    assert "9999" in unknown.stderr


def test_nightdesk_db_never_prints_the_database_url():
    url = "postgresql://nightdesk:s3cret-pw@127.0.0.1:1/nightdesk"
    for command in ("current", "upgrade"):
        result = nightdesk_db(url, command)
        assert result.returncode == 1
        assert "s3cret-pw" not in result.stdout + result.stderr
        assert "DATABASE_URL" in result.stderr
