"""The review inbox and its groups: which messages a trainer sees, and how they are grouped."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.store import TicketRow, create_db_engine
from bot.trainer.grouping import group_items
from bot.trainer.review import (
    CustomerMessage,
    Mark,
    ReviewInbox,
    ReviewItem,
    message_key,
    review_items,
    stored_customer_messages,
)
from bot.trainer.settings import TrainerSettings, TrainerSettingsError, load_trainer_settings
from tests.rasa_events import bot_event, events_table, user_event

T0 = datetime(2026, 11, 22, 21, 0, tzinfo=timezone.utc)
SETTINGS = TrainerSettings(low_confidence_below=0.6)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def said(conversation: str, text: str, minutes: float, intent: str | None,
         confidence: float | None) -> CustomerMessage:
    return CustomerMessage(conversation, text, at(minutes), intent, confidence)


def ticket(conversation: str, reason: str, minutes: float) -> TicketRow:
    return TicketRow(conversation_id=conversation, reason=reason, created_at=at(minutes))


MESSAGES = [
    said("a", "do you gift wrap?", 0, "nlu_fallback", 0.31),
    said("a", "what is the meaning of life", 1, "out_of_scope", 0.88),
    said("a", "where is my order", 2, "order_status", 0.97),  # understood: not reviewed
    said("b", "my email is anna.rossi@example.com, gift wrap it", 3, "shipping_time", 0.42),
    said("b", "/human_request", 4, "human_request", 1.0),  # a button: not language
    said("c", "the sole came off", 5, "greet", 0.71),  # a complaint read as a greeting
    said("d", "I want a person", 6, "human_request", 0.99),  # handed off, as meant
    said("e", "blorp", 7, "nlu_fallback", 0.2),
    said("e", "zzzz", 8, "nlu_fallback", 0.1),
    said("f", "you never answer", 9, "order_status", 0.93),  # marked by an agent
]
TICKETS = [ticket("c", "complaint", 5.1), ticket("d", "human_request", 6.1),
           ticket("e", "repeated_fallback", 8.1)]


def test_what_goes_to_the_inbox_and_why():
    marks = [Mark("f", at(9), "you never answer"), Mark("g", at(10), "gone from the store")]
    items = review_items(MESSAGES, TICKETS, marks, set(), SETTINGS)
    reasons = {item.text: item.reasons for item in items}
    assert reasons == {
        "do you gift wrap?": ("fallback",),
        "what is the meaning of life": ("out_of_scope",),
        "my email is [email], gift wrap it": ("low_confidence",),  # redacted
        "the sole came off": ("handed_off",),
        "blorp": ("fallback",),
        "zzzz": ("fallback", "handed_off"),
        "you never answer": ("marked",),
        "gone from the store": ("marked",),
    }
    assert [item.text for item in items][:2] == ["gone from the store", "you never answer"]
    first = next(item for item in items if item.text == "do you gift wrap?")
    assert first.key == message_key("a", at(0)) and first.as_json()["confidence"] == 0.31


def test_decided_messages_leave_the_inbox():
    decided = {message_key("a", at(0)), message_key("e", at(7))}
    texts = {item.text for item in review_items(MESSAGES, TICKETS, [], decided, SETTINGS)}
    assert "do you gift wrap?" not in texts and "blorp" not in texts and "zzzz" in texts


def _item(text: str, minutes: float) -> ReviewItem:
    return ReviewItem(f"k{minutes}", "c", text, at(minutes), "nlu_fallback", 0.3, ("fallback",))


def test_similar_messages_are_grouped_biggest_first():
    texts = ["can you gift wrap my order?", "do you do gift wrapping", "gift wrap please",
             "is gift wrapping available?", "can you giftwrap it", "do you sell gift cards",
             "gift card for my mum?", "can i buy a gift card", "what's the weather"]
    groups = group_items([_item(text, i) for i, text in enumerate(texts)], distance=0.62)
    assert [sorted(item.text for item in group.items) for group in groups] == [
        sorted(texts[:5]), sorted(texts[5:8]), ["what's the weather"]]
    assert [group.number for group in groups] == [1, 2, 3]
    assert groups[0].typical in texts[:5]
    assert groups[0].items[0].text == "can you giftwrap it"  # newest first
    assert group_items([], 0.7) == []
    (alone,) = group_items([_item("hello", 0)], 0.7)
    assert alone.typical == "hello" and alone.keys == ["k0"]


def test_messages_come_from_rasas_events_and_decisions_stick(tmp_path):
    from bot.store import ensure_schema

    engine = create_db_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    ensure_schema(engine)
    inbox = ReviewInbox(engine, SETTINGS, clock=lambda: at(60))
    assert inbox.items() == []  # before Rasa stored anything
    events = events_table(engine)
    with engine.begin() as connection:
        connection.execute(events.insert(), [
            user_event("old", "last month's gift wrap?", at(-60 * 24 * 31), "nlu_fallback", 0.3),
            user_event("a", "gift wrap?", at(0), "nlu_fallback", 0.3),
            user_event("a", "where is my order", at(1), "order_status", 0.99),
            bot_event("a", "Hi", at(2)),
        ])
    assert [m.text for m in stored_customer_messages(engine, at(-1))] == ["gift wrap?",
                                                                          "where is my order"]
    inbox.mark("a", at(1), "where is my order", by="anna")
    inbox.mark("a", at(1), "where is my order", by="anna")  # twice is once
    assert {item.text: item.reasons for item in inbox.items()} == {
        "gift wrap?": ("fallback",), "where is my order": ("marked",)}
    keys = [item.key for item in inbox.items()]
    assert inbox.decide(keys, "assigned", by="tina", intent="gift_wrapping") == 2
    assert inbox.decide(keys, "dismissed", by="tina") == 0  # the first decision stands
    assert inbox.items() == []  # and the message of 31 days ago is beyond look_back_days
    assert [i.text for i in ReviewInbox(engine, SETTINGS, clock=lambda: at(-60 * 24 * 30))
            .items()] == ["last month's gift wrap?"]
    with pytest.raises(ValueError, match="names its intent"):
        inbox.decide(keys, "assigned", by="tina")


def test_trainer_settings_are_checked(tmp_path):
    path = tmp_path / "trainer.yml"
    assert load_trainer_settings(path) == TrainerSettings()
    path.write_text("review:\n  low_confidence_below: 0.5\n  look_back_days: 7\ntest_every: 3\n")
    assert load_trainer_settings(path) == TrainerSettings(low_confidence_below=0.5,
                                                          look_back_days=7, test_every=3)
    for bad, complaint in (("review:\n  low_confidence_below: 2\n", "low_confidence_below"),
                           ("review:\n  look_back_days: 0.5\n", "look_back_days"),
                           ("test_every: 1\n", "test_every"), ("review: [\n", "not valid YAML")):
        path.write_text(bad)
        with pytest.raises(TrainerSettingsError, match=complaint):
            load_trainer_settings(path)
