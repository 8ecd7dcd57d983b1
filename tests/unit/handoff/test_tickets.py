from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.handoff.reasons import HandoffReason, Priority, looks_abusive, reason_for_intent
from bot.handoff.tickets import (
    HandoffRequest,
    TicketError,
    TicketService,
    TranscriptLine,
    summarise,
)
from bot.hours import OfficeCalendar


def _service(engine, brand, now):
    clock = {"now": now}
    service = TicketService(
        engine,
        OfficeCalendar.from_brand(brand),
        timedelta(minutes=brand.answer_within_minutes_when_open),
        clock=lambda: clock["now"],
    )
    return service, clock


def _request(reason=HandoffReason.HUMAN_REQUEST, texts=("can I talk to a human?",), conv="c1"):
    at = datetime(2026, 11, 22, 22, 0, tzinfo=timezone.utc)
    lines = []
    for text in texts:
        lines.append(TranscriptLine("customer", text, at))
        lines.append(TranscriptLine("bot", "ok", at))
    return HandoffRequest(
        conversation_id=conv,
        channel="rest",
        reason=reason,
        transcript=lines,
        customer_name="Anna",
        order_number="10023",
        intents_seen=[("order_status", 0.97), ("human_request", 0.91)],
    )


def test_ticket_has_the_whole_packet_and_the_transcript_as_written(engine, brand, now):
    service, _ = _service(engine, brand, now)
    ticket = service.open_ticket(
        _request(texts=("my email is anna.rossi@example.com", "call me on +39 347 123 4567",
                        "I want a human"))
    )
    assert ticket.case_number >= 1
    assert ticket.conversation_id == "c1" and ticket.channel == "rest"
    assert ticket.customer_name == "Anna" and ticket.order_number == "10023"
    assert ticket.reason is HandoffReason.HUMAN_REQUEST and ticket.priority is Priority.NORMAL
    assert ticket.language == "en" and ticket.status == "open"
    assert ticket.created_at == now
    # the agent who answers reads what the customer wrote; the summary, which travels, does not
    transcript = " ".join(line.text for line in ticket.transcript)
    assert "anna.rossi@example.com" in transcript and "+39 347 123 4567" in transcript
    assert "anna.rossi@example.com" not in ticket.summary
    assert "347 123 4567" not in ticket.summary
    assert "10023" in ticket.summary and "human_request (0.91)" in ticket.summary
    assert len(ticket.transcript) == 6
    assert service.get(ticket.case_number) == ticket


def test_answer_time_is_next_opening_at_night_and_soon_when_open(engine, brand, now):
    service, clock = _service(engine, brand, now)  # Sunday 23:10 in Rome: closed
    night = service.open_ticket(_request(conv="night"))
    monday_nine = datetime(2026, 11, 23, 9, 0, tzinfo=brand.timezone)
    assert night.expected_answer_at == monday_nine
    clock["now"] = datetime(2026, 11, 23, 10, 0, tzinfo=brand.timezone)
    day = service.open_ticket(_request(conv="day"))
    assert day.expected_answer_at == clock["now"] + timedelta(minutes=30)


def test_no_promise_of_minutes_just_before_closing_or_lunch(engine, brand, phrasing, phrasing_it):
    rome = brand.timezone
    for opened, expected in [
        (datetime(2026, 11, 23, 17, 55, tzinfo=rome), datetime(2026, 11, 24, 9, 0, tzinfo=rome)),
        (datetime(2026, 11, 23, 12, 50, tzinfo=rome), datetime(2026, 11, 23, 14, 0, tzinfo=rome)),
        (datetime(2026, 11, 23, 10, 0, tzinfo=rome), datetime(2026, 11, 23, 10, 30, tzinfo=rome)),
    ]:
        service, _ = _service(engine, brand, opened)
        ticket = service.open_ticket(_request(conv=f"c-{opened.isoformat()}"))
        assert ticket.expected_answer_at == expected
        assert service.answers_soon(ticket, opened) is (expected - opened <= timedelta(hours=1))
    service, _ = _service(engine, brand, datetime(2026, 11, 23, 17, 55, tzinfo=rome))
    ticket = service.open_ticket(_request(conv="c-phrase"))
    opened = datetime(2026, 11, 23, 17, 55, tzinfo=rome)
    assert phrasing.moment(ticket.expected_answer_at, opened) == "tomorrow at 9:00"
    assert phrasing_it.moment(ticket.expected_answer_at, opened) == "domani alle 9:00"


