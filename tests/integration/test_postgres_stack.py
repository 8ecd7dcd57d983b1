"""The whole product on PostgreSQL: Rasa's tracker store and our tables in one database."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from bot.messenger.events import parse_webhook
from bot.messenger.inbox import Inbox
from bot.store import create_db_engine, ensure_schema
from bot.store.schema import drop_schema
from tests import messenger_payloads as payloads
from tests.conftest import POSTGRES_URL, _postgres_available
from tests.integration.conftest import (
    Stack,
    messenger_environment,
    port,
    stack_environment,
    start_stack,
)
from tests.integration.test_messenger_webhook import deliver, texts_to, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


LEFT_BEHIND: dict[str, str] = {}
"""Conversations whose events a previous run stored but did not finish: kind -> PSID."""


def leave_unprocessed_events(engine) -> None:
    """What a crashed Rasa process leaves: one event never claimed, one claimed an hour ago."""
    LEFT_BEHIND.update(pending=payloads.new_psid(), claimed=payloads.new_psid())
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    inbox = Inbox(engine, clock=lambda: an_hour_ago)
    for psid in LEFT_BEHIND.values():
        inbox.store(parse_webhook(payloads.dm("hi", psid, payloads.now_ms(-60))))
    assert inbox.claim_next(LEFT_BEHIND["claimed"], worker_id="crashed-host:1") is not None


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory, model_path, fake_graph) -> Iterator[Stack]:
    if not _postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and not reachable at {POSTGRES_URL}")
        pytest.skip("PostgreSQL not reachable")
    engine = create_db_engine(POSTGRES_URL)
    drop_schema(engine)
    ensure_schema(engine)
    leave_unprocessed_events(engine)
    tmp = tmp_path_factory.mktemp("pg")
    environ = stack_environment(
        tmp, port(15205), port(15255), DATABASE_URL=POSTGRES_URL,
        **messenger_environment(fake_graph, port(15206)),
    )
    yield from start_stack(tmp, environ, model_path)
    drop_schema(engine)


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


def test_events_left_by_a_crashed_process_are_answered_on_start(pg_stack, fake_graph):
    for psid in LEFT_BEHIND.values():
        wait_until(lambda psid=psid: texts_to(fake_graph, psid), what="the recovered event")
    engine = create_db_engine(POSTGRES_URL)
    with engine.connect() as connection:
        statuses = connection.execute(
            text("select status from messenger_inbox where conversation_id in (:a, :b)"),
            {"a": LEFT_BEHIND["pending"], "b": LEFT_BEHIND["claimed"]},
        ).scalars().all()
    assert statuses == ["done", "done"]


def test_messenger_conversation_on_postgres(pg_stack, fake_graph):
    psid = payloads.new_psid()
    deliver(pg_stack, payloads.dm("where is my order 10023?", psid))
    wait_until(lambda: texts_to(fake_graph, psid), what="the question for the proof")
    deliver(pg_stack, payloads.dm("anna.rossi@example.com", psid, payloads.now_ms() + 1))
    wait_until(lambda: any("BRT" in t for t in texts_to(fake_graph, psid)), what="the status")
    # the card is sent after the status's words: wait for it rather than catch it in between
    cards = wait_until(lambda: [m for m in fake_graph.sent_messages()
                                if m["recipient"].get("id") == psid
                                and "attachment" in m["message"]], what="the order card")
    assert cards[0]["message"]["attachment"]["payload"]["template_type"] == "generic"
    (element,) = cards[0]["message"]["attachment"]["payload"]["elements"]
    assert element["title"] == "Order 10023"
    assert re.fullmatch(r"https://example\.com/static/products/[\w-]+\.jpg", element["image_url"])
    assert element["buttons"][0]["type"] == "web_url"
