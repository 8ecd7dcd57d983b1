"""The main request of a message of several sentences: courtesies off, the request kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.understanding.main_request import MainRequestFocus

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def focus() -> MainRequestFocus:
    """The component as config.yml configures it."""
    pipeline = yaml.safe_load((PROJECT_DIR / "config.yml").read_text())["pipeline"]
    entry = next(c for c in pipeline if c["name"].endswith("MainRequestFocus"))
    return MainRequestFocus({k: v for k, v in entry.items() if k != "name"})


def read(focus: MainRequestFocus, text: str) -> str:
    start, end = focus.courtesies.request_span(text)
    return text[start:end]


@pytest.mark.parametrize(("text", "main"), [
    ("Hi Nora. Sorry to write so late. I ordered trainers for my son, order 10017, and I'd "
     "like to know where they are. Thanks!",
     "I ordered trainers for my son, order 10017, and I'd like to know where they are"),
    ("hi, it's about my order 10031, it never arrived",
     "it's about my order 10031, it never arrived"),
    ("hey can u check my order", "can u check my order"),
    ("Good evening. The package arrived torn open. What now?",
     "The package arrived torn open. What now?"),
    ("where is my order? thanks in advance 🙂", "where is my order"),
    ("Buonasera, scusate l'orario. Il mio ordine 10045 non è arrivato. Grazie mille, Marco",
     "Il mio ordine 10045 non è arrivato"),
    ("Ciao a tutti! dove è il mio pacco?", "dove è il mio pacco?"),
    ("Gentile Northwind, vorrei la fattura del mio ordine. Cordiali saluti",
     "vorrei la fattura del mio ordine"),
])
def test_greetings_courtesies_and_thanks_come_off_the_request(focus, text, main):
    assert read(focus, text) == main


@pytest.mark.parametrize("text", [
    "hi there", "hi nora", "hello northwind!", "thanks, bye", "hi! thanks", "grazie mille",
    "buonasera", "hi, order 10031",  # two words left: too little to read alone
    "thanks for nothing, the shoes fell apart",  # thanks that are the complaint itself
    "the shoes fell apart, thanks for nothing",
    "hi-tops back in stock?",  # a word, not a greeting
    "Hi Marco how are you",  # no punctuation after the name: the name stays
])
def test_short_or_meaningful_courtesies_stay(focus, text):
    expected = "Marco how are you" if text.startswith("Hi Marco") else text
    assert read(focus, text) == expected


def test_entities_of_training_examples_move_with_the_text(focus):
    text = "hi, order 10093 never came, thanks"
    number = text.index("10093")
    example = Message(data={TEXT: text, "intent": "delivery_problem", ENTITIES: [
        {"entity": "order_number", "start": number, "end": number + 5, "value": "10093"}]})
    greeting = Message(data={TEXT: "hi there", "intent": "greet"})
    focus.process_training_data(TrainingData([example, greeting]))
    assert example.get(TEXT) == "order 10093 never came"
    entity, = example.get(ENTITIES)
    assert example.get(TEXT)[entity["start"]:entity["end"]] == "10093"
    assert greeting.get(TEXT) == "hi there"


def test_an_entity_inside_a_courtesy_goes_with_it(focus):
    message = Message(data={TEXT: "Hi Nora, where is order 10093?", ENTITIES: [
        {"entity": "name", "start": 3, "end": 7, "value": "Nora"}]})
    focus.process([message])
    assert message.get(TEXT) == "where is order 10093?" and message.get(ENTITIES) == []


def test_a_configuration_that_is_not_a_list_of_phrases_is_refused():
    with pytest.raises(ValueError, match="greetings must be a list of phrases"):
        MainRequestFocus({"greetings": "hi"})
    with pytest.raises(ValueError, match="min_words must be at least 1"):
        MainRequestFocus({"min_words": 0})
