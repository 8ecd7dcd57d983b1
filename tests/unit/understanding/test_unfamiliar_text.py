"""The unfamiliar-text classifier: keyboard mash becomes "not understood", real words pass."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("rasa")

from rasa.engine.graph import ExecutionContext  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402
from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from bot.understanding.unfamiliar_text import UnfamiliarTextClassifier, ngrams  # noqa: E402

EXAMPLES = {
    "order_status": ["where is my order", "dov'è il mio ordine", "il pacco non è arrivato",
                     "track my parcel please"],
    "greet": ["hi there", "ciao buonasera", "hello", "salve"],
    "shipping_info": ["how long does shipping to germany take", "quanto costa la spedizione"],
}


def _trained(tmp_path: Path) -> tuple[UnfamiliarTextClassifier, LocalModelStorage, Resource]:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("unfamiliar")
    context = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]
    component = UnfamiliarTextClassifier.create({}, storage, resource, context)
    data = TrainingData([Message(data={"text": text, "intent": intent})
                         for intent, texts in EXAMPLES.items() for text in texts])
    component.train(data)
    return component, storage, resource


def _read(component: UnfamiliarTextClassifier, text: str) -> str:
    message = Message(data={"text": text, "intent": {"name": "affirm", "confidence": 0.95}})
    component.process([message])
    return message.get("intent")["name"]


def test_ngrams_are_of_padded_words():
    assert ngrams("Ok hi", 3) == [" ok", "ok ", " hi", "hi "]
    assert ngrams("ciao") == [" cia", "ciao", "iao "]


@pytest.mark.parametrize("mash", ["qwxz vbnm plokij", "blorp zzkx qwv", "xkcd zzz jjj",
                                  "fnord grelb wibble"])
def test_keyboard_mash_is_not_understood(tmp_path, mash):
    component, _, _ = _trained(tmp_path)
    assert _read(component, mash) == "nlu_fallback"


@pytest.mark.parametrize("text", ["wher is my oder", "dove e il mio pacco", "ciaooo",
                                  "ok", "hi", "qwxz 10023", "zzkx@example.com"])
def test_typos_short_messages_numbers_and_addresses_keep_their_reading(tmp_path, text):
    component, _, _ = _trained(tmp_path)
    assert _read(component, text) == "affirm"


def test_what_was_learned_survives_loading(tmp_path):
    _, storage, resource = _trained(tmp_path)
    context = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]
    loaded = UnfamiliarTextClassifier.load({}, storage, resource, context)
    assert _read(loaded, "qwxz vbnm plokij") == "nlu_fallback"
    assert _read(loaded, "where is my parcel") == "affirm"


def test_an_untrained_component_changes_nothing(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]
    empty = UnfamiliarTextClassifier.create({}, storage, Resource("x"), context)
    assert _read(empty, "qwxz vbnm plokij") == "affirm"
