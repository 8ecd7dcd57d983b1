"""A customer's data: every table mapped, export then erase leaves nothing, retention by age.

One customer is seeded across every table that can hold something about them, Rasa's tracker
events included (written by Rasa's own `SQLTrackerStore`), beside a second customer who must
be left whole. The CLI is driven as an admin would (`nightdesk customer ...`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Engine, make_url

from bot.hours import OfficeCalendar
from bot.metrics.report import as_text, figures_for
from bot.privacy.customer_data import erase_customer, export_customer
from bot.privacy.holdings import (
    BY_CONVERSATION,
    BY_PARENT,
    NOT_ABOUT_CUSTOMERS,
    REVIEW_DECISIONS,
    TRACKER_EVENTS,
    held_tables,
)
from bot.privacy.retention import RetentionSchedule, run_retention, runs_between
from bot.privacy.subject import SubjectError
from bot.settings import get_brand
from bot.store import Base
from bot.store.audit import AuditLog

PROJECT_DIR = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)

PSID = "6001234567890123"
EMAIL = "mario.rossi@example.com"
ORDER = "10031"
SECRET_WORDS = "my doorbell code is 4417"
OTHER = "wc-0123456789abcdef0123456789abcdef"
OTHER_WORDS = "do you ship to Malta"


@pytest.fixture()
def db(engine: Engine) -> Iterator[Engine]:
    """The product database with no Rasa events table left from another test."""
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {TRACKER_EVENTS}"))
    yield engine
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {TRACKER_EVENTS}"))


def save_tracker(engine: Engine, sender: str, events: list[dict]) -> None:
    """Stores a conversation as the Rasa server would: through Rasa's SQL tracker store."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    url = make_url(str(engine.url))
    store = SQLTrackerStore(
        domain=Domain.from_path(str(PROJECT_DIR / "domain.yml")), dialect=url.drivername,
        host=url.host, port=url.port, db=url.database, username=url.username,
        password=url.password)
    tracker = DialogueStateTracker.from_dict(sender, events)
    asyncio.run(store.save(tracker))
    store.engine.dispose()


def conversation_events(at: datetime, words: str, email: str | None, order: str) -> list[dict]:
    stamp = at.timestamp()
    events = [
        {"event": "action", "name": "action_session_start", "timestamp": stamp},
        {"event": "session_started", "timestamp": stamp},
        {"event": "action", "name": "action_listen", "timestamp": stamp},
        {"event": "user", "text": f"where is my order {order}? {words}", "timestamp": stamp + 1,
         "parse_data": {"intent": {"name": "order_status", "confidence": 0.9},
                        "entities": [], "text": words}},
        {"event": "slot", "name": "order_number", "value": order, "timestamp": stamp + 1},
        {"event": "bot", "text": "Please tell me the e-mail of the order.", "timestamp": stamp + 2},
    ]
    if email:
        events.append({"event": "slot", "name": "proof", "value": email, "timestamp": stamp + 3})
    return events


