"""Typed text is read as words: `as_typed`, our payloads' shape, and the web chat's request."""

from __future__ import annotations

import json

import pytest

from bot.understanding.typed_text import as_typed, intent_of_payload, is_intent_payload
from bot.webchat.chat_request import ChatRequestError, parse_chat_request


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("/human_request", "human_request"),
        ('/inform{"email": "x@y.it"}', 'inform{"email": "x@y.it"}'),
        ("  /greet  ", "greet  "),
        ("/ Call me at 0039 349 1234567", "Call me at 0039 349 1234567"),
        ("// /  /restart", "restart"),
        ("/", ""),
        (" // ", ""),
    ],
)
def test_a_leading_slash_is_removed(typed, words):
    assert as_typed(typed) == words
    assert not as_typed(typed).strip().startswith("/")


@pytest.mark.parametrize(
    "typed", ["where is my order?", "  hi", "size 42/43", "a/b", "", "ciao /human_request"]
)
def test_text_without_a_leading_slash_is_unchanged(typed):
    assert as_typed(typed) == typed


def test_rasa_reads_no_intent_in_typed_text():
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.message import Message

    for typed in ("/human_request", '/inform{"email": "mario.rossi@example.com"}'):
        command = YAMLStoryReader.unpack_regex_message(Message(data={"text": typed}))
        assert command.get("intent"), typed  # Rasa's own reading of the raw text
        words = YAMLStoryReader.unpack_regex_message(Message(data={"text": as_typed(typed)}))
        assert not words.get("intent") and not words.get("entities")


@pytest.mark.parametrize(
    ("payload", "intent"),
    [
        ("/human_request", "human_request"),
        ('/share_media{"media_type":"image"}', "share_media"),
        ("/human_request{}", "human_request"),
        ("/", None),
        ("human_request", None),
        ("/human request", None),
        ("/inform{oops}", None),
        ('/inform["x"]', None),
        ("/inform@0.9", None),
        ('/inform{"a": 1} and more', None),
    ],
)
def test_only_our_payload_shape_names_an_intent(payload, intent):
    assert intent_of_payload(payload) == intent


def test_a_payload_must_name_a_known_intent_when_intents_are_given():
    assert is_intent_payload("/human_request", {"human_request", "greet"})
    assert not is_intent_payload("/restart_everything", {"human_request", "greet"})
    assert is_intent_payload("/restart_everything")


def body(**fields) -> bytes:
    return json.dumps(fields).encode()


def test_the_web_chat_reads_a_typed_command_as_words_and_keeps_it_for_the_transcript():
    request = parse_chat_request(body(message=" /human_request "))
    assert request.text == request.message == "human_request"
    assert request.payload is None
    assert request.metadata() == {"display_text": "/human_request"}


def test_the_web_chat_sends_a_tapped_payload_as_it_is():
    request = parse_chat_request(
        body(payload="/order_status", display_text="Where's my order?")
    )
    assert request.text == request.payload == "/order_status"
    assert request.metadata() == {"display_text": "Where's my order?"}


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"payload": "/order_status", "message": "hi"}, "not both"),
        ({"payload": "order_status"}, "'payload'"),
        ({"payload": "/inform{nope}"}, "'payload'"),
        ({"payload": 7}, "'payload'"),
        ({"message": " / "}, "nothing but slashes"),
    ],
)
def test_bad_payloads_are_refused(fields, complaint):
    with pytest.raises(ChatRequestError, match=complaint):
        parse_chat_request(body(**fields))
