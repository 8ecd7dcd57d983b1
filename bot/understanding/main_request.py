"""An NLU component: a message of several sentences is read by its request, not its courtesies.

Customers write "Hi Nora. Sorry to write so late. I ordered trainers for my son, order 10017,
and I'd like to know where they are. Thanks!" The greeting, the apology for the hour and the
thanks say nothing about what they want, yet they weigh on the classifier as much as the
request does, and pull a long message towards `greet` or `thank` or into "not sure". This
component, right after the length cap, takes such courtesies off the start and the end of the
text NLU reads:

- at the start, greetings ("hi", "buonasera"), each with the name it may address followed by
  punctuation ("Hi Nora,"), and courtesy sentences ("sorry to write so late", "scusate
  l'orario") followed by punctuation;
- at the end, thanks and sign-offs ("thanks in advance", "grazie mille, Marco").

The phrases of each kind, in every brand language, are the component's configuration in
`config.yml`. A message keeps its whole text unless at least `min_words` words are left, so
"hi there", "hi nora" or "thanks, bye" stay greetings and thanks. Training examples are read
the same way, their entity positions moved with the text. Like the cap, only what NLU reads
changes: the tracker keeps the message as received.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

DEFAULT_MIN_WORDS = 3
"""Words that must be left for the shorter text to be read instead of the whole one."""

_PUNCTUATION = r"[\s,.;:!?…\-–—]*"
_STOPS = r"(?:\s*[,.;:!?…]+[\s,.;:!?…\-–—]*|\s+[-–—]+\s*)"
"""Punctuation that ends a greeting or a sentence (a dash only with a space before it, not
the hyphen of "hi-tops")."""
_NAME = r"[A-ZÀ-Ý][\w'’-]*"
"""A name a greeting or a sign-off may carry: one capitalised word ("Nora", "Marco")."""
_EMOJI = r"[\s\U0001F300-\U0001FAFF\u2600-\u27BF\u2764\uFE0F]*"


def _alternatives(phrases: Iterable[str]) -> str:
    """A case-insensitive regex alternation of the phrases, longest first, spaces flexible."""
    cleaned = sorted({" ".join(p.split()).lower() for p in phrases if p.strip()},
                     key=len, reverse=True)
    if not cleaned:
        return r"(?!)"  # matches nothing
    return "(?i:" + "|".join(r"\s+".join(map(re.escape, p.split())) for p in cleaned) + ")"


class Courtesies:
    """Finds the courtesies at the start and the end of a text (pure; no Rasa)."""

    def __init__(self, greetings: Iterable[str], openers: Iterable[str],
                 closings: Iterable[str], min_words: int = DEFAULT_MIN_WORDS) -> None:
        if min_words < 1:
            raise ValueError("MainRequestFocus: min_words must be at least 1")
        self.min_words = min_words
        # "hi, ", "Hi Nora. ", "hey " (a name only when punctuation follows it)
        greeting = (rf"{_alternatives(greetings)}\b(?:\s+{_NAME}(?={_STOPS}))?"
                    rf"(?:{_STOPS}|\s+)")
        opener = rf"{_alternatives(openers)}\b{_STOPS}"
        self._start = re.compile(rf"^{_EMOJI}(?:(?:{greeting}|{opener}){_EMOJI})+")
        closing = rf"{_alternatives(closings)}\b(?:{_PUNCTUATION}{_NAME}){{0,2}}"
        self._end = re.compile(rf"(?:{_STOPS}|\s+)(?:{closing}{_PUNCTUATION}{_EMOJI})+$")

    def request_span(self, text: str) -> tuple[int, int]:
        """The (start, end) of the text left once the courtesies are off; (0, len) if none."""
        start_match = self._start.match(text)
        start = start_match.end() if start_match else 0
        end_match = self._end.search(text, start)
        end = end_match.start() if end_match else len(text)
        if (start, end) == (0, len(text)):
            return start, end
        if len(re.findall(r"\w+", text[start:end])) < self.min_words:
            return 0, len(text)
        return start, end


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MainRequestFocus(GraphComponent):
    """Takes greetings, courtesy openers and sign-offs off what the rest of NLU reads.

    Config:
        greetings: words and phrases that open a message ("hi", "good evening", "ciao").
        openers: courtesy sentences that may follow them ("sorry to write so late").
        closings: thanks and sign-offs that may end a message ("thanks in advance").
        min_words: words that must be left for the shorter text to be read (3).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """No phrases: config.yml lists them per language."""
        return {"greetings": [], "openers": [], "closings": [], "min_words": DEFAULT_MIN_WORDS}

    def __init__(self, config: dict[str, Any]) -> None:
        def phrases(key: str) -> list[str]:
            value = config.get(key) or []
            if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
                raise ValueError(f"MainRequestFocus: {key} must be a list of phrases")
            return value

        self.courtesies = Courtesies(phrases("greetings"), phrases("openers"),
                                     phrases("closings"),
                                     int(config.get("min_words", DEFAULT_MIN_WORDS)))

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> MainRequestFocus:
        """Built by Rasa's graph from the pipeline entry."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Each message's text, without its opening and closing courtesies."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            start, end = self.courtesies.request_span(text)
            if (start, end) == (0, len(text)):
                continue
            message.set(TEXT, text[start:end])
            entities = message.get(ENTITIES)
            if entities:
                message.set(ENTITIES, _moved(entities, start, end))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples are read the same way, so NLU learns what it will be given."""
        self.process(training_data.training_examples)
        return training_data


def _moved(entities: list[dict[str, Any]], start: int, end: int) -> list[dict[str, Any]]:
    """The entities inside [start, end), their positions counted from `start`."""
    moved = []
    for entity in entities:
        first, last = entity.get("start"), entity.get("end")
        if not isinstance(first, int) or not isinstance(last, int):
            moved.append(entity)
        elif first >= start and last <= end:
            moved.append({**entity, "start": first - start, "end": last - start})
    return moved
