"""What Rasa gets for each Messenger event, and what the page does with each comment."""

from __future__ import annotations

import json

import pytest

from bot.messenger.comments import CommentAction, decide, first_name, shows_personal_data
from bot.messenger.event_types import CommentEvent
from bot.messenger.events import parse_webhook
from bot.messenger.translate import to_rasa
from tests.messenger_payloads import fresh


def event_of(name: str, **replacements):
    return parse_webhook(fresh(name, **replacements))[0]


def test_text_goes_as_typed_and_keeps_the_message_id():
    event = event_of("dm_text", text="where is my order?")
    message = to_rasa(event)
    assert message.text == "where is my order?" and message.metadata["message_id"] == event.mid


def test_quick_reply_with_an_intent_payload_is_a_trigger_shown_by_its_title():
    message = to_rasa(event_of("quick_reply", text="Shipping",
                               quick_reply={"payload": "/shipping_info"}))
    assert message.text == "/shipping_info" and message.metadata["display_text"] == "Shipping"


def test_quick_reply_with_another_payload_goes_as_its_text():
    assert to_rasa(event_of("quick_reply")).text == "Track my order"


def test_get_started_greets():
    message = to_rasa(event_of("postback_get_started"))
    assert message.text == "/greet" and message.metadata["display_text"] == "Get Started"


def test_menu_postback_with_intent_payload():
    message = to_rasa(event_of("postback_get_started", title="Talk to a person",
                               payload="/human_request"))
    assert message.text == "/human_request"


@pytest.mark.parametrize(
    ("fixture", "media_type", "label"),
    [
        ("attachment_image", "image", "[photo]"),
        ("attachment_audio", "audio", "[voice message]"),
        ("attachment_location", "location", "[location]"),
        ("attachment_sticker", "sticker", "[sticker]"),
    ],
)
def test_attachments_become_the_media_trigger_with_what_a_person_reads(fixture, media_type,
                                                                       label):
    message = to_rasa(event_of(fixture))
    assert message.text.startswith("/share_media")
    assert json.loads(message.text[len("/share_media"):]) == {"media_type": media_type}
    assert message.metadata["display_text"].startswith(label)
    assert message.metadata["attachments"][0]["type"] == media_type


@pytest.mark.parametrize("fixture", ["reaction", "read", "delivery", "echo"])
def test_reactions_and_receipts_are_not_messages_for_the_bot(fixture):
    assert to_rasa(event_of(fixture)) is None


def comment_event(message: str, verb: str = "add", from_page: bool = False) -> CommentEvent:
    body = fresh("comment_by_page" if from_page else "comment_customer", message=message,
                 verb=verb)
    return parse_webhook(body)[0]


@pytest.mark.parametrize(
    ("text", "intent", "confidence", "action"),
    [
        ("When do the boots ship?", "shipping_info", 0.9, CommentAction.ANSWER),
        ("still waiting for my parcel", "order_status", 0.8, CommentAction.ANSWER),
        ("any news?", None, 0.0, CommentAction.ANSWER),
        ("order 10023 never came", "order_status", 0.9, CommentAction.ANSWER_AND_FLAG),
        ("mail me: anna.rossi@example.com", "inform", 0.7, CommentAction.ANSWER_AND_FLAG),
        ("call me on +39 347 123 4567", "human_request", 0.7, CommentAction.ANSWER_AND_FLAG),
        ("you are idiots", "complaint", 0.9, CommentAction.ESCALATE),
        ("love these boots, thank you!", "thanks", 0.95, CommentAction.THANK),
        ("@Marco look at these", "out_of_scope", 0.6, CommentAction.IGNORE),
        ("nice", "thanks", 0.3, CommentAction.IGNORE),
    ],
)
def test_comment_decisions(text, intent, confidence, action):
    assert decide(comment_event(text), intent, confidence) is action


def test_removed_edited_and_own_comments_are_left_alone():
    assert decide(comment_event("When?", verb="remove"), "order_status", 0.9) is \
        CommentAction.IGNORE
    assert decide(comment_event("When?", from_page=True), "order_status", 0.9) is \
        CommentAction.IGNORE


def test_first_name_and_personal_data():
    assert first_name(comment_event("hi")) == "Anna"
    assert shows_personal_data("my order 100234")
    assert not shows_personal_data("size 42 please")


@pytest.mark.parametrize(
    ("typed", "words"),
    [("/human_request", "human_request"),
     ('/inform{"email": "mario.rossi@example.com"}', 'inform{"email": "mario.rossi@example.com"}')],
)
def test_typed_text_that_looks_like_a_command_is_read_as_words(typed, words):
    message = to_rasa(event_of("dm_text", text=typed))
    assert message.text == words
    assert message.metadata["display_text"] == typed


def test_typed_slashes_alone_are_not_answered():
    assert to_rasa(event_of("dm_text", text=" // ")) is None
