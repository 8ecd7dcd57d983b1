"""The whole product on PostgreSQL: Rasa's tracker store and our tables in one database."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bot.store import Base, create_db_engine
from tests.conftest import POSTGRES_URL, _postgres_available
from tests.integration.conftest import Stack, stack_environment, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory, model_path) -> Iterator[Stack]:
    if not _postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and not reachable at {POSTGRES_URL}")
        pytest.skip("PostgreSQL not reachable")
    engine = create_db_engine(POSTGRES_URL)
    Base.metadata.drop_all(engine)
    tmp = tmp_path_factory.mktemp("pg")
    environ = stack_environment(tmp, 15205, 15255, DATABASE_URL=POSTGRES_URL)
    yield from start_stack(tmp, environ, model_path)
    Base.metadata.drop_all(engine)


def test_order_status_and_handoff_on_postgres(pg_stack, sender):
    pg_stack.say(sender, "where is my order 10023?", first_name="Anna")
    assert "BRT" in pg_stack.say(sender, "anna.rossi@example.com")
    handoff = pg_stack.say(sender, "can I talk to a human?")
    case = int(re.search(r"#(\d+)", handoff).group(1))
    engine = create_db_engine(POSTGRES_URL)
    with engine.connect() as connection:
        ticket = connection.execute(
            text("select conversation_id, reason from handoff_tickets where id = :id"),
            {"id": case},
        ).one()
        stored_events = connection.execute(
            text("select count(*) from events where sender_id = :s"), {"s": sender}
        ).scalar()
    assert ticket == (sender, "human_request")
    assert stored_events > 10  # the conversation lives in PostgreSQL, not in memory
    tracker = pg_stack.tracker(sender)
    assert tracker["slots"]["handoff_case"] == str(case)
