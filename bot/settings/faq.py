"""Load and validate the brand's product FAQ (``faq.yml``, beside ``brand.yml``).

A brand answers the product questions its customers ask at night (size and fit, care,
materials, availability, prices, gift cards, stores, payment methods, invoices) by editing
``faq.yml``, never the code. Each topic has its answer in every brand language, or
``answer: null`` when the brand gives none: the bot then says honestly that a person can
answer and offers one, instead of guessing.

An answer may name brand facts that ``brand.yml`` already holds, as ``{placeholders}``
(``{contact_email}``, ``{return_window_days}``...), so a fact is written once. Any mistake
raises :class:`FaqError` with the file name and the key path (``topics.care.answer.en``),
like :class:`~bot.settings.brand.BrandError`.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.settings.brand.model import Localized
from bot.settings.brand.problems import BrandError, _key, _Problem, _show
from bot.settings.brand.strict_yaml import _BrandLoader
from bot.settings.brand.value_checks import _fields, _mapping, _text

__all__ = [
    "FAQ_INTENT_PREFIX",
    "FAQ_PLACEHOLDERS",
    "FAQ_TOPICS",
    "Faq",
    "FaqError",
    "load_faq",
    "topic_of_intent",
]

FAQ_TOPICS = (
    "size_fit",
    "care",
    "materials",
    "availability",
    "prices",
    "gift_cards",
    "stores",
    "payment_methods",
    "invoices",
)
"""The topics of ``faq.yml``; each is the NLU intent ``faq_<topic>``."""

FAQ_INTENT_PREFIX = "faq_"
"""The intent of a topic is this prefix and the topic (``faq_care``)."""

FAQ_PLACEHOLDERS = (
    "brand_name",
    "contact_email",
    "contact_phone",
    "help_url",
    "return_window_days",
    "exchanges",
    "free_shipping_threshold",
)
"""Brand facts an answer may name as ``{placeholder}``; the bot fills them from brand.yml."""


class FaqError(BrandError):
    """A problem in the FAQ file, reported as ``<file>: <key path>: <problem>``."""


@dataclass(frozen=True)
class Faq:
    """The brand's answers to product questions.

    Attributes:
        answers: every topic of :data:`FAQ_TOPICS`, with its answer per language, or None
            when the brand gives no answer (a person answers instead).
    """

    answers: Mapping[str, Localized[str] | None]

    def answer(self, topic: str, language: str | None) -> str | None:
        """The topic's answer in `language` (its placeholders unfilled), or None.

        None for a topic the brand gives no answer to, and for a topic that is not one.
        """
        answer = self.answers.get(topic)
        return answer.of(language) if answer is not None else None


def topic_of_intent(intent: str | None) -> str | None:
    """The FAQ topic an intent asks about (``faq_care`` -> ``care``), or None."""
    if not intent or not intent.startswith(FAQ_INTENT_PREFIX):
        return None
    topic = intent[len(FAQ_INTENT_PREFIX):]
    return topic if topic in FAQ_TOPICS else None


def _answer_text(value: object, path: str) -> str:
    """One language's answer: text whose placeholders are brand facts."""
    text = " ".join(_text(value, path).split())
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as error:
        raise _Problem(path, f"braces must pair up as {{placeholder}} ({error})") from None
    for name in names:
        if name not in FAQ_PLACEHOLDERS:
            raise _Problem(
                path,
                f"{{{name}}} is not a brand fact an answer can use (use one of "
                f"{', '.join('{' + p + '}' for p in FAQ_PLACEHOLDERS)}, or write it out)",
            )
    return text


def _answer(value: object, path: str, languages: tuple[str, ...]) -> Localized[str] | None:
    """An answer in every brand language, or None (``answer: null``)."""
    if value is None:
        return None
    example = ", ".join(f"{code}: ..." for code in languages)
    if not isinstance(value, Mapping):
        raise _Problem(
            path, f"give it in every brand language ({example}) or write null, got {_show(value)}"
        )
    for code in value:
        if code not in languages:
            raise _Problem(_key(path, code), f"is not a brand language ({', '.join(languages)})")
    for code in languages:
        if code not in value:
            raise _Problem(_key(path, code), "missing: every brand language needs its answer")
    return Localized({code: _answer_text(value[code], _key(path, code)) for code in languages})


def _faq(data: object, languages: tuple[str, ...]) -> Faq:
    """Validate the whole document and build the :class:`Faq`."""
    if not isinstance(data, Mapping):
        raise _Problem("(top level)", f"expected a mapping of keys, got {_show(data)}")
    top = _fields(data, "", ("topics",))
    topics = _mapping(top["topics"], "topics")
    for name in topics:
        if name not in FAQ_TOPICS:
            raise _Problem(
                _key("topics", name),
                f"unknown topic (the topics are {', '.join(FAQ_TOPICS)}; a new topic needs "
                "its intent in the bot's training data first)",
            )
    answers: dict[str, Localized[str] | None] = {}
    for name in FAQ_TOPICS:
        where = _key("topics", name)
        if name not in topics:
            raise _Problem(where, "missing (write `answer: null` when the brand gives none)")
        entry = _fields(topics[name], where, ("answer",))
        answers[name] = _answer(entry["answer"], _key(where, "answer"), languages)
    return Faq(answers)


def load_faq(path: str | Path, languages: tuple[str, ...]) -> Faq:
    """Read, parse and validate a FAQ file for the brand's `languages`.

    Args:
        path: The faq.yml file.
        languages: The brand's languages (``Brand.languages``); each answer needs them all.

    Returns:
        The validated answers.

    Raises:
        FaqError: If the file cannot be read, is not valid YAML, names an unknown topic,
            misses a topic or a language, or an answer is not text. The message names the
            file and the key path.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FaqError(file, None, "is not UTF-8 text") from None
    except OSError as error:
        raise FaqError(file, None, f"cannot be read ({error.strerror or error})") from None
    try:
        data: Any = yaml.load(text, Loader=_BrandLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = error.problem or error.context or "not valid YAML"
        raise FaqError(file, None, f"invalid YAML: {problem}", line=line, column=column) from None
    except yaml.YAMLError as error:
        raise FaqError(file, None, f"invalid YAML: {error}") from None
    if data is None:
        raise FaqError(file, None, "the file is empty")
    try:
        return _faq(data, tuple(languages))
    except _Problem as problem:
        raise FaqError(file, problem.key_path, problem.problem) from None
