"""Similar messages of the review inbox in groups, biggest first, labelled many at once.

A group holds messages of one language only (each is labelled into its language's data):
the messages are parted by language first, then grouped within each. Texts lose their
language's stop words (`trainer.yml`'s ``review.stop_words``; scikit-learn's list for
English) and become vectors of character n-grams inside words (so typos, "giftwrap" and "gift
wrapping" still meet), L2-normalised term frequencies; groups are formed by average-linkage
clustering on cosine distance, cut at `trainer.yml`'s ``group_distance``. Each group is named
by its most typical message (the one closest to the group's centre).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from bot.trainer.review import ReviewItem


@dataclass(frozen=True)
class ReviewGroup:
    """Messages that say much the same thing.

    Attributes:
        number: its place in the list, from 1 (the biggest group).
        typical: the text closest to the group's centre.
        items: the messages, newest first.
        language: the language of every one of them.
    """

    number: int
    typical: str
    items: tuple[ReviewItem, ...]
    language: str

    @property
    def keys(self) -> list[str]:
        """The messages' keys."""
        return [item.key for item in self.items]

    def as_json(self) -> dict[str, object]:
        """JSON-ready, for the API and `--json`."""
        return {"group": self.number, "typical": self.typical, "language": self.language,
                "size": len(self.items), "items": [item.as_json() for item in self.items]}


def _content(text: str, stop_words: Collection[str]) -> str:
    """The text's words without the little ones ("can", "you", "my") that every question has."""
    words = [w for w in re.findall(r"\w+", text.casefold()) if w not in stop_words]
    return " ".join(words) or text.casefold()


def _vectors(texts: Sequence[str], stop_words: Collection[str]) -> np.ndarray:
    """Character n-grams inside words, counted (no IDF: a night's few messages make it noise)."""
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), use_idf=False)
    return vectorizer.fit_transform([_content(text, stop_words) for text in texts]).toarray()


def _stop_words_of(language: str, stop_words: Mapping[str, Collection[str]]) -> Collection[str]:
    if language in stop_words:
        return stop_words[language]
    return ENGLISH_STOP_WORDS if language == "en" else frozenset()


def _clusters(items: Sequence[ReviewItem], distance: float,
              stop_words: Collection[str]) -> list[tuple[str, tuple[ReviewItem, ...]]]:
    """Groups of similar texts among items of one language: (typical text, items newest first)."""
    if len(items) == 1:
        labels = np.array([0])
        vectors = None
    else:
        vectors = _vectors([item.text for item in items], stop_words)
        labels = AgglomerativeClustering(
            n_clusters=None, distance_threshold=distance, affinity="cosine", linkage="average",
        ).fit_predict(vectors)
    groups = []
    for label in set(labels.tolist()):
        members = [index for index, own in enumerate(labels) if own == label]
        if vectors is None:
            typical = members[0]
        else:
            centre = vectors[members].mean(axis=0)
            typical = members[int(np.argmax(vectors[members] @ centre))]
        chosen = sorted((items[i] for i in members), key=lambda item: item.at, reverse=True)
        groups.append((items[typical].text, tuple(chosen)))
    return groups


def group_items(items: Sequence[ReviewItem], distance: float,
                stop_words: Mapping[str, Collection[str]] | None = None) -> list[ReviewGroup]:
    """The items in groups of similar texts of one language, biggest first (then the newest).

    Args:
        items: the review inbox.
        distance: the cosine distance under which texts share a group.
        stop_words: per language, the words left out before comparing (see the module).
    """
    by_language: dict[str, list[ReviewItem]] = {}
    for item in items:
        by_language.setdefault(item.language, []).append(item)
    groups = [(language, typical, members)
              for language, own in by_language.items()
              for typical, members in _clusters(own, distance,
                                                _stop_words_of(language, stop_words or {}))]
    groups.sort(key=lambda group: (-len(group[2]), -group[2][0].at.timestamp()))
    return [ReviewGroup(number, typical, members, language)
            for number, (language, typical, members) in enumerate(groups, start=1)]
