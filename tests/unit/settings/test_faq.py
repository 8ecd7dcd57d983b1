"""Tests for bot.settings.faq: loading faq.yml and reporting its mistakes."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings.faq import (
    FAQ_PLACEHOLDERS,
    FAQ_TOPICS,
    FaqError,
    load_faq,
    topic_of_intent,
)

PROJECT_DIR = Path(__file__).resolve().parents[3]
REAL_FAQ = PROJECT_DIR / "faq.yml"
LANGUAGES = ("it", "en")


def real_data() -> dict[str, Any]:
    return yaml.safe_load(REAL_FAQ.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "faq.yml"
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, languages: tuple[str, ...] = LANGUAGES) -> FaqError:
    with pytest.raises(FaqError) as caught:
        load_faq(path, languages)
    return caught.value


def test_the_real_faq_loads_with_an_answer_per_brand_language_and_a_null_topic():
    faq = load_faq(REAL_FAQ, LANGUAGES)
    assert set(faq.answers) == set(FAQ_TOPICS)
    answered = [topic for topic, answer in faq.answers.items() if answer is not None]
    assert len(answered) >= len(FAQ_TOPICS) - 2, "most topics have the brand's answer"
    assert faq.answers["availability"] is None
    assert faq.answer("availability", "en") is None
    care = faq.answer("care", "en")
    assert care and "leather" in care and "suede" in care
    assert "pelle" in (faq.answer("care", "it") or "")
    # every placeholder is a brand fact the action can fill
    for topic in answered:
        for language in LANGUAGES:
            text = faq.answer(topic, language) or ""
            names = {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
            assert names <= set(FAQ_PLACEHOLDERS), (topic, language, names)


def test_the_topics_are_the_domains_faq_intents():
    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))
    faq_intents = {intent for intent in domain["intents"] if intent.startswith("faq_")}
    assert faq_intents == {f"faq_{topic}" for topic in FAQ_TOPICS}
    assert topic_of_intent("faq_care") == "care"
    assert topic_of_intent("faq_nothing") is None
    assert topic_of_intent("shipping_info") is None
    assert topic_of_intent(None) is None


def test_a_missing_language_is_refused_with_its_key(tmp_path):
    data = real_data()
    del data["topics"]["care"]["answer"]["en"]
    error = error_of(write(tmp_path, data))
    assert error.key_path == "topics.care.answer.en"
    assert "faq.yml" in str(error) and "topics.care.answer.en" in str(error)
    assert "every brand language" in str(error)


def test_a_language_the_brand_does_not_speak_is_refused(tmp_path):
    data = real_data()
    data["topics"]["stores"]["answer"]["de"] = "Unsere Geschäfte ..."
    assert error_of(write(tmp_path, data)).key_path == "topics.stores.answer.de"


def test_a_broken_answer_names_its_key(tmp_path):
    data = real_data()
    data["topics"]["invoices"]["answer"]["it"] = ["not", "a", "text"]
    error = error_of(write(tmp_path, data))
    assert error.key_path == "topics.invoices.answer.it"
    assert "expected text" in str(error)
    data = real_data()
    data["topics"]["prices"]["answer"]["en"] = "   "
    assert error_of(write(tmp_path, data)).key_path == "topics.prices.answer.en"
    data = real_data()
    data["topics"]["prices"]["answer"] = "only one language"
    error = error_of(write(tmp_path, data))
    assert error.key_path == "topics.prices.answer" and "null" in error.problem


def test_an_unknown_placeholder_is_refused(tmp_path):
    data = real_data()
    data["topics"]["gift_cards"]["answer"]["en"] = "Write to {support_mail}."
    error = error_of(write(tmp_path, data))
    assert error.key_path == "topics.gift_cards.answer.en"
    assert "{support_mail}" in error.problem and "{contact_email}" in error.problem
    data["topics"]["gift_cards"]["answer"]["en"] = "Write to {contact_email"
    assert error_of(write(tmp_path, data)).key_path == "topics.gift_cards.answer.en"


def test_unknown_and_missing_topics_are_refused(tmp_path):
    data = real_data()
    data["topics"]["sizes"] = data["topics"].pop("size_fit")
    error = error_of(write(tmp_path, data))
    assert error.key_path == "topics.sizes" and "unknown topic" in error.problem
    data = real_data()
    del data["topics"]["invoices"]
    error = error_of(write(tmp_path, data))
    assert error.key_path == "topics.invoices" and "answer: null" in error.problem
    data = real_data()
    data["topics"]["care"]["answers"] = data["topics"]["care"].pop("answer")
    assert error_of(write(tmp_path, data)).key_path == "topics.care.answers"


def test_a_broken_file_is_reported_with_the_file_and_where(tmp_path):
    broken = REAL_FAQ.read_text(encoding="utf-8").replace("  care:\n", "  care\n  : [\n", 1)
    error = error_of(write(tmp_path, broken))
    assert str(error).startswith(str(tmp_path / "faq.yml") + ": line ")
    assert "invalid YAML" in str(error)
    assert "the file is empty" in str(error_of(write(tmp_path, "")))
    assert "cannot be read" in str(error_of(tmp_path / "missing.yml"))
    twice = REAL_FAQ.read_text(encoding="utf-8").replace(
        "  stores:\n", "  care:\n    answer: null\n  stores:\n", 1)
    assert "written twice" in str(error_of(write(tmp_path, twice)))


def test_every_brand_language_is_required(tmp_path):
    # a brand that adds a third language must give every answer in it
    error = error_of(write(tmp_path, real_data()), languages=("it", "en", "fr"))
    assert error.key_path == "topics.size_fit.answer.fr"
