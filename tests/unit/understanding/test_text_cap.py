"""The first NLU component cuts what the pipeline reads; Rasa's tracker keeps the whole text."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.detection import MAX_READ_CHARS, LanguageDetector
from bot.understanding.text_cap import DEFAULT_MAX_CHARS, MessageLengthCap, capped


def test_short_text_is_left_as_it_is():
    assert capped("dov'è il mio ordine 10023?") == "dov'è il mio ordine 10023?"


def test_long_text_is_cut_at_a_space_near_the_limit():
    text = "parola " * 1000
    cut = capped(text, 2000)
    assert len(cut) <= 2000 and len(cut) > 1900
    assert cut.endswith("parola")


def test_text_without_spaces_is_cut_at_the_limit():
    assert capped("x" * 120_000) == "x" * DEFAULT_MAX_CHARS


def test_the_component_cuts_every_message_it_processes():
    component = MessageLengthCap({"max_chars": 500})
    messages = [Message(data={TEXT: "ciao " * 30_000}), Message(data={TEXT: "ciao"})]
    component.process(messages)
    assert len(messages[0].get(TEXT)) <= 500 and messages[1].get(TEXT) == "ciao"


def test_a_limit_too_small_to_understand_anything_is_refused():
    with pytest.raises(ValueError, match="max_chars"):
        MessageLengthCap({"max_chars": 10})


def test_the_language_detector_reads_only_the_start_of_a_long_message():
    detector = LanguageDetector(["it", "en"])
    italian = "buonasera vorrei sapere dove si trova il mio ordine "
    text = italian * 20 + "hello where is my order please " * 5_000
    assert len(text) > 100 * MAX_READ_CHARS
    assert detector.language_of(text) == "it"
