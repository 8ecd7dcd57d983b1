"""The night's figures on a small set of conversations whose right figures are worked out
by hand below (Rome is UTC+1 in November; Monday's office hours start at 09:00 Rome)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from bot.desk.metrics import Message, compute
from bot.hours import OfficeCalendar
from bot.settings import get_brand
from bot.store import TicketRow


def utc(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=timezone.utc)


SINCE, UNTIL = utc(22, 18), utc(23, 10)  # Sunday 19:00 to Monday 11:00 in Rome
NOW = utc(24, 12)

MESSAGES = [
    # A, Sunday 22:00 Rome (after hours): two questions, each answered in 2 and 3 seconds
    Message("A", "customer", utc(22, 21, 0, 0), "greet"),
    Message("A", "bot", utc(22, 21, 0, 2)),
    Message("A", "customer", utc(22, 21, 1, 0), "order_status"),
    Message("A", "bot", utc(22, 21, 1, 3)),
    # B, Monday 03:00 Rome (after hours): not understood (4 s), then asks for a person
    Message("B", "customer", utc(23, 2, 0, 0), "nlu_fallback"),
    Message("B", "bot", utc(23, 2, 0, 4)),
    Message("B", "customer", utc(23, 2, 5, 0), "human_request"),
    Message("B", "bot", utc(23, 2, 5, 1)),
    # C, Monday 09:30 Rome (office hours): a complaint the bot did not answer
    Message("C", "customer", utc(23, 8, 30, 0), "complaint"),
    # outside the period: not counted
    Message("E", "customer", utc(23, 11, 0, 0), "greet"),
    Message("E", "bot", utc(23, 11, 0, 1)),
]


def ticket(case: int, conversation: str, reason: str, created: datetime, status: str,
           agent_lines: list[datetime], closed: datetime | None = None) -> TicketRow:
    transcript = [{"sender": "agent", "text": "hello", "at": at.isoformat()}
                  for at in agent_lines]
    return TicketRow(id=case, conversation_id=conversation, channel="messenger",
                     reason=reason, priority="normal", language="en", summary="",
                     transcript=json.dumps(transcript), status=status, created_at=created,
                     expected_answer_at=created, reminder_sent=False, handed_back_at=closed)


TICKETS = [
    # B: a person answered 7 h after the handoff (25,200 s), resolved 30 min later
    ticket(1, "B", "human_request", utc(23, 2, 5, 1), "resolved", [utc(23, 9, 5, 1)],
           closed=utc(23, 9, 35, 1)),
    # C: nobody answered, and on Tuesday noon more than 24 h have passed: missed
    ticket(2, "C", "complaint", utc(23, 8, 30, 5), "open", []),
    # before the period: not counted
    ticket(3, "Z", "abuse", utc(21, 12), "open", []),
]


@pytest.fixture(scope="module")
def figures():
    calendar = OfficeCalendar.from_brand(get_brand())
    return compute(MESSAGES, TICKETS, calendar, SINCE, UNTIL, NOW)


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


def test_the_period_is_a_whole_day_in_the_brands_zone():
    from zoneinfo import ZoneInfo

    from bot.desk.report import PeriodError, period

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
