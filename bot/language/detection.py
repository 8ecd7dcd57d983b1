"""Which language a customer writes in, from their own words, restricted to the brand's languages.

Uses lingua (its models ship inside the package; nothing downloads). Short or ambiguous
messages ("ok", "10023", "grazie!", an emoji) keep the conversation's language; a longer
message that the detector is sure of switches it. Before the customer has said anything
telling, one clear word is enough ("ciao", "thanks"), since the language then is only the
brand's default or the channel's hint.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

__all__ = ["LanguageChoice", "LanguageDetector"]

_WORD = re.compile(r"[^\W\d_]+")

MIN_WORDS_TO_SWITCH = 3
"""A settled conversation changes language only on a message with this many words or more."""

SWITCH_CONFIDENCE = 0.75
"""...and only when the detector gives the other language at least this confidence."""

FIRST_WORD_CONFIDENCE = 0.9
"""Before the language is settled, one word the detector is this sure of decides it."""

MIN_WORD_VOTES = 2
"""Before the language is settled, this many clear words of one language (and more than of
any other) decide it when the whole message is unclear."""

WORD_VOTE_CONFIDENCE = 0.7
"""A word counts for a language when the detector, reading it alone, is this sure of it.

Switching a settled conversation also needs more such words for the new language than for
the current one: Italian customers mix in English words ("mi date il tracking?", "avete
mountain bike?"), which pull the whole-message score towards English.
"""

MAX_READ_CHARS = 1000
"""How much of a message the detector reads (its time grows with the text)."""


@dataclass(frozen=True)
class LanguageChoice:
    """The conversation's language after one message.

    Attributes:
        language: the ISO 639-1 code the bot answers in from now on.
        settled: whether the customer's own words decided it (now or before).
        detected: what the detector read in this message, if it read anything.
        confidence: the detector's confidence in `detected` (0 when nothing was read).
    """

    language: str
    settled: bool
    detected: str | None = None
    confidence: float = 0.0


class LanguageDetector:
    """Detects the language of customer messages among the brand's languages."""

    def __init__(self, languages: Sequence[str]) -> None:
        """Builds a detector for `languages` (ISO 639-1 codes, e.g. ["it", "en"]).

        Raises:
            ValueError: for a code lingua does not know, or fewer than one language.
        """
        if not languages:
            raise ValueError("at least one language is needed")
        self.languages = tuple(languages)
        self._by_language = {}
        for code in self.languages:
            try:
                language = Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
            except AttributeError:
                raise ValueError(f"unknown language code {code!r}") from None
            self._by_language[language] = code
        self._detector = (
            LanguageDetectorBuilder.from_languages(*self._by_language)
            .with_preloaded_language_models()
            .build()
            if len(self._by_language) > 1
            else None
        )

    def detect(self, text: str) -> tuple[str | None, float, int]:
        """The likeliest brand language of `text`, its confidence and the text's word count.

        Only the first `MAX_READ_CHARS` characters are read: a long message says its
        language early, and the detector's time grows with the text.
        """
        words = _WORD.findall((text or "")[:MAX_READ_CHARS])
        if not words:
            return None, 0.0, 0
        if self._detector is None:
            return self.languages[0], 1.0, len(words)
        values = self._detector.compute_language_confidence_values(" ".join(words).lower())
        if not values or values[0].value <= 0:
            return None, 0.0, len(words)
        return self._by_language[values[0].language], float(values[0].value), len(words)

    def word_votes(self, text: str) -> dict[str, int]:
        """How many words of `text` the detector, reading each alone, gives to each language."""
        votes = dict.fromkeys(self.languages, 0)
        if self._detector is None:
            return votes
        for word in _WORD.findall((text or "")[:MAX_READ_CHARS].lower()):
            values = self._detector.compute_language_confidence_values(word)
            if values and values[0].value >= WORD_VOTE_CONFIDENCE:
                votes[self._by_language[values[0].language]] += 1
        return votes

    def language_of(self, text: str) -> str:
        """The language of one text on its own, such as a public comment.

        The first language listed (the brand's default) unless the text says otherwise.
        """
        return self.choose(text, None, settled=False).language

    def choose(self, text: str, current: str | None, settled: bool) -> LanguageChoice:
        """The conversation's language after the customer wrote `text`.

        Args:
            text: the customer's message as typed (payloads starting with "/" never switch).
            current: the conversation's language so far (None: the first language listed).
            settled: whether the customer's words already decided it once.
        """
        current = current if current in self.languages else self.languages[0]
        if not text or text.lstrip().startswith("/"):
            return LanguageChoice(current, settled)
        detected, confidence, words = self.detect(text)
        if detected is None:
            return LanguageChoice(current, settled)
        if not settled:
            if confidence >= FIRST_WORD_CONFIDENCE:
                return LanguageChoice(detected, True, detected, confidence)
            # the whole message is unclear ("it's a present, can you wrap it" reads Italian
            # at 0.72): words that each clearly belong to one language decide
            votes = self.word_votes(text)
            best = max(votes, key=lambda code: votes[code])
            if votes[best] >= MIN_WORD_VOTES and all(
                count < votes[best] for code, count in votes.items() if code != best
            ):
                return LanguageChoice(best, True, detected, confidence)
        if words >= MIN_WORDS_TO_SWITCH and confidence >= SWITCH_CONFIDENCE:
            if detected == current:
                return LanguageChoice(current, True, detected, confidence)
            votes = self.word_votes(text)
            if votes[detected] > votes[current]:
                return LanguageChoice(detected, True, detected, confidence)
        return LanguageChoice(current, settled, detected, confidence)