def test_priorities(engine, brand, now):
    service, _ = _service(engine, brand, now)
    complaint = service.open_ticket(_request(HandoffReason.COMPLAINT, conv="a"))
    abuse = service.open_ticket(_request(HandoffReason.ABUSE, conv="b"))
    rude = service.open_ticket(_request(texts=("you useless idiots",), conv="c"))
    normal = service.open_ticket(_request(conv="d"))
    assert complaint.priority is Priority.HIGH
    assert abuse.priority is Priority.URGENT and rude.priority is Priority.URGENT
    queue = [t.case_number for t in service.list_open()]
    assert queue == [abuse.case_number, rude.case_number, complaint.case_number,
                     normal.case_number]


def test_one_open_ticket_per_conversation_and_messages_join_it(engine, brand, now):
    service, _ = _service(engine, brand, now)
    first = service.open_ticket(_request())
    again = service.open_ticket(_request(HandoffReason.COMPLAINT))
    assert again.case_number == first.case_number
    updated = service.add_customer_message(
        "c1", TranscriptLine("customer", "my card is 4111 1111 1111 1111", now)
    )
    assert updated.transcript[-1].text == "my card is [card]"
    assert service.add_customer_message("nobody", TranscriptLine("customer", "hi", now)) is None
    raised = service.add_customer_message("c1", TranscriptLine("customer", "f*** you idiots", now))
    assert raised.priority is Priority.URGENT


def test_reminder_and_hand_back(engine, brand, now):
    service, _ = _service(engine, brand, now)
    ticket = service.open_ticket(_request())
    service.mark_reminder_sent(ticket.case_number)
    assert service.get(ticket.case_number).reminder_sent
    back = service.hand_back(ticket.case_number, by="giulia")
    assert back.status == "handed_back" and back.handed_back_by == "giulia"
    assert service.open_for_conversation("c1") is None
    with pytest.raises(TicketError, match="not open"):
        service.hand_back(ticket.case_number, by="giulia")
    with pytest.raises(TicketError, match="no case"):
        service.get(999999)
    assert service.open_ticket(_request()).case_number != ticket.case_number


def test_reasons_from_intents():
    assert reason_for_intent("complaint") is HandoffReason.COMPLAINT
    assert reason_for_intent("delivery_problem") is HandoffReason.DELIVERY_PROBLEM
    assert HandoffReason.DELIVERY_PROBLEM.priority is Priority.HIGH
    assert reason_for_intent("order_status") is None
    assert reason_for_intent(None) is None
    assert looks_abusive("You are IDIOTS!!")
    assert not looks_abusive("this is idiotically slow")
    assert not looks_abusive("where is my order")


def test_every_reason_has_a_label_and_a_priority():
    for reason in HandoffReason:
        request = _request(reason)
        assert summarise(request).split(".")[0]
        assert reason.priority in Priority


def test_the_handoff_packet_what_they_wanted_what_the_bot_saw_said_and_told(engine, brand, now):
    service, clock = _service(engine, brand, now)
    at = now - timedelta(minutes=5)
    lines = [
        TranscriptLine("customer", "where is order 10023?", at),
        TranscriptLine("bot", "Order 10023 left our warehouse on Friday.", at),
        TranscriptLine("customer", "it is late, I want to speak to someone", at),
        TranscriptLine("bot", "Sorry about that.", at),
        TranscriptLine("customer", "now please", at),
    ]
    ticket = service.open_ticket(HandoffRequest(
        conversation_id="c-packet", channel="messenger", reason=HandoffReason.HUMAN_REQUEST,
        transcript=lines, order_number="10023",
        intents_seen=[("order_status", 0.98123), ("human_request", 0.9)],
        status_told="Order 10023 left our warehouse on Friday.",
    ))
    clock["now"] = now + timedelta(hours=1)
    ticket = service.add_customer_message(
        "c-packet", TranscriptLine("customer", "hello? anyone?", now + timedelta(minutes=30)))
    packet = service.packet(ticket)
    assert [line.text for line in packet.wanted] == [
        "it is late, I want to speak to someone", "now please"]  # not what came after
    assert [line.text for line in packet.bot_said] == [
        "Order 10023 left our warehouse on Friday.", "Sorry about that."]
    assert packet.intents_seen == [("order_status", 0.9812), ("human_request", 0.9)]
    assert packet.status_told == "Order 10023 left our warehouse on Friday."
    other = service.open_ticket(_request(conv="c-no-status"))
    assert service.packet(other).status_told is None
