"""The first NLU component: what the rest of the pipeline and the policies read is bounded.

Tokenizer, featurizers and DIET cost grows with the text (DIET's attention with its square):
a single 120,000-character message grew the Rasa process to 23.7 GB until the kernel killed
it, and a 60,000-character one held the event loop for 9 s. This component, first in the
pipeline, cuts the text NLU reads to `max_chars` characters (at a word boundary when one is
near), Messenger's own limit for one message and the web chat's. Only the understanding is
bounded: Rasa keeps the message as received in the tracker (its `UserUttered` is built from
the incoming message, not from the parsed text), so the ticket and the desk show it whole.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

DEFAULT_MAX_CHARS = 2000
"""Messenger's limit for one text message; the web chat refuses longer ones."""

_WORD_BOUNDARY_WINDOW = 100
"""How far back from the limit a space is looked for, so no word is cut in half."""


def capped(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """`text` cut to at most `max_chars` characters, at a space near the limit if any."""
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    space = cut.rfind(" ", max_chars - _WORD_BOUNDARY_WINDOW)
    return cut[:space] if space > 0 else cut


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MessageLengthCap(GraphComponent):
    """Cuts each message's text to `max_chars` before any other component reads it.

    Config:
        max_chars: the longest text NLU reads (2000).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The limit; see the class docstring."""
        return {"max_chars": DEFAULT_MAX_CHARS}

    def __init__(self, config: dict[str, Any]) -> None:
        self.max_chars = int(config.get("max_chars", DEFAULT_MAX_CHARS))
        if self.max_chars < 100:
            raise ValueError("MessageLengthCap: max_chars must be at least 100")

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> MessageLengthCap:
        """Built by Rasa's graph from the pipeline entry."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Cuts the text of each message to the limit."""
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and len(text) > self.max_chars:
                message.set(TEXT, capped(text, self.max_chars))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples are cut the same way (ours are all far shorter)."""
        self.process(training_data.training_examples)
        return training_data
