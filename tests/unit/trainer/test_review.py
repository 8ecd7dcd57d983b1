"""The review inbox and its groups: which messages a trainer sees, in which language, and how
they are grouped (never two languages in one group)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.store import TicketRow, create_db_engine
from bot.trainer.grouping import group_items
from bot.trainer.review import (
    CustomerMessage,
    Mark,
    ReviewInbox,
    ReviewItem,
    examples_by_language,
    message_key,
    review_items,
    stored_customer_messages,
)
from bot.trainer.settings import TrainerSettings, TrainerSettingsError, load_trainer_settings
from tests.rasa_events import bot_event, events_table, slot_event, user_event

T0 = datetime(2026, 11, 22, 21, 0, tzinfo=timezone.utc)
SETTINGS = TrainerSettings(low_confidence_below=0.6)
LANGUAGES = ("it", "en")
PROJECT_DIR = Path(__file__).resolve().parents[3]


def english(_: str) -> str:
    return "en"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def said(conversation: str, text: str, minutes: float, intent: str | None,
         confidence: float | None, language: str | None = "en") -> CustomerMessage:
    return CustomerMessage(conversation, text, at(minutes), intent, confidence, language)


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
    items = review_items(MESSAGES, TICKETS, marks, set(), SETTINGS, LANGUAGES, english)
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
    assert first.language == "en" and first.as_json()["language"] == "en"


def test_a_confident_answer_the_customer_rephrased_or_left_for_a_person_is_reviewed():
    messages = [
        said("p", "how do I waterproof my boots", 0, "complaint", 0.94),
        said("p", "I mean how do I make my boots waterproof", 1, "faq_care", 0.71),
        said("q", "what polish should I use", 0, "order_status", 0.9),
        said("q", "/human_request", 0.5, "human_request", 1.0),  # tapped: still a person
        said("r", "can I return sandals", 0, "returns_info", 0.95),
        said("r", "thanks!", 0.5, "thanks", 0.99),  # answered right: not reviewed
        said("s", "where is my order 10023", 0, "order_status", 0.96),
        said("s", "where is my order 10024 then", 1, "order_status", 0.95),  # same intent
        said("t", "do you ship to Malta", 0, "shipping_info", 0.92),
        said("t", "I want a person", 10, "human_request", 0.99),  # ten minutes later
        said("u", "gift wrap?", 0, "nlu_fallback", 0.3),
        said("u", "can you gift wrap it", 0.5, "shipping_info", 0.8),  # the model did doubt
    ]
    items = review_items(messages, [], [], set(), SETTINGS, LANGUAGES, english)
    assert {item.text: item.reasons for item in items} == {
        "how do I waterproof my boots": ("rephrased",),
        "what polish should I use": ("asked_for_person",),
        "gift wrap?": ("fallback",),
    }


def test_each_message_has_its_language_the_slots_or_else_the_detectors():
    messages = [
        said("a", "posso avere la confezione regalo?", 0, "nlu_fallback", 0.3, "it"),
        said("b", "can you gift wrap it", 1, "nlu_fallback", 0.3, None),  # no slot stored
        said("c", "blorp", 2, "nlu_fallback", 0.3, "fr"),  # not (or no longer) a brand language
        said("d", "ok", 3, "nlu_fallback", 0.3, "en"),  # the slot says what the text cannot
    ]
    read = []

    def detector(text: str) -> str:
        read.append(text)
        return "it" if "regalo" in text or "perso" in text else "en"

    marks = [Mark("e", at(4), "il pacco è perso")]  # its event is gone
    items = review_items(messages, [], marks, set(), SETTINGS, LANGUAGES, detector)
    assert {item.text: item.language for item in items} == {
        "posso avere la confezione regalo?": "it", "can you gift wrap it": "en", "blorp": "en",
        "ok": "en", "il pacco è perso": "it"}
    assert sorted(read) == ["blorp", "can you gift wrap it", "il pacco è perso"]


def test_decided_messages_leave_the_inbox():
    decided = {message_key("a", at(0)), message_key("e", at(7))}
    texts = {item.text for item in review_items(MESSAGES, TICKETS, [], decided, SETTINGS,
                                                LANGUAGES, english)}
    assert "do you gift wrap?" not in texts and "blorp" not in texts and "zzzz" in texts


def _item(text: str, minutes: float, language: str = "en") -> ReviewItem:
    return ReviewItem(f"k{minutes}", "c", text, at(minutes), "nlu_fallback", 0.3, ("fallback",),
                      language)


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
    assert alone.typical == "hello" and alone.keys == ["k0"] and alone.language == "en"


def test_a_group_never_mixes_languages():
    english_texts = ["can you gift wrap my order?", "gift wrap please", "giftwrap it please"]
    italian_texts = ["potete fare una confezione regalo?", "è possibile avere la confezione "
                     "regalo", "mi fate il pacchetto regalo per favore",
                     "si può avere il pacco regalo", "lo incartate come regalo?"]
    # the same words in both: distance alone would put them together
    same = [_item("gift wrap", 20, "en"), _item("gift wrap", 21, "it")]
    items = ([_item(text, i) for i, text in enumerate(english_texts)]
             + [_item(text, 10 + i, "it") for i, text in enumerate(italian_texts)] + same)
    stop_words = load_trainer_settings(PROJECT_DIR / "trainer.yml").stop_words
    groups = group_items(items, distance=0.62, stop_words=stop_words)
    for group in groups:
        assert {item.language for item in group.items} == {group.language}
    assert [(group.language, len(group.items)) for group in groups] == [
        ("it", 5), ("en", 4), ("it", 1)]
    assert groups[0].as_json()["language"] == "it"
    assert {item["language"] for item in groups[1].as_json()["items"]} == {"en"}
    # grouped on everything, the Italian words every question has split the Italian ones
    assert len(group_items(items[3:8], 0.62)) > 1


def test_a_trainers_wordings_go_in_the_language_of_the_messages_chosen():
    italian = [_item("confezione regalo?", 0, "it"), _item("pacco regalo", 1, "it")]
    both = [*italian, _item("gift wrap?", 2, "en")]

    def detector(text: str) -> str:
        return "it" if "regalo" in text else "en"

    assert examples_by_language(italian, ["incartate?"], None, detector) == {
        "it": ["confezione regalo?", "pacco regalo", "incartate?"]}
    assert examples_by_language(italian, ["wrap it"], "en", detector) == {
        "it": ["confezione regalo?", "pacco regalo"], "en": ["wrap it"]}
    assert examples_by_language(both, ["carta regalo", "wrap it"], None, detector) == {
        "it": ["confezione regalo?", "pacco regalo", "carta regalo"],
        "en": ["gift wrap?", "wrap it"]}
    assert examples_by_language([], ["carta regalo"], None, detector) == {"it": ["carta regalo"]}


def test_messages_come_from_rasas_events_and_decisions_stick(tmp_path):
    from bot.store import ensure_schema

    engine = create_db_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    ensure_schema(engine)
    inbox = ReviewInbox(engine, SETTINGS, clock=lambda: at(60), languages=LANGUAGES)
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
    assert [i.text for i in ReviewInbox(engine, SETTINGS, clock=lambda: at(-60 * 24 * 30),
                                        languages=LANGUAGES).items()] == [
        "last month's gift wrap?"]
    with pytest.raises(ValueError, match="names its intent"):
        inbox.decide(keys, "assigned", by="tina")


def test_the_language_of_a_stored_message_is_the_slot_as_the_bot_answered_it(tmp_path):
    from bot.store import ensure_schema

    engine = create_db_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    ensure_schema(engine)
    events = events_table(engine)
    with engine.begin() as connection:
        connection.execute(events.insert(), [
            # yesterday: the session started in Italian, the customer wrote English
            slot_event("a", "language", "it", at(-60 * 24)),
            user_event("a", "hello there", at(-60 * 24 + 1), "greet", 0.99),
            slot_event("a", "language", "en", at(-60 * 24 + 1.01)),
            # tonight (the inbox reads from here): no slot event, the language stays
            user_event("a", "gift wrap?", at(0), "nlu_fallback", 0.3),
            bot_event("a", "Sorry?", at(0.02)),
            user_event("a", "confezione regalo per mia nonna?", at(1), "nlu_fallback", 0.3),
            slot_event("a", "language_settled", True, at(1.01)),
            slot_event("a", "language", "it", at(1.02)),  # switched by this message
            user_event("a", "ok", at(2), "affirm", 0.4),
            # another conversation: a slot set at its session start, before any message
            slot_event("b", "language", "en", at(3)),
            user_event("b", "zzz", at(3.1), "nlu_fallback", 0.1),
            user_event("c", "could you wrap it as a present please", at(4), "nlu_fallback", 0.1),
            # a restart: the slots back to their initial values, not yet set again
            slot_event("d", "language", "en", at(5)),
            {**user_event("d", "x", at(5.5), "greet", 1.0), "type_name": "restart"},
            user_event("d", "dopo il riavvio", at(6), "nlu_fallback", 0.1),
            slot_event("z", "language", "en", at(7)),  # no message from z: not read
        ])
    found = {m.text: m.language for m in stored_customer_messages(engine, at(-1))}
    assert found == {"gift wrap?": "en", "confezione regalo per mia nonna?": "it", "ok": "it",
                     "zzz": "en", "could you wrap it as a present please": None,
                     "dopo il riavvio": None}
    inbox = ReviewInbox(engine, SETTINGS, clock=lambda: at(60), languages=LANGUAGES)
    assert {item.text: item.language for item in inbox.items()} == {
        "gift wrap?": "en", "confezione regalo per mia nonna?": "it", "ok": "it", "zzz": "en",
        # the last two read by the detector
        "could you wrap it as a present please": "en", "dopo il riavvio": "it"}


def test_trainer_settings_are_checked(tmp_path):
    path = tmp_path / "trainer.yml"
    assert load_trainer_settings(path) == TrainerSettings()
    path.write_text("review:\n  low_confidence_below: 0.5\n  look_back_days: 7\ntest_every: 3\n")
    assert load_trainer_settings(path) == TrainerSettings(low_confidence_below=0.5,
                                                          look_back_days=7, test_every=3)
    path.write_text("review:\n  stop_words:\n    it: [Il, la]\n")
    assert load_trainer_settings(path).stop_words == {"it": frozenset({"il", "la"})}
    assert "di" in load_trainer_settings(PROJECT_DIR / "trainer.yml").stop_words["it"]
    for bad, complaint in (("review:\n  low_confidence_below: 2\n", "low_confidence_below"),
                           ("review:\n  look_back_days: 0.5\n", "look_back_days"),
                           ("test_every: 1\n", "test_every"), ("review: [\n", "not valid YAML"),
                           ("review:\n  stop_words: [a, b]\n", "stop_words"),
                           ("review:\n  stop_words:\n    it: il\n", "stop_words")):
        path.write_text(bad)
        with pytest.raises(TrainerSettingsError, match=complaint):
            load_trainer_settings(path)