def seed(engine: Engine, conversation: str, at: datetime, words: str, email: str | None,
         order: str, event_id: str) -> None:
    """One customer in every table that can hold something about them."""
    save_tracker(engine, conversation, conversation_events(at, words, email, order))
    tables = Base.metadata.tables
    transcript = json.dumps([{"sender": "customer", "text": words, "at": at.isoformat()}])
    with engine.begin() as connection:
        agent_id = connection.execute(tables["desk_agents"].insert().values(
            login="anna-" + event_id.replace("m-", ""), name="Anna", role="agent",
            password_hash="x", active=True, created_at=at,
            password_changed_at=at)).inserted_primary_key[0]
        ticket_id = connection.execute(tables["handoff_tickets"].insert().values(
            conversation_id=conversation, channel="messenger", customer_name="Mario",
            reason="human_request", priority="normal", language="it", order_number=order,
            summary=words, transcript=transcript, status="resolved", created_at=at,
            expected_answer_at=at, reminder_sent=False)).inserted_primary_key[0]
        inserts = {
            "handoff_packets": dict(ticket_id=ticket_id, intents_seen="[]", status_told=words),
            "desk_claims": dict(ticket_id=ticket_id, agent_id=agent_id, claimed_at=at),
            "desk_notes": dict(ticket_id=ticket_id, agent_id=agent_id, text=f"note: {words}",
                               at=at),
            "desk_deliveries": dict(ticket_id=ticket_id, target="email", status="sent",
                                    attempts=1, created_at=at, updated_at=at),
            "messenger_inbox": dict(event_id=event_id, page_id="1", conversation_id=conversation,
                                    kind="message", timestamp=int(at.timestamp() * 1000),
                                    payload=json.dumps({"text": words}), status="done",
                                    attempts=1, received_at=at),
            "messenger_sends": dict(event_id=event_id, position=0, status="sent", text=words,
                                    started_at=at),
            "messenger_threads": dict(psid=conversation, page_id="1", owner="bot", updated_at=at),
            "messenger_outbox": dict(conversation_id=conversation, sender="agent", kind="text",
                                     body=json.dumps({"text": words}), status="sent",
                                     created_at=at),
            "proof_attempts": dict(conversation_id=conversation, order_number=order,
                                   succeeded=False, attempted_at=at),
            "webchat_agent_messages": dict(conversation_id=conversation, text=words, at=at),
            "webchat_sessions": dict(token_hash=hashlib.sha256(event_id.encode()).hexdigest(),
                                     conversation_id=conversation, created_at=at,
                                     last_seen_at=at),
            "trainer_marks": dict(conversation_id=conversation, at=at, text=words,
                                  marked_by="anna", marked_at=at),
            REVIEW_DECISIONS: dict(item_key=f"{conversation}@{at.timestamp():.3f}",
                                   decision="dismissed", decided_by="anna", decided_at=at),
        }
        for name, values in inserts.items():
            if name in tables:
                connection.execute(tables[name].insert().values(**values))


def everything(engine: Engine) -> str:
    """Every value in every table of the database, as one text to search."""
    metadata = MetaData()
    metadata.reflect(bind=engine)
    values = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                values += [str(value) for value in row]
    return "\n".join(values)


def test_every_table_is_either_held_or_named_as_holding_nothing_about_customers():
    mapped = set(held_tables()) - {TRACKER_EVENTS}
    assert set(Base.metadata.tables) == mapped | set(NOT_ABOUT_CUSTOMERS)
    assert not mapped & set(NOT_ABOUT_CUSTOMERS)
    for holding in BY_CONVERSATION:
        if holding.table != TRACKER_EVENTS:
            columns = Base.metadata.tables[holding.table].c
            assert holding.column in columns and holding.when in columns
    for holding in BY_PARENT:
        assert holding.column in Base.metadata.tables[holding.table].c


def test_export_holds_the_customer_in_every_table_then_erase_leaves_nothing(db):
    seed(db, PSID, NOW - timedelta(days=2), SECRET_WORDS, EMAIL, ORDER, "m-1")
    seed(db, OTHER, NOW - timedelta(days=1), OTHER_WORDS, None, "10044", "m-2")
    audit = AuditLog(db, clock=lambda: NOW)

    document = export_customer(db, PSID, by="admin", audit=audit, now=NOW)
    assert document["conversations"] == [PSID]
    assert set(document["held"]) == set(held_tables()) & (set(Base.metadata.tables)
                                                          | {TRACKER_EVENTS})
    texts = [event["data"].get("text") for event in document["held"][TRACKER_EVENTS]]
    assert f"where is my order {ORDER}? {SECRET_WORDS}" in texts
    assert document["held"]["handoff_tickets"][0]["summary"] == SECRET_WORDS
    assert "token_hash" not in document["held"]["webchat_sessions"][0]
    assert OTHER_WORDS not in json.dumps(document)

    erasure = erase_customer(db, PSID, by="admin", audit=audit)
    assert erasure.subject.conversations == (PSID,)
    assert erasure.rows[TRACKER_EVENTS] == len(conversation_events(NOW, "", EMAIL, ORDER))
    stored = everything(db)
    for trace in (PSID, SECRET_WORDS, EMAIL, "m-1"):
        assert trace not in stored
    assert OTHER_WORDS in stored and OTHER in stored  # the other customer is whole
    entry = audit.recent(1)[0]
    assert (entry.actor, entry.action) == ("admin", "customer.erase")
    assert entry.detail["id_sha256"] == hashlib.sha256(PSID.encode()).hexdigest()
    assert entry.detail["conversations"] == 1 and entry.detail["rows"] == erasure.rows
    assert [e.action for e in audit.recent(2)] == ["customer.erase", "customer.export"]


