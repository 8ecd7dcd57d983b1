"""Ask instead of guess: which topics to offer when the bot is not sure what was meant.

When NLU is unsure (low or close confidence, or a reading the words do not support,
`bot.understanding.content_agreement`), the bot does not answer: it offers the likeliest
topics of the intent ranking as quick replies, and always a person (Rasa's two-stage
fallback idea; a second miss in a row hands off). Only topics with a title in `wording.yml`
(``topics.<intent>``) can be offered; greetings, yes/no and the like never are. Text unlike
anything the bot learned (`bot.understanding.unfamiliar_text`) gets no topic: nothing in its
words points to one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

PERSON = "human_request"
"""The topic always offered, last: a person."""

MAX_TOPICS = 3
"""Topics offered besides a person (Messenger shows up to 13 quick replies; 4 read well)."""

MIN_CONFIDENCE = 0.15
"""A topic the model gives less than this is not worth a button."""


def likely_topics(ranking: Iterable[Mapping[str, Any]], offerable: Collection[str],
                  limit: int = MAX_TOPICS, floor: float = MIN_CONFIDENCE) -> list[str]:
    """The likeliest offerable intents of a ranking, best first, each once.

    A person is never among them: `topic_buttons` always adds that one, last.
    """
    chosen: list[str] = []
    for entry in ranking:
        name = entry.get("name")
        confidence = entry.get("confidence")
        if not isinstance(name, str) or name in chosen or name == PERSON:
            continue
        if name not in offerable or not isinstance(confidence, (int, float)):
            continue
        if confidence < floor:
            break  # the ranking is sorted: the rest are lower still
        chosen.append(name)
        if len(chosen) == limit:
            break
    return chosen


UNFAMILIAR_MARK = "unfamiliar_text"
"""The key `bot.understanding.unfamiliar_text` sets on a message it found unlike anything."""


def offers_topics(parse_data: Mapping[str, Any]) -> bool:
    """Whether topics may be offered for a message (not for unfamiliar text)."""
    return not parse_data.get(UNFAMILIAR_MARK)


def topic_buttons(topics: Iterable[str], title_of: Mapping[str, str]) -> list[dict[str, str]]:
    """The quick replies: each topic's title and its intent payload, then a person."""
    return [{"title": title_of[topic], "payload": f"/{topic}"}
            for topic in (*topics, PERSON)]
