"""The durable Messenger inbox on SQLite and PostgreSQL: dedup, order, claims, retries, recovery."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine

from bot.messenger.event_types import EventKind, InboundEvent, TextMessageEvent
from bot.messenger.events import parse_webhook
from bot.messenger.inbox import ClaimedEvent, Inbox, InboxStatus, PendingSummary, Recovery
from bot.store import InboxEventRow

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "messenger"
PAGE = "104852338912345"
ANNA = "6912345678901234"
LUCA = "7023456789012345"
T0 = 1763849400000
TABLE = InboxEventRow.__table__


class Clock:
    """A settable clock for the inbox."""

    def __init__(self) -> None:
        self.now = datetime(2025, 11, 22, 22, 10, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def fixture_events(name: str) -> list[InboundEvent]:
    return parse_webhook(load(name))


def text_event(psid: str, timestamp: int, mid: str, text_: str = "hi") -> InboundEvent:
    body = {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": timestamp + 100,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": PAGE},
                        "timestamp": timestamp,
                        "message": {"mid": mid, "text": text_},
                    }
                ],
            }
        ],
    }
    (event,) = parse_webhook(body)
    return event


def rows(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as connection:
        result = connection.execute(select(TABLE)).mappings()
        return {row["event_id"]: dict(row) for row in result}


def status_of(engine: Engine, event_id: str) -> str:
    return rows(engine)[event_id]["status"]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def inbox(engine: Engine, clock: Clock) -> Inbox:
    return Inbox(engine, clock=clock)


def claim(inbox: Inbox, **kwargs: Any) -> ClaimedEvent:
    claimed = inbox.claim_next(**kwargs)
    assert claimed is not None
    return claimed


# --- storing ----------------------------------------------------------------------------


def test_duplicate_delivery_three_times_is_stored_once(inbox: Inbox, engine: Engine) -> None:
    results = [inbox.store(fixture_events("dm_text")) for _ in range(3)]
    event_id = fixture_events("dm_text")[0].event_id
    assert results == [[event_id], [], []]
    stored = rows(engine)
    assert list(stored) == [event_id]
    row = stored[event_id]
    assert row["status"] == "pending"
    assert row["attempts"] == 0
    assert row["kind"] == "text"
    assert row["conversation_id"] == ANNA
    assert row["page_id"] == PAGE
    assert row["timestamp"] == T0
    assert json.loads(row["payload"]) == load("dm_text")["entry"][0]["messaging"][0]
    assert row["received_at"] is not None


def test_duplicate_inside_one_batch_and_mixed_with_new(inbox: Inbox, engine: Engine) -> None:
    first = text_event(ANNA, T0, "m_one")
    assert inbox.store([first, first]) == ["m_one"]
    second = text_event(ANNA, T0 + 1, "m_two")
    assert inbox.store([first, second]) == ["m_two"]
    assert sorted(rows(engine)) == ["m_one", "m_two"]


def test_a_batch_of_entries_is_stored_in_full(inbox: Inbox, engine: Engine) -> None:
    events = fixture_events("batch_3x2")
    assert inbox.store(events) == [event.event_id for event in events]
    assert len(rows(engine)) == 6
    assert inbox.pending_conversations() == [ANNA, LUCA, "7134567890123456"]


def test_store_of_nothing(inbox: Inbox) -> None:
    assert inbox.store([]) == []
    assert inbox.claim_next() is None
    assert inbox.pending_conversations() == []


@pytest.mark.parametrize(
    "name",
    ["echo", "delivery", "read", "comment_by_page", "unknown_fields"],
)
def test_ignored_kinds_are_recorded_never_handed_out(
    inbox: Inbox, engine: Engine, name: str
) -> None:
    events = fixture_events(name)
    assert inbox.store(events) == [event.event_id for event in events]
    assert {row["status"] for row in rows(engine).values()} == {"ignored"}
    assert inbox.claim_next() is None
    assert inbox.pending_conversations() == []


def test_receipts_on_standby_are_ignored_but_messages_on_standby_are_not(
    inbox: Inbox, engine: Engine
) -> None:
    message, agent_echo, read = fixture_events("standby")
    inbox.store([message, agent_echo, read])
    assert status_of(engine, message.event_id) == "pending"
    assert status_of(engine, agent_echo.event_id) == "pending"
    assert status_of(engine, read.event_id) == "ignored"


@pytest.mark.parametrize(
    "name",
    [
        "dm_text",
        "quick_reply",
        "postback_get_started",
        "attachment_image",
        "reaction",
        "referral",
        "handover_pass",
        "comment_customer",
    ],
)
def test_answerable_kinds_are_pending(inbox: Inbox, engine: Engine, name: str) -> None:
    (event,) = fixture_events(name)
    inbox.store([event])
    assert status_of(engine, event.event_id) == "pending"
    claimed = claim(inbox)
    assert claimed.event == event
    assert claimed.kind is event.kind


# --- claiming ---------------------------------------------------------------------------


def test_claim_returns_the_typed_event(inbox: Inbox, engine: Engine, clock: Clock) -> None:
    (event,) = fixture_events("dm_text")
    inbox.store([event])
    claimed = claim(inbox, worker_id="worker-7")
    assert isinstance(claimed.event, TextMessageEvent)
    assert claimed.event == event
    assert claimed.event_id == event.event_id
    assert claimed.kind is EventKind.TEXT
    assert claimed.conversation_id == ANNA
    assert claimed.page_id == PAGE
    assert claimed.timestamp == T0
    assert claimed.attempts == 0
    assert claimed.claimed_by == "worker-7"
    assert claimed.claimed_at == clock.now
    assert claimed.raw == event.raw
    row = rows(engine)[event.event_id]
    assert row["status"] == "processing"
    assert row["claimed_by"] == "worker-7"
    assert row["claimed_at"] == clock.now


def test_default_worker_id_names_host_and_process(inbox: Inbox) -> None:
    import os

    inbox.store([text_event(ANNA, T0, "m_1")])
    assert claim(inbox).claimed_by.endswith(f":{os.getpid()}")


def test_events_of_a_conversation_come_in_timestamp_order(inbox: Inbox) -> None:
    # Stored out of order, in separate webhook calls.
    inbox.store([text_event(ANNA, T0 + 3000, "m_third")])
    inbox.store([text_event(ANNA, T0 + 1000, "m_first")])
    inbox.store([text_event(ANNA, T0 + 2000, "m_second")])
    order = []
    while (claimed := inbox.claim_next()) is not None:
        order.append(claimed.event_id)
        assert inbox.complete(claimed.event_id)
    assert order == ["m_first", "m_second", "m_third"]


def test_same_timestamp_goes_by_arrival(inbox: Inbox, clock: Clock) -> None:
    inbox.store([text_event(ANNA, T0, "m_zz_arrived_first")])
    clock.advance(timedelta(seconds=1))
    inbox.store([text_event(ANNA, T0, "m_aa_arrived_second")])
    first = claim(inbox)
    assert first.event_id == "m_zz_arrived_first"


def test_one_event_at_a_time_per_conversation(inbox: Inbox, engine: Engine) -> None:
    inbox.store([text_event(ANNA, T0 + i, f"m_{i}") for i in range(3)])
    first = claim(inbox)
    assert first.event_id == "m_0"
    assert inbox.claim_next() is None
    assert inbox.claim_next(conversation_id=ANNA) is None
    assert inbox.pending_conversations() == [ANNA]
    # A later event arriving meanwhile must wait too.
    inbox.store([text_event(ANNA, T0 + 10, "m_10")])
    assert inbox.claim_next() is None
    assert inbox.complete(first.event_id)
    assert status_of(engine, "m_0") == "done"
    assert rows(engine)["m_0"]["processed_at"] is not None
    assert claim(inbox).event_id == "m_1"


def test_two_conversations_can_be_claimed_at_once(inbox: Inbox, engine: Engine) -> None:
    inbox.store(fixture_events("batch_3x2"))
    first = claim(inbox, worker_id="a")
    second = claim(inbox, worker_id="b")
    third = claim(inbox, worker_id="c")
    assert [first.conversation_id, second.conversation_id, third.conversation_id] == [
        ANNA,
        LUCA,
        "7134567890123456",
    ]
    assert inbox.claim_next() is None
    processing = [row for row in rows(engine).values() if row["status"] == "processing"]
    assert len(processing) == 3
    assert inbox.complete(second.event_id, "b")
    fourth = claim(inbox)
    assert fourth.conversation_id == LUCA
    assert fourth.timestamp > second.timestamp


def test_claim_for_one_conversation(inbox: Inbox) -> None:
    inbox.store([text_event(ANNA, T0, "m_anna"), text_event(LUCA, T0 + 5, "m_luca")])
    assert claim(inbox, conversation_id=LUCA).event_id == "m_luca"
    assert inbox.claim_next(conversation_id=LUCA) is None
    assert inbox.claim_next(conversation_id="nobody") is None
    assert claim(inbox, conversation_id=ANNA).event_id == "m_anna"


def test_comments_are_their_own_conversations(inbox: Inbox) -> None:
    inbox.store(fixture_events("comment_customer") + [text_event(ANNA, T0, "m_dm")])
    conversations = {claim(inbox).conversation_id, claim(inbox).conversation_id}
    assert conversations == {ANNA, "comment:912345678901234_1234567890123456"}


def test_complete_only_what_is_processing(inbox: Inbox) -> None:
    inbox.store([text_event(ANNA, T0, "m_1")])
    assert not inbox.complete("m_1")
    assert not inbox.complete("m_unknown")
    claimed = claim(inbox)
    assert inbox.complete(claimed.event_id)
    assert not inbox.complete(claimed.event_id)


# --- failures ---------------------------------------------------------------------------


def test_a_failed_try_is_retried_in_place_then_the_event_is_quarantined(
    inbox: Inbox, engine: Engine
) -> None:
    inbox.store([text_event(ANNA, T0, "m_bad"), text_event(ANNA, T0 + 1, "m_next")])
    claimed = claim(inbox)
    assert (claimed.event_id, claimed.attempts) == ("m_bad", 0)
    assert inbox.fail("m_bad", RuntimeError("order 10482 of anna@example.com")) == (
        InboxStatus.PENDING
    )
    row = rows(engine)["m_bad"]
    assert (row["status"], row["attempts"], row["claimed_by"]) == ("pending", 1, None)
    # the cause is kept, with its personal data redacted
    assert row["error"].startswith("RuntimeError: order 10482 of ")
    assert "anna@example.com" not in row["error"]
    claimed = claim(inbox)  # it keeps its place before the conversation's next message
    assert (claimed.event_id, claimed.attempts) == ("m_bad", 1)
    assert inbox.fail("m_bad", "send api 500\nsecond line") == InboxStatus.QUARANTINED
    row = rows(engine)["m_bad"]
    assert (row["status"], row["attempts"], row["error"]) == ("quarantined", 2, "send api 500")
    assert row["processed_at"] is not None
    # it never runs again; the conversation moves on
    assert claim(inbox).event_id == "m_next"


def test_fail_of_an_event_not_processing(inbox: Inbox) -> None:
    inbox.store([text_event(ANNA, T0, "m_1")])
    assert inbox.fail("m_1", "nope") is None
    assert inbox.fail("m_unknown", "nope") is None


def test_error_text_is_cut(inbox: Inbox, engine: Engine) -> None:
    inbox.store([text_event(ANNA, T0, "m_1")])
    claim(inbox)
    inbox.fail("m_1", "x" * 1000)
    assert rows(engine)["m_1"]["error"] == "x" * 200


def test_the_number_of_tries_is_configurable(engine: Engine, clock: Clock) -> None:
    inbox = Inbox(engine, clock=clock, quarantine_after=1)
    inbox.store([text_event(ANNA, T0, "m_1")])
    claim(inbox)
    assert inbox.fail("m_1", "boom") == InboxStatus.QUARANTINED


# --- recovery ---------------------------------------------------------------------------


def test_recover_after_a_crash(engine: Engine, clock: Clock) -> None:
    # Claims time out after an hour here: this is the start-up recovery, not a take-over.
    before_crash = Inbox(engine, clock=clock, claim_timeout=timedelta(hours=1))
    before_crash.store([text_event(ANNA, T0, "m_1"), text_event(ANNA, T0 + 1, "m_2")])
    before_crash.store([text_event(LUCA, T0 + 2, "m_luca")])
    claim(before_crash, worker_id="crashed")
    claim(before_crash, worker_id="crashed")
    del before_crash  # the process dies with two events 'processing'

    clock.advance(timedelta(minutes=1))
    restarted = Inbox(engine, clock=clock, claim_timeout=timedelta(hours=1))
    assert restarted.claim_next() is None
    assert restarted.recover(timedelta(minutes=5)).recovered == 0
    clock.advance(timedelta(minutes=10))
    assert restarted.recover(timedelta(minutes=5)) == Recovery(2, [])
    stored = rows(engine)
    assert stored["m_1"]["status"] == "pending"
    assert stored["m_1"]["claimed_by"] is None
    assert stored["m_1"]["attempts"] == 1  # the interrupted try counts
    assert restarted.pending_conversations() == [ANNA, LUCA]
    order = []
    while (claimed := restarted.claim_next(worker_id="restarted")) is not None:
        order.append(claimed.event_id)
        assert restarted.complete(claimed.event_id, "restarted")
    # Luca, never answered, comes before Anna's second message (fair across conversations)
    assert order == ["m_1", "m_luca", "m_2"]
    assert restarted.recover(timedelta(0)) == Recovery(0, [])


def test_an_event_running_each_time_its_process_died_is_quarantined_with_its_text(
    engine: Engine, clock: Clock
) -> None:
    inbox = Inbox(engine, clock=clock)
    inbox.store([text_event(ANNA, T0, "m_poison"), text_event(ANNA, T0 + 1, "m_after")])
    assert claim(inbox).event_id == "m_poison"  # the process dies during it
    assert inbox.recover(timedelta(0)).recovered == 1
    assert claim(inbox).event_id == "m_poison"  # and dies again
    recovery = inbox.recover(timedelta(0))
    assert recovery.recovered == 0
    (quarantined,) = recovery.quarantined
    assert quarantined.event_id == "m_poison" and quarantined.conversation_id == ANNA
    assert quarantined.event.text  # what the customer said, for the person
    assert rows(engine)["m_poison"]["status"] == "quarantined"
    assert claim(inbox).event_id == "m_after"


def test_recover_leaves_finished_rows_alone(inbox: Inbox, engine: Engine) -> None:
    inbox.store([text_event(ANNA, T0, "m_1")] + fixture_events("echo"))
    inbox.complete(claim(inbox).event_id)
    assert inbox.recover(timedelta(0)) == Recovery(0, [])
    assert {row["status"] for row in rows(engine).values()} == {"done", "ignored"}


def test_pending_conversations_oldest_first(inbox: Inbox) -> None:
    inbox.store([text_event(LUCA, T0 + 50, "m_l"), text_event(ANNA, T0 + 10, "m_a")])
    inbox.store(fixture_events("comment_customer"))  # created later than both
    assert inbox.pending_conversations() == [
        ANNA,
        LUCA,
        "comment:912345678901234_1234567890123456",
    ]


def test_unsupported_database() -> None:
    mysql = SimpleNamespace(dialect=SimpleNamespace(name="mysql"))
    with pytest.raises(ValueError, match="SQLite or PostgreSQL"):
        Inbox(mysql)  # type: ignore[arg-type]


# --- concurrency ------------------------------------------------------------------------


def _run_workers(
    engines: list[Engine], conversations: int, per_conversation: int
) -> dict[str, list[int]]:
    """Workers claim until everything is done, checking no conversation is held twice."""
    active: set[str] = set()
    processed: dict[str, list[int]] = defaultdict(list)
    violations: list[str] = []
    most_at_once = [0]
    errors: list[BaseException] = []
    guard = threading.Lock()
    total = conversations * per_conversation
    done = threading.Event()

    def work(worker: int, worker_engine: Engine) -> None:
        inbox = Inbox(worker_engine)
        rng = random.Random(worker)
        idle_since = time.monotonic()
        try:
            while not done.is_set():
                claimed = inbox.claim_next(worker_id=f"w{worker}")
                if claimed is None:
                    if time.monotonic() - idle_since > 30:
                        return
                    time.sleep(0.002)
                    continue
                idle_since = time.monotonic()
                conversation = claimed.conversation_id
                with guard:
                    if conversation in active:
                        violations.append(conversation)
                    active.add(conversation)
                    most_at_once[0] = max(most_at_once[0], len(active))
                time.sleep(0.005 + rng.random() * 0.01)  # longer than a claim takes
                with guard:
                    active.discard(conversation)
                    processed[conversation].append(claimed.timestamp)
                    if sum(len(seen) for seen in processed.values()) == total:
                        done.set()
                assert inbox.complete(claimed.event_id, f"w{worker}")
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
            done.set()

    threads = [
        threading.Thread(target=work, args=(index, worker_engine))
        for index, worker_engine in enumerate(engines)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not violations, f"conversations processed twice at once: {violations}"
    # Different conversations did run at the same time.
    assert most_at_once[0] >= 2
    return processed


def _store_load(engine: Engine, conversations: int, per_conversation: int) -> None:
    events = []
    for c in range(conversations):
        psid = f"80000000000{c:05d}"
        # Interleaved and shuffled, as webhooks may arrive.
        for i in range(per_conversation):
            events.append(text_event(psid, T0 + i * 10 + c, f"m_{c}_{i}"))
    random.Random(7).shuffle(events)
    Inbox(engine).store(events)


def _check_complete_and_ordered(
    engine: Engine, processed: dict[str, list[int]], conversations: int, per_conversation: int
) -> None:
    assert len(processed) == conversations
    for timestamps in processed.values():
        assert timestamps == sorted(timestamps)
        assert len(timestamps) == per_conversation
    with engine.connect() as connection:
        statuses = dict(
            connection.execute(select(TABLE.c.status, func.count()).group_by(TABLE.c.status)).all()
        )
    assert statuses == {"done": conversations * per_conversation}


def test_concurrent_workers_sharing_one_engine(engine: Engine) -> None:
    conversations, per_conversation = 3, 12
    _store_load(engine, conversations, per_conversation)
    processed = _run_workers([engine] * 4, conversations, per_conversation)
    _check_complete_and_ordered(engine, processed, conversations, per_conversation)


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_workers_with_their_own_engines_never_share_a_conversation(
    engine: Engine,
) -> None:
    conversations, per_conversation = 3, 15
    _store_load(engine, conversations, per_conversation)
    engines = [create_engine(engine.url, future=True, pool_size=2) for _ in range(4)]
    try:
        processed = _run_workers(engines, conversations, per_conversation)
    finally:
        for worker_engine in engines:
            worker_engine.dispose()
    _check_complete_and_ordered(engine, processed, conversations, per_conversation)


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_claim_skips_a_conversation_another_process_is_claiming(
    engine: Engine, clock: Clock
) -> None:
    inbox = Inbox(engine, clock=clock)
    inbox.store([text_event(ANNA, T0, "m_anna"), text_event(LUCA, T0 + 5, "m_luca")])
    other = create_engine(engine.url, future=True)
    try:
        with other.connect() as connection:
            # Another process is in the middle of claiming Anna's conversation.
            locked = connection.execute(
                text("select pg_try_advisory_xact_lock(:ns, hashtext(:cid))"),
                {"ns": 0x6E640001, "cid": ANNA},
            ).scalar()
            assert locked
            assert inbox.claim_next(conversation_id=ANNA) is None
            assert claim(inbox).event_id == "m_luca"
            connection.rollback()
        assert claim(inbox).event_id == "m_anna"
    finally:
        other.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_claim_sees_a_claim_committed_while_it_waited(engine: Engine) -> None:
    """Two engines racing on one conversation: exactly one wins each round."""
    inbox_a = Inbox(engine)
    other = create_engine(engine.url, future=True)
    inbox_b = Inbox(other)
    try:
        inbox_a.store([text_event(ANNA, T0 + i, f"m_{i}") for i in range(20)])
        barrier = threading.Barrier(2)
        results: dict[str, list[str | None]] = {"a": [], "b": []}

        def race(name: str, inbox: Inbox) -> None:
            for _ in range(20):
                barrier.wait()
                claimed = inbox.claim_next(conversation_id=ANNA, worker_id=name)
                results[name].append(claimed.event_id if claimed else None)
                barrier.wait()
                if claimed:
                    assert inbox.complete(claimed.event_id, name)
                barrier.wait()

        threads = [
            threading.Thread(target=race, args=("a", inbox_a)),
            threading.Thread(target=race, args=("b", inbox_b)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        winners = [
            a if a is not None else b for a, b in zip(results["a"], results["b"], strict=True)
        ]
        for a, b in zip(results["a"], results["b"], strict=True):
            assert a is None or b is None, "both claimed the same conversation at once"
        assert winners == [f"m_{i}" for i in range(20)]
    finally:
        other.dispose()


# --- the webhook's write on SQLite ---------------------------------------------------------


def _hold_sqlite_write_lock(engine: Engine, seconds: float, taken: threading.Event) -> None:
    with engine.connect() as connection:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        connection.rollback()


def test_sqlite_webhook_write_gets_the_lock_as_soon_as_it_is_free(tmp_path: Path) -> None:
    from bot.store import create_db_engine, ensure_schema

    engine = create_db_engine(f"sqlite:///{tmp_path / 'inbox.db'}")
    ensure_schema(engine)
    inbox = Inbox(engine)
    taken = threading.Event()
    holder = threading.Thread(target=_hold_sqlite_write_lock, args=(engine, 0.3, taken))
    holder.start()
    taken.wait(5)
    started = time.monotonic()
    assert inbox.store([text_event("p1", 1, "m.lock")]) == ["m.lock"]
    waited = time.monotonic() - started
    holder.join()
    assert waited >= 0.25  # it did wait for the other writer, and stored once it could
    assert status_of(engine, "m.lock") == "pending"
    # the connection settings it changed for the write are back for whoever uses it next
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_sqlite_webhook_write_gives_up_with_an_error_when_the_lock_never_frees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from bot.messenger import inbox as inbox_module
    from bot.store import create_db_engine, ensure_schema

    monkeypatch.setattr(inbox_module, "WEBHOOK_LOCK_WAIT_SECONDS", 0.2)
    engine = create_db_engine(f"sqlite:///{tmp_path / 'inbox.db'}")
    ensure_schema(engine)
    taken = threading.Event()
    holder = threading.Thread(target=_hold_sqlite_write_lock, args=(engine, 1.0, taken))
    holder.start()
    taken.wait(5)
    with pytest.raises(OperationalError, match="locked"):
        Inbox(engine).store([text_event("p1", 1, "m.never")])
    holder.join()
    assert "m.never" not in rows(engine)


def test_a_backlog_in_a_few_conversations_never_delays_a_new_customers_first_answer(
    engine: Engine, clock: Clock
) -> None:
    inbox = Inbox(engine, clock=clock)
    floods = [f"99000000000000{n:02d}" for n in range(3)]
    # junk with timestamps from long ago, as a sender may write them
    inbox.store([text_event(psid, number, f"m_junk_{psid}_{number}")
                 for number in range(40) for psid in floods])
    for _ in range(6):  # the workers have been at the backlog for a while
        inbox.complete(claim(inbox).event_id)
    clock.advance(timedelta(seconds=1))
    inbox.store([text_event(ANNA, T0, "m_anna")])
    claimed_next = [claim(inbox).event_id for _ in range(len(floods) + 1)]
    assert "m_anna" in claimed_next[:1]  # first: nobody else is waiting for a first answer


def test_pending_summary_counts_pending_events_and_the_oldest_wait(engine) -> None:
    from datetime import datetime, timedelta, timezone

    from bot.messenger.events import parse_webhook
    from tests.messenger_payloads import dm

    start = datetime(2026, 3, 4, 22, 0, tzinfo=timezone.utc)
    now = {"at": start}
    inbox = Inbox(engine, clock=lambda: now["at"])
    assert inbox.pending_summary() == PendingSummary(0, 0.0)
    inbox.store(parse_webhook(dm("one", "9100000000000011")))
    now["at"] = start + timedelta(seconds=30)
    inbox.store(parse_webhook(dm("two", "9100000000000012")))
    now["at"] = start + timedelta(seconds=90)
    assert inbox.pending_summary() == PendingSummary(2, 90.0)
    claimed = inbox.claim_next()
    assert claimed is not None and claimed.received_at is not None
    assert inbox.pending_summary().events == 1