def test_an_email_or_an_order_number_finds_the_conversations_that_gave_it(db):
    seed(db, PSID, NOW - timedelta(days=2), SECRET_WORDS, EMAIL, ORDER, "m-1")
    seed(db, OTHER, NOW - timedelta(days=1), OTHER_WORDS, None, "10044", "m-2")
    audit = AuditLog(db, clock=lambda: NOW)
    by_email = export_customer(db, EMAIL.upper(), by="admin", audit=audit, now=NOW)
    assert (by_email["asked_for"]["kind"], by_email["conversations"]) == ("email", [PSID])
    by_order = export_customer(db, ORDER, by="admin", audit=audit, now=NOW)
    assert (by_order["asked_for"]["kind"], by_order["conversations"]) == ("order", [PSID])
    nobody = export_customer(db, "nobody@example.com", by="admin", audit=audit, now=NOW)
    assert nobody["conversations"] == [] and nobody["held"] == {}
    for bad, complaint in (("", "empty"), ("x" * 201, "longer than 200"),
                           ("a\nb", "control characters")):
        with pytest.raises(SubjectError, match=complaint):
            erase_customer(db, bad, by="admin", audit=audit)
    with pytest.raises(SubjectError, match="not an e-mail"):
        erase_customer(db, PSID, by="admin", audit=audit, kind="email")
    erase_customer(db, EMAIL, by="admin", audit=audit)
    assert SECRET_WORDS not in everything(db) and OTHER_WORDS in everything(db)


