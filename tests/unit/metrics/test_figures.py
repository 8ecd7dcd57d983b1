"""The night's figures on a small set of conversations whose right figures are worked out
by hand below (Rome is UTC+1 in November; Monday's office hours start at 09:00 Rome), and
the conversation's language as read from Rasa's stored events."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from bot.hours import OfficeCalendar
from bot.metrics.figures import Message, compute, stored_messages
from bot.settings import get_brand
from bot.store import TicketRow
from tests.rasa_events import bot_event, events_table, user_event


def utc(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=timezone.utc)


SINCE, UNTIL = utc(22, 18), utc(23, 10)  # Sunday 19:00 to Monday 11:00 in Rome
NOW = utc(24, 12)

LANGUAGES = ("it", "en")  # the brand's, Italian the default
MESSAGES = [
    # A, Sunday 22:00 Rome (after hours): two questions, each answered in 2 and 3 seconds;
    # the greeting kept the default language (Italian), the question was in English
    Message("A", "customer", utc(22, 21, 0, 0), "greet"),
    Message("A", "bot", utc(22, 21, 0, 2)),
    Message("A", "customer", utc(22, 21, 1, 0), "order_status", "en"),
    Message("A", "bot", utc(22, 21, 1, 3)),
    # B, Monday 03:00 Rome (after hours), in Italian: not understood (4 s), then asks for a
    # person
    Message("B", "customer", utc(23, 2, 0, 0), "nlu_fallback", "it"),
    Message("B", "bot", utc(23, 2, 0, 4)),
    Message("B", "customer", utc(23, 2, 5, 0), "human_request", "it"),
    Message("B", "bot", utc(23, 2, 5, 1)),
    # C, Monday 09:30 Rome (office hours), in English: a complaint the bot did not answer
    Message("C", "customer", utc(23, 8, 30, 0), "complaint", "en"),
    # outside the period: not counted
    Message("E", "customer", utc(23, 11, 0, 0), "greet", "en"),
    Message("E", "bot", utc(23, 11, 0, 1)),
]


def ticket(case: int, conversation: str, reason: str, created: datetime, status: str,
           agent_lines: list[datetime], closed: datetime | None = None,
           language: str = "en") -> TicketRow:
    transcript = [{"sender": "agent", "text": "hello", "at": at.isoformat()}
                  for at in agent_lines]
    return TicketRow(id=case, conversation_id=conversation, channel="messenger",
                     reason=reason, priority="normal", language=language, summary="",
                     transcript=json.dumps(transcript), status=status, created_at=created,
                     expected_answer_at=created, reminder_sent=False, handed_back_at=closed)


TICKETS = [
    # B: a person answered 7 h after the handoff (25,200 s), resolved 30 min later
    ticket(1, "B", "human_request", utc(23, 2, 5, 1), "resolved", [utc(23, 9, 5, 1)],
           closed=utc(23, 9, 35, 1), language="it"),
    # C: nobody answered, and on Tuesday noon more than 24 h have passed: missed
    ticket(2, "C", "complaint", utc(23, 8, 30, 5), "open", []),
    # before the period: not counted
    ticket(3, "Z", "abuse", utc(21, 12), "open", []),
]


@pytest.fixture(scope="module")
def figures():
    calendar = OfficeCalendar.from_brand(get_brand())
    return compute(MESSAGES, TICKETS, calendar, SINCE, UNTIL, NOW, languages=LANGUAGES)


def test_messages_answers_and_the_bots_first_response(figures):
    # 5 customer messages in the period; C's was not answered: 4/5
    assert figures["all"] == {
        "customer_messages": 5, "response_rate": 0.8,
        "bot_first_response_avg_s": 3.0,  # A: 2 s, B: 4 s (first message of each)
        "bot_first_response_median_s": 3.0, "fallback_rate": 0.2,  # B's nlu_fallback
    }
    assert figures["after_hours"] == {
        "customer_messages": 4, "response_rate": 1.0, "bot_first_response_avg_s": 3.0,
        "bot_first_response_median_s": 3.0, "fallback_rate": 0.25,
    }
    assert figures["office_hours"] == {
        "customer_messages": 1, "response_rate": 0.0, "bot_first_response_avg_s": None,
        "bot_first_response_median_s": None, "fallback_rate": 0.0,
    }


def test_people_tickets_and_containment(figures):
    assert figures["conversations"] == 3
    assert figures["needed_a_person"] == 0.6667 and figures["containment"] == 0.3333
    assert figures["tickets"] == 2
    assert figures["tickets_by_reason"] == {"complaint": 1, "human_request": 1}
    assert figures["person_first_response_avg_s"] == 25200.0
    assert figures["person_first_response_median_s"] == 25200.0
    assert figures["resolution_avg_s"] == 27000.0  # 7 h 30 min
    assert figures["replies_to_resolution_avg"] == 1.0
    assert figures["tickets_missed_24h_window"] == 1


def test_volume_by_hour_and_top_intents(figures):
    volume = {hour: n for hour, n in figures["volume_by_hour"].items() if n}
    assert volume == {"22": 2, "3": 2, "9": 1}  # Rome's hours
    night = {hour: n for hour, n in figures["after_hours_volume_by_hour"].items() if n}
    assert night == {"22": 2, "3": 2}  # 09:30 on Monday is office hours
    assert len(figures["after_hours_volume_by_hour"]) == 24
    assert sorted(figures["top_intents"]) == sorted(
        [["greet", 1], ["order_status", 1], ["nlu_fallback", 1], ["human_request", 1],
         ["complaint", 1]])


def test_volume_containment_and_fallbacks_by_language(figures):
    # Italian: A's greeting (no language: the default), B's two; B needed a person.
    # English: A's question and C's complaint; A counts in English, the language of its
    # last message; C needed a person. Tickets by their own language.
    assert figures["by_language"] == {
        "it": {"customer_messages": 3, "fallbacks": 1, "fallback_rate": 0.3333,
               "conversations": 1, "needed_a_person": 1.0, "containment": 0.0, "tickets": 1},
        "en": {"customer_messages": 2, "fallbacks": 0, "fallback_rate": 0.0,
               "conversations": 2, "needed_a_person": 0.5, "containment": 0.5, "tickets": 1},
    }
    parts = figures["by_language"].values()
    assert sum(p["customer_messages"] for p in parts) == figures["all"]["customer_messages"]
    assert sum(p["conversations"] for p in parts) == figures["conversations"]


def test_every_brand_language_is_listed_the_default_first_and_others_after_it():
    calendar = OfficeCalendar.from_brand(get_brand())
    quiet = compute([], [], calendar, SINCE, UNTIL, NOW, languages=LANGUAGES)
    assert list(quiet["by_language"]) == ["it", "en"]
    assert quiet["by_language"]["en"] == {
        "customer_messages": 0, "fallbacks": 0, "fallback_rate": None, "conversations": 0,
        "needed_a_person": None, "containment": None, "tickets": 0}
    # a language the brand no longer lists (an old ticket, an old slot value) comes last
    old = compute([Message("D", "customer", utc(22, 20), "greet", "de")],
                  [ticket(4, "D", "complaint", utc(22, 20, 1), "open", [], language="de")],
                  calendar, SINCE, UNTIL, NOW, languages=("en",))
    assert list(old["by_language"]) == ["en", "de"]
    assert old["by_language"]["de"]["conversations"] == 1
    assert old["by_language"]["de"]["needed_a_person"] == 1.0


def slot_event(sender: str, name: str, value: object, at: datetime) -> dict:
    """A row for one slot set, as Rasa 3.6's SQLTrackerStore stores it."""
    data = {"event": "slot", "timestamp": at.timestamp(), "name": name, "value": value}
    return {"sender_id": sender, "type_name": "slot", "timestamp": at.timestamp(),
            "intent_name": None, "action_name": None, "data": json.dumps(data)}


