"""The durable Messenger inbox on SQLite and PostgreSQL: dedup, order, claims, retries, recovery,
heartbeats and take-over."""

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
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Engine

from bot.messenger.event_types import EventKind, InboundEvent, TextMessageEvent
from bot.messenger.events import parse_webhook
from bot.messenger.inbox import (
    CRASHED_EVERY_TRY,
    ClaimedEvent,
    Inbox,
    InboxStatus,
    PendingSummary,
    Recovery,
)
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


# --- heartbeats and take-over -----------------------------------------------------------


TIMEOUT = timedelta(seconds=10)


def test_a_claim_starts_its_heartbeat(inbox: Inbox, engine: Engine, clock: Clock) -> None:
    inbox.store([text_event(ANNA, T0, "m_1"), text_event(LUCA, T0 + 1, "m_2")])
    claim(inbox, worker_id="w1")
    stored = rows(engine)
    assert stored["m_1"]["heartbeat_at"] == stored["m_1"]["claimed_at"] == clock.now
    assert stored["m_2"]["heartbeat_at"] is None  # pending: nobody holds it


def test_renewal_moves_the_heartbeat_of_the_holders_events_only_in_one_statement(
    inbox: Inbox, engine: Engine, clock: Clock
) -> None:
    inbox.store([text_event(psid, T0 + n, f"m_{n}")
                 for n, psid in enumerate([ANNA, LUCA, "7134567890123456", "7245678901234567"])])
    for worker in ("w1", "w1", "w1", "w2"):
        claim(inbox, worker_id=worker)
    claimed_at = clock.now
    clock.advance(timedelta(seconds=3))
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        # m_3 is w2's: naming it for w1 renews nothing of it
        kept = inbox.renew({"m_0": "w1", "m_1": "w1", "m_2": "w1", "m_3": "w1"})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert kept == {"m_0", "m_1", "m_2"}
    stored = rows(engine)
    assert [stored[f"m_{n}"]["heartbeat_at"] for n in range(4)] == [clock.now] * 3 + [claimed_at]
    assert all(stored[f"m_{n}"]["claimed_at"] == claimed_at for n in range(4))
    held = [s for s in statements if not s.strip().upper().startswith(("BEGIN", "SELECT"))]
    assert len(held) == 1 and held[0].lstrip().upper().startswith("UPDATE")
    assert inbox.renew({}) == set()


def test_no_take_over_before_the_timeout_and_none_while_the_holder_renews(
    inbox: Inbox, engine: Engine, clock: Clock
) -> None:
    inbox.store([text_event(ANNA, T0, "m_1"), text_event(ANNA, T0 + 1, "m_2")])
    claim(inbox, worker_id="w1")
    clock.advance(TIMEOUT - timedelta(milliseconds=1))
    assert inbox.claim_next(worker_id="w2") is None
    assert inbox.renew({"m_1": "w1"}) == {"m_1"}
    clock.advance(TIMEOUT - timedelta(milliseconds=1))  # 20 s after the claim
    assert inbox.claim_next(worker_id="w2") is None
    assert rows(engine)["m_1"]["claimed_by"] == "w1"
    clock.advance(timedelta(milliseconds=1))  # 10 s after the renewal
    assert claim(inbox, worker_id="w2").event_id == "m_1"


def test_take_over_after_the_timeout_by_another_worker(
    inbox: Inbox, engine: Engine, clock: Clock
) -> None:
    inbox.store([text_event(ANNA, T0, "m_1"), text_event(ANNA, T0 + 1, "m_2"),
                 text_event(LUCA, T0 + 2, "m_luca")])
    first = claim(inbox, worker_id="dead")
    assert first.attempts == 0
    clock.advance(TIMEOUT + timedelta(seconds=1))
    taken = claim(inbox, worker_id="alive")
    assert (taken.event_id, taken.claimed_by, taken.claimed_at) == ("m_1", "alive", clock.now)
    assert taken.attempts == 1  # the try cut short by the crash counts
    assert taken.event == first.event
    row = rows(engine)["m_1"]
    assert (row["status"], row["claimed_by"], row["attempts"]) == ("processing", "alive", 2)
    assert row["claimed_at"] == row["heartbeat_at"] == clock.now
    # Anna's conversation stays busy throughout: her next message waits
    assert claim(inbox, worker_id="other").event_id == "m_luca"
    assert inbox.claim_next(worker_id="other") is None
    assert inbox.complete("m_1", "alive")
    assert claim(inbox, worker_id="other").event_id == "m_2"


def test_take_over_for_one_conversation_looks_at_that_conversation_only(
    inbox: Inbox, clock: Clock
) -> None:
    inbox.store([text_event(ANNA, T0, "m_anna"), text_event(LUCA, T0 + 1, "m_luca")])
    claim(inbox, worker_id="dead")
    claim(inbox, worker_id="dead")
    clock.advance(TIMEOUT * 2)
    assert claim(inbox, conversation_id=LUCA, worker_id="alive").event_id == "m_luca"
    assert claim(inbox, worker_id="alive").event_id == "m_anna"


