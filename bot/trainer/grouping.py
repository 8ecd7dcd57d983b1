"""Similar messages of the review inbox in groups, biggest first, labelled many at once.

Texts lose their stop words and become vectors of character n-grams inside words (so typos,
"giftwrap" and "gift wrapping" still meet), L2-normalised term frequencies; groups are formed
by average-linkage clustering on cosine distance, cut at `trainer.yml`'s ``group_distance``.
Each group is named by its most typical message (the one closest to the group's centre).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
    """

    number: int
    typical: str
    items: tuple[ReviewItem, ...]

    @property
    def keys(self) -> list[str]:
        """The messages' keys."""
        return [item.key for item in self.items]

    def as_json(self) -> dict[str, object]:
        """JSON-ready, for the API and `--json`."""
        return {"group": self.number, "typical": self.typical, "size": len(self.items),
                "items": [item.as_json() for item in self.items]}


def _content(text: str) -> str:
    """The text's words without the little ones ("can", "you", "my") that every question has."""
    words = [w for w in re.findall(r"\w+", text.lower()) if w not in ENGLISH_STOP_WORDS]
    return " ".join(words) or text.lower()


def _vectors(texts: Sequence[str]) -> np.ndarray:
    """Character n-grams inside words, counted (no IDF: a night's few messages make it noise)."""
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), use_idf=False)
    return vectorizer.fit_transform([_content(text) for text in texts]).toarray()


def group_items(items: Sequence[ReviewItem], distance: float) -> list[ReviewGroup]:
    """The items in groups of similar texts, biggest first (then the most recent)."""
    if not items:
        return []
    if len(items) == 1:
        labels = np.array([0])
        vectors = None
    else:
        vectors = _vectors([item.text for item in items])
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
    groups.sort(key=lambda group: (-len(group[1]), -group[1][0].at.timestamp()))
    return [ReviewGroup(number, typical, members)
            for number, (typical, members) in enumerate(groups, start=1)]
