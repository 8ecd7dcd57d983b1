"""An NLU component that says "not understood" to text unlike anything the bot learned from.

A classifier always names some intent, often confidently, even for keyboard mash ("qwxz
vbnm plokij" was read as `affirm` at 0.95, "fnord grelb wibble" as `thanks`). This component
learns which character n-grams (four letters of a word, padded like Rasa's ``char_wb``
n-grams) occur in the training examples of every language, and turns a message whose n-grams
are mostly unknown into `nlu_fallback`, so the bot asks again instead of answering a question
nobody asked. Typos and new words of a known language share most of their n-grams with the
training data and pass (on the held-apart files of both languages the lowest share is 0.36,
a French "merci beaucoup"; keyboard mash stays under 0.32).
"""

from __future__ import annotations

import json
import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.understanding.ngrams import ngrams

_MEANINGFUL = re.compile(r"\d|@")
_FILE = "ngrams.json"
UNFAMILIAR = "unfamiliar_text"
"""Set (True) on a message this component turned into `nlu_fallback`: the bot asks to
rephrase, offering no topic (nothing in the words points to one)."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnfamiliarTextClassifier(GraphComponent, IntentClassifier):
    """Marks text whose character n-grams are mostly unknown as `nlu_fallback`.

    Config:
        ngram: the n-gram length (4).
        min_known_share: the share of a message's n-grams that must occur in the training
            data for the other classifiers' reading to stand (0.34).
        min_ngrams: shorter messages (fewer n-grams) are left alone (6: "ok", "oh hi").
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The thresholds; see the class docstring."""
        return {"ngram": 4, "min_known_share": 0.34, "min_ngrams": 6}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 known: frozenset[str] = frozenset()) -> None:
        """A classifier that knows the n-grams `known`."""
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._known = known

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> UnfamiliarTextClassifier:
        """A new, untrained component."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> UnfamiliarTextClassifier:
        """The component with the n-grams learned at training time."""
        try:
            with model_storage.read_from(resource) as directory:
                known = json.loads((directory / _FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            known = []
        return cls(config, model_storage, resource, frozenset(known))

    def train(self, training_data: TrainingData) -> Resource:
        """Learns every n-gram of every training example."""
        known: set[str] = set()
        for example in training_data.intent_examples:
            known.update(ngrams(example.get(TEXT) or "", self._config["ngram"]))
        self._known = frozenset(known)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _FILE).write_text(json.dumps(sorted(known)), encoding="utf-8")
        return self._resource

    def known_share(self, text: str) -> float | None:
        """The share of the text's n-grams seen in training; None when it is too short."""
        found = ngrams(text, self._config["ngram"])
        if len(found) < self._config["min_ngrams"]:
            return None
        return sum(gram in self._known for gram in found) / len(found)

    def process(self, messages: list[Message]) -> list[Message]:
        """Turns unfamiliar messages without numbers or addresses into `nlu_fallback`."""
        if not self._known:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            if _MEANINGFUL.search(text):
                continue  # an order number, a postcode or an e-mail: the customer means it
            share = self.known_share(text)
            if share is None or share >= self._config["min_known_share"]:
                continue
            fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0 - share}
            message.set(INTENT, fallback, add_to_output=True)
            ranking = message.get(INTENT_RANKING_KEY) or []
            message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)
            message.set(UNFAMILIAR, True, add_to_output=True)
        return messages