def test_retention_erases_old_conversations_keeps_open_cases_and_counts_in_the_report(
        db, tmp_path):
    seed(db, PSID, NOW - timedelta(days=400), SECRET_WORDS, EMAIL, ORDER, "m-1")
    seed(db, OTHER, NOW - timedelta(days=3), OTHER_WORDS, None, "10044", "m-2")
    seed(db, "7001", NOW - timedelta(days=500), "still waiting for a person", None, "10050",
         "m-3")
    tickets = Base.metadata.tables["handoff_tickets"]
    sessions = Base.metadata.tables["webchat_sessions"]
    with db.begin() as connection:
        connection.execute(tickets.update().where(tickets.c.conversation_id == "7001")
                           .values(status="open"))
        connection.execute(sessions.insert().values(  # an expired cookie of a live chat
            token_hash="e" * 64, conversation_id="wc-idle", created_at=NOW - timedelta(days=40),
            last_seen_at=NOW - timedelta(days=40)))
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "rasa.log.1").write_text("old")
    (logs / "rasa.log").write_text("current")
    old = (NOW - timedelta(days=366)).timestamp()
    os.utime(logs / "rasa.log.1", (old, old))
    audit = AuditLog(db, clock=lambda: NOW)

    run = run_retention(db, days=365, now=NOW, audit=audit, log_dir=logs)
    assert (run.conversations, run.kept_open, run.log_files) == (1, 1, 1)
    stored = everything(db)
    assert SECRET_WORDS not in stored and PSID not in stored
    assert OTHER_WORDS in stored and "still waiting for a person" in stored
    assert sorted(p.name for p in logs.iterdir()) == ["rasa.log"]
    with db.connect() as connection:
        assert [row.conversation_id for row in connection.execute(
            select(sessions.c.conversation_id))] == [OTHER]
    seen = runs_between(db, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert [(r.conversations, r.rows) for r in seen] == [(1, sum(run.rows.values()))]
    brand = get_brand()
    figures = figures_for(db, OfficeCalendar.from_brand(brand), "today",
                          NOW + timedelta(hours=1), languages=brand.languages)
    assert figures["retention"] == {"runs": 1, "conversations_erased": 1,
                                    "rows_erased": sum(run.rows.values())}
    assert "Retention: 1 old conversation erased (" in as_text(figures)
    again = run_retention(db, days=365, now=NOW, audit=audit, log_dir=logs)
    assert (again.conversations, again.rows) == (0, {})
    with pytest.raises(ValueError, match="at least 1"):
        run_retention(db, days=0, now=NOW, audit=audit)


def test_the_schedule_runs_at_start_and_a_failure_does_not_stop_it():
    said: list[str] = []
    calls: list[int] = []

    def job():  # noqa: ANN202
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")
        return run_retention_stub()

    def run_retention_stub():  # noqa: ANN202
        from bot.privacy.retention import RetentionRun

        return RetentionRun(NOW, 2, 0, {"events": 9}, 0)

    schedule = RetentionSchedule(job, timedelta(seconds=0.01), said.append)
    schedule.start()
    deadline = datetime.now() + timedelta(seconds=10)
    while len(said) < 2 and datetime.now() < deadline:
        pass
    schedule.stop()
    assert said[0] == "Retention failed (OSError); trying again later"
    assert "2 conversations erased, 9 rows" in said[1]


# ------------------------------------------------------------------ the CLI


def nightdesk(database: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NIGHTDESK_HOME": str(PROJECT_DIR),
           "DATABASE_URL": f"sqlite:///{database}",
           "NIGHTDESK_FROZEN_NOW": NOW.isoformat()}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=120)


def test_the_cli_exports_to_a_private_file_then_erases_with_an_audit_entry(tmp_path):
    from bot.store import create_db_engine, ensure_schema

    database = tmp_path / "nightdesk.db"
    engine = create_db_engine(f"sqlite:///{database}")
    ensure_schema(engine)
    seed(engine, PSID, NOW - timedelta(days=2), SECRET_WORDS, EMAIL, ORDER, "m-1")
    out = tmp_path / "mario.json"

    exported = nightdesk(database, "customer", "export", PSID, "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "Exported 1 conversation" in exported.stdout and str(out) in exported.stdout
    assert out.stat().st_mode & 0o777 == 0o600
    document = json.loads(out.read_text())
    assert document["format"] == "nightdesk-customer-export/1"
    assert SECRET_WORDS in json.dumps(document["held"])

    missing_by = nightdesk(database, "customer", "erase", PSID)
    assert missing_by.returncode == 2 and "--by" in missing_by.stderr
    erased = nightdesk(database, "customer", "erase", PSID, "--by", "Giulia (admin)")
    assert erased.returncode == 0, erased.stderr
    assert "Erased 1 conversation" in erased.stdout and "events" in erased.stdout
    assert PSID not in erased.stdout + erased.stderr
    stored = everything(engine)
    assert SECRET_WORDS not in stored and PSID not in stored
    entries = AuditLog(engine).recent(5)
    assert [(e.actor, e.action) for e in entries[:1]] == [("Giulia (admin)", "customer.erase")]

    bad = nightdesk(database, "customer", "erase", "a" * 300, "--by", "x")
    assert bad.returncode == 2 and "longer than 200" in bad.stderr
    retention = nightdesk(database, "retention", "run")
    assert retention.returncode == 0, retention.stderr
    assert "0 conversations erased" in retention.stdout
