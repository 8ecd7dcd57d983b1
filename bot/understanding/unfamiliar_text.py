"""An NLU component that says "not understood" to text unlike anything the bot learned from.

A classifier always names some intent, often confidently, even for keyboard mash ("qwxz
vbnm plokij" was read as `affirm` at 0.95). This component learns which character trigrams
(of words, padded like Rasa's ``char_wb`` n-grams) occur in the training examples of every
language, and turns a message whose trigrams are mostly unknown into `nlu_fallback`, so the
bot asks again instead of answering a question nobody asked. Typos and new words of a known
language share most of their trigrams with the training data and pass.
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

_WORD = re.compile(r"[^\W\d_]+")
_MEANINGFUL = re.compile(r"\d|@")
_FILE = "trigrams.json"


def trigrams(text: str) -> list[str]:
    """The character trigrams of the words of `text`, each word padded with spaces."""
    found = []
    for word in _WORD.findall(text.lower()):
        padded = f" {word} "
        found.extend(padded[i:i + 3] for i in range(len(padded) - 2))
    return found


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnfamiliarTextClassifier(GraphComponent, IntentClassifier):
    """Marks text whose trigrams are mostly unknown as `nlu_fallback`.

    Config:
        min_known_share: the share of a message's trigrams that must occur in the training
            data for the other classifiers' reading to stand (0.4).
        min_trigrams: shorter messages (fewer trigrams) are left alone (6: "ok", "hi").
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The thresholds; see the class docstring."""
        return {"min_known_share": 0.4, "min_trigrams": 6}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 known: frozenset[str] = frozenset()) -> None:
        """A classifier that knows the trigrams `known`."""
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
        """The component with the trigrams learned at training time."""
        try:
            with model_storage.read_from(resource) as directory:
                known = json.loads((directory / _FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            known = []
        return cls(config, model_storage, resource, frozenset(known))

    def train(self, training_data: TrainingData) -> Resource:
        """Learns every trigram of every training example."""
        known: set[str] = set()
        for example in training_data.intent_examples:
            known.update(trigrams(example.get(TEXT) or ""))
        self._known = frozenset(known)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _FILE).write_text(json.dumps(sorted(known)), encoding="utf-8")
        return self._resource

    def known_share(self, text: str) -> float | None:
        """The share of the text's trigrams seen in training; None when it is too short."""
        found = trigrams(text)
        if len(found) < self._config["min_trigrams"]:
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
        return messages