def session_started(sender: str, at: datetime) -> dict:
    data = {"event": "session_started", "timestamp": at.timestamp()}
    return {"sender_id": sender, "type_name": "session_started", "timestamp": at.timestamp(),
            "intent_name": None, "action_name": None, "data": json.dumps(data)}


def test_a_messages_language_is_the_slot_rasa_stored_in_its_turn(engine):
    def at(hour: int, minute: int, second: float = 0) -> datetime:
        return utc(22, hour, minute) + timedelta(seconds=second)

    rows = [
        # P settled on English the day before: its message tonight is still in English
        user_event("P", "hello there, a question", utc(21, 20), "greet", 0.9),
        slot_event("P", "language", "en", utc(21, 20) + timedelta(seconds=0.1)),
        user_event("P", "ok", at(20, 0), "affirm", 0.9),
        # Q never changed the slot (it stays at the default, which Rasa does not store)
        user_event("Q", "ciao", at(20, 5), "greet", 0.9),
        bot_event("Q", "Ciao!", at(20, 5, 1)),
        # R: English after the first message (set before the bot answers), still English on
        # a short "ok"; a new session starts in Italian (the channel's hint): that slot is
        # the next message's, not the "ok"'s
        user_event("R", "where is my order please", at(21, 0), "order_status", 0.9),
        slot_event("R", "language", "en", at(21, 0, 0.1)),
        slot_event("R", "language_settled", True, at(21, 0, 0.1)),
        slot_event("R", "first_name", "language", at(21, 0, 0.2)),
        bot_event("R", "Which order?", at(21, 0, 1)),
        user_event("R", "ok", at(21, 1), "affirm", 0.9),
        session_started("R", at(22, 30)),
        slot_event("R", "language", "it", at(22, 30, 0.1)),
        user_event("R", "buongiorno, dov'è il mio ordine?", at(22, 31), "order_status", 0.9),
        slot_event("R", "language", "it", at(22, 31, 0.1)),
        # S: the slot cleared (None) is the default again
        user_event("S", "hi", at(23, 0), "greet", 0.9),
        slot_event("S", "language", None, at(23, 0, 0.1)),
    ]
    events = events_table(engine, replace=True)
    try:
        with engine.begin() as connection:
            connection.execute(events.insert(), rows)
        found = stored_messages(engine, SINCE, UNTIL)
    finally:
        events.drop(engine)  # a shared PostgreSQL keeps no table of ours for the next test
    assert [(m.conversation_id, m.sender, m.intent, m.language) for m in found] == [
        ("P", "customer", "affirm", "en"),
        ("Q", "customer", "greet", None), ("Q", "bot", None, None),
        ("R", "customer", "order_status", "en"), ("R", "bot", None, None),
        ("R", "customer", "affirm", "en"),
        ("R", "customer", "order_status", "it"),
        ("S", "customer", "greet", None),
    ]
    # R counts in Italian, the language of its last message; P in English; Q and S in the
    # default
    figures = compute(found, [], OfficeCalendar.from_brand(get_brand()), SINCE, UNTIL, NOW,
                      languages=LANGUAGES)
    assert {code: (part["customer_messages"], part["conversations"])
            for code, part in figures["by_language"].items()} == {"it": (3, 3), "en": (3, 1)}


def test_the_period_is_a_whole_day_in_the_brands_zone():
    from zoneinfo import ZoneInfo

    from bot.metrics.report import PeriodError, period

    rome = ZoneInfo("Europe/Rome")
    now = utc(23, 7, 30)  # Monday 08:30 in Rome
    assert period("yesterday", rome, now) == (utc(21, 23), utc(22, 23))  # Sunday in Rome
    assert period("today", rome, now) == (utc(22, 23), now)  # Monday so far
    assert period("2026-11-20", rome, now) == (utc(19, 23), utc(20, 23))
    for bad in ("last week", "2026-13-01"):
        with pytest.raises(PeriodError):
            period(bad, rome, now)
    with pytest.raises(PeriodError, match="not started"):
        period("2026-11-24", rome, now)
