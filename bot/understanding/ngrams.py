"""Character n-grams of words, as Rasa's ``char_wb`` reads them; no Rasa import.

Shared by the NLU components that compare a message with the training data and by the
trainer's review inbox, which tells a rephrasing from a new question.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+")


def ngrams(text: str, size: int = 4) -> list[str]:
    """The character n-grams of the words of `text`, each word padded with spaces."""
    found = []
    for word in _WORD.findall(text.lower()):
        padded = f" {word} "
        found.extend(padded[i:i + size] for i in range(len(padded) - size + 1))
    return found


def overlap(first: str, second: str) -> float:
    """The share of `first`'s 4-grams that `second` holds too (0 for a text without words)."""
    grams = set(ngrams(first))
    return len(grams & set(ngrams(second))) / len(grams) if grams else 0.0