def test_a_row_claimed_before_heartbeats_is_judged_by_its_claim_time(
    inbox: Inbox, engine: Engine, clock: Clock
) -> None:
    inbox.store([text_event(ANNA, T0, "m_1")])
    claim(inbox, worker_id="old-release")
    with engine.begin() as connection:
        connection.execute(TABLE.update().values(heartbeat_at=None))
    clock.advance(TIMEOUT - timedelta(seconds=1))
    assert inbox.claim_next(worker_id="w2") is None
    clock.advance(timedelta(seconds=2))
    assert claim(inbox, worker_id="w2").event_id == "m_1"


def test_the_old_holder_cannot_complete_fail_or_renew_after_a_take_over(
    inbox: Inbox, engine: Engine, clock: Clock
) -> None:
    inbox.store([text_event(ANNA, T0, "m_1")])
    claim(inbox, worker_id="presumed-dead")
    clock.advance(TIMEOUT * 2)
    claim(inbox, worker_id="alive")
    before = rows(engine)
    clock.advance(timedelta(seconds=1))
    assert inbox.complete("m_1", "presumed-dead") is False  # lost
    assert inbox.fail("m_1", RuntimeError("late"), "presumed-dead") is None  # lost
    assert inbox.renew({"m_1": "presumed-dead"}) == set()
    assert rows(engine) == before  # nothing changed
    assert inbox.complete("m_1", "alive")
    assert status_of(engine, "m_1") == "done"


def test_fail_only_by_the_holder(inbox: Inbox, engine: Engine) -> None:
    inbox.store([text_event(ANNA, T0, "m_1")])
    claim(inbox, worker_id="w1")
    assert inbox.fail("m_1", "boom", "w2") is None
    assert rows(engine)["m_1"]["claimed_by"] == "w1"
    assert inbox.fail("m_1", "boom", "w1") is InboxStatus.PENDING
    row = rows(engine)["m_1"]
    assert (row["status"], row["claimed_by"], row["heartbeat_at"]) == ("pending", None, None)


def test_a_take_over_counts_as_a_crashed_try_and_the_second_quarantines(
    inbox: Inbox, engine: Engine, clock: Clock
) -> None:
    inbox.store([text_event(ANNA, T0, "m_poison"), text_event(ANNA, T0 + 1, "m_after")])
    assert claim(inbox, worker_id="first").attempts == 0  # its process dies during it
    clock.advance(TIMEOUT * 2)
    quarantined: list[ClaimedEvent] = []
    taken = claim(inbox, worker_id="second", quarantined=quarantined)
    assert (taken.event_id, taken.attempts, quarantined) == ("m_poison", 1, [])
    clock.advance(TIMEOUT * 2)  # and the second process dies during it too
    after = claim(inbox, worker_id="third", quarantined=quarantined)
    (poisoned,) = quarantined
    assert poisoned.event_id == "m_poison" and poisoned.conversation_id == ANNA
    assert poisoned.event.text  # what the customer said, for the person
    row = rows(engine)["m_poison"]
    assert (row["status"], row["attempts"], row["error"]) == (
        "quarantined", 2, CRASHED_EVERY_TRY)
    assert row["processed_at"] == clock.now
    assert after.event_id == "m_after"  # the conversation moves on


def test_a_take_over_quarantines_without_a_list_too(
    engine: Engine, clock: Clock
) -> None:
    inbox = Inbox(engine, clock=clock, quarantine_after=1)
    inbox.store([text_event(ANNA, T0, "m_1")])
    claim(inbox, worker_id="dead")
    clock.advance(TIMEOUT * 2)
    assert inbox.claim_next(worker_id="alive") is None
    assert status_of(engine, "m_1") == "quarantined"


def test_the_claim_timeout_is_configurable(engine: Engine, clock: Clock) -> None:
    inbox = Inbox(engine, clock=clock, claim_timeout=timedelta(seconds=1))
    assert inbox.claim_timeout == timedelta(seconds=1)
    inbox.store([text_event(ANNA, T0, "m_1")])
    claim(inbox, worker_id="dead")
    clock.advance(timedelta(seconds=1.5))
    assert claim(inbox, worker_id="alive").event_id == "m_1"
    with pytest.raises(ValueError, match="claim_timeout"):
        Inbox(engine, claim_timeout=timedelta(0))


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_each_abandoned_event_is_taken_over_by_one_worker_only(
    engine: Engine, clock: Clock
) -> None:
    Inbox(engine, clock=clock).store([text_event(f"81000000000{n:05d}", T0 + n, f"m_{n}")
                                      for n in range(20)])
    dead = Inbox(engine, clock=clock)
    for _ in range(20):
        claim(dead, worker_id="dead")
    clock.advance(TIMEOUT * 2)
    engines = [create_engine(engine.url, future=True, pool_size=2) for _ in range(3)]
    taken: dict[str, list[str]] = defaultdict(list)
    barrier = threading.Barrier(len(engines))

    def take(name: str, own: Engine) -> None:
        inbox = Inbox(own, clock=clock)
        barrier.wait()
        while (claimed := inbox.claim_next(worker_id=name)) is not None:
            taken[name].append(claimed.event_id)

    threads = [threading.Thread(target=take, args=(f"w{n}", own))
               for n, own in enumerate(engines)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for own in engines:
            own.dispose()
    every = [event_id for ids in taken.values() for event_id in ids]
    assert sorted(every) == sorted(f"m_{n}" for n in range(20))  # each exactly once
    stored = rows(engine)
    assert all(stored[event_id]["claimed_by"] == name
               for name, ids in taken.items() for event_id in ids)
    assert {row["attempts"] for row in stored.values()} == {2}


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
