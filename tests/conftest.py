"""Shared fixtures: databases (SQLite always, PostgreSQL on 127.0.0.1:5432), brand, clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

PROJECT_DIR = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "NIGHTDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


def _reset(engine: Engine) -> None:
    from bot.store import Base

    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh product database: an SQLite file, then PostgreSQL (required: never skipped)."""
    from bot.store import create_db_engine

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'nightdesk.db'}"
    else:
        if not _postgres_available():
            pytest.fail(f"PostgreSQL is required by this test and not reachable at "
                        f"{POSTGRES_URL} (NIGHTDESK_TEST_POSTGRES_URL)")
        url = POSTGRES_URL
    db = create_db_engine(url)
    _reset(db)
    yield db
    if request.param == "postgres":
        from bot.store import Base

        Base.metadata.drop_all(db)


@pytest.fixture(scope="session")
def brand():  # noqa: ANN201
    """The real brand.yml."""
    from bot.settings.brand import load_brand

    return load_brand(PROJECT_DIR / "brand.yml")


@pytest.fixture
def wording(brand):  # noqa: ANN001, ANN201
    """The real wording.yml, for the brand's languages."""
    from bot.language import load_wording

    return load_wording(PROJECT_DIR / "wording.yml", brand.languages)


@pytest.fixture
def phrasing(wording, brand):  # noqa: ANN001, ANN201
    """English phrasing in the brand's zone (`phrasing_it` for Italian)."""
    from bot.language import Phrasing

    return Phrasing(wording, "en", brand.timezone)


@pytest.fixture
def phrasing_it(wording, brand):  # noqa: ANN001, ANN201
    """Italian phrasing in the brand's zone."""
    from bot.language import Phrasing

    return Phrasing(wording, "it", brand.timezone)


@pytest.fixture
def now() -> datetime:
    """A fixed 'now': a Sunday night, 23:10 in Rome."""
    return datetime(2026, 11, 22, 22, 10, tzinfo=timezone.utc)


@pytest.fixture
def fresh_metrics():  # noqa: ANN201
    """A fresh process registry for the test (`bot.observability.metrics.current`)."""
    from bot.observability.metrics import Metrics, use

    metrics = Metrics()
    previous = use(metrics)
    yield metrics
    use(previous)


REDIS_URL = os.environ.get("NIGHTDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis for tests (NIGHTDESK_TEST_REDIS_URL): required, never skipped.

    Tests keep to keys under a prefix of their own; the database is never flushed.
    """
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError:
        pytest.fail(f"Redis is required by this test and not reachable at {REDIS_URL} "
                    "(start it: see .ci/run)")
    finally:
        client.close()
    return REDIS_URL
