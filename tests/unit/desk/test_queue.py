"""The queue's order (priority, reply deadline, age), its filters (the language among them)
and what stands out today."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.desk.claims import Claim
from bot.desk.queue import QueueFilter, build_queue, reply_deadline
from bot.handoff.reasons import HandoffReason, Priority
from bot.handoff.tickets import Ticket

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)  # 09:00 in Rome


def ticket(case: int, priority: Priority, created_hours_ago: float,
           reason: HandoffReason = HandoffReason.COMPLAINT, channel: str = "messenger",
           language: str = "en") -> Ticket:
    created = NOW - timedelta(hours=created_hours_ago)
    return Ticket(case, f"psid-{case}", channel, f"Customer {case}", reason, priority, language,
                  None, "summary", [], "open", created, created, False)


def test_the_reply_deadline_is_24_hours_then_7_days_for_a_person():
    wrote = NOW - timedelta(hours=10)
    assert reply_deadline(wrote, NOW) == wrote + timedelta(hours=24)
    wrote = NOW - timedelta(hours=30)
    assert reply_deadline(wrote, NOW) == wrote + timedelta(days=7)
    assert reply_deadline(None, NOW) is None


def test_order_is_priority_then_the_deadline_that_expires_first_then_age():
    # worked out by hand:
    #  #1 normal, customer wrote 23 h ago  -> deadline in 1 h (today)
    #  #2 normal, customer wrote 2 h ago   -> deadline in 22 h (tomorrow 07:00 Rome)
    #  #3 high,   customer wrote 1 h ago   -> high beats any normal
    #  #4 normal, web chat (no window)     -> after every normal with a deadline
    #  #5 normal, customer wrote 2 h ago, but the ticket is older than #2 -> same deadline,
    #     so age decides: #5 (opened 5 h ago) before #2 (opened 1 h ago)
    tickets = [
        ticket(1, Priority.NORMAL, 20), ticket(2, Priority.NORMAL, 1),
        ticket(3, Priority.HIGH, 0.5), ticket(4, Priority.NORMAL, 30, channel="webchat"),
        ticket(5, Priority.NORMAL, 5),
    ]
    wrote = {"psid-1": NOW - timedelta(hours=23), "psid-2": NOW - timedelta(hours=2),
             "psid-3": NOW - timedelta(hours=1), "psid-5": NOW - timedelta(hours=2)}

    def last(t: Ticket):
        return wrote.get(t.conversation_id) if t.channel == "messenger" else None

    rows = build_queue(tickets, {}, last, NOW, ROME)
    assert [r.ticket.case_number for r in rows] == [3, 1, 5, 2, 4]
    assert {r.ticket.case_number for r in rows if r.lapses_today} == {1}


def test_filters_by_reason_priority_and_claim():
    tickets = [ticket(1, Priority.URGENT, 1, HandoffReason.ABUSE),
               ticket(2, Priority.NORMAL, 2, HandoffReason.HUMAN_REQUEST),
               ticket(3, Priority.NORMAL, 3, HandoffReason.HUMAN_REQUEST)]
    claims = {2: Claim(2, "anna", "Anna Rossi", NOW)}

    def cases(only: QueueFilter) -> list[int]:
        return [r.ticket.case_number for r in
                build_queue(tickets, claims, lambda t: None, NOW, ROME, only)]

    assert cases(QueueFilter(reason=HandoffReason.HUMAN_REQUEST)) == [3, 2]
    assert cases(QueueFilter(priority=Priority.URGENT)) == [1]
    assert cases(QueueFilter(claimed=True)) == [2]
    assert cases(QueueFilter(claimed=False)) == [1, 3]
    assert QueueFilter.from_query({"reason": "abuse", "priority": "nonsense", "claimed": "no"}) \
        == QueueFilter(HandoffReason.ABUSE, None, False)


def test_filter_by_the_tickets_language_among_the_brands():
    tickets = [ticket(1, Priority.NORMAL, 1, language="it"),
               ticket(2, Priority.NORMAL, 2, language="en"),
               ticket(3, Priority.HIGH, 3, language="it")]

    def cases(only: QueueFilter) -> list[int]:
        return [r.ticket.case_number for r in
                build_queue(tickets, {}, lambda t: None, NOW, ROME, only)]

    assert cases(QueueFilter(language="it")) == [3, 1]
    assert cases(QueueFilter(language="en")) == [2]
    brand = ("it", "en")
    assert QueueFilter.from_query({"language": "en"}, brand) == QueueFilter(language="en")
    assert QueueFilter.from_query({"language": "de"}, brand) == QueueFilter()  # not the brand's
    assert QueueFilter.from_query({"language": "en"}) == QueueFilter()  # no languages known
