"""Which topics the bot offers when it is not sure what was meant."""

from __future__ import annotations

from bot.settings import get_brand, get_wording
from bot.understanding.asking import PERSON, likely_topics, offers_topics, topic_buttons
from bot.understanding.unfamiliar_text import UNFAMILIAR

OFFERABLE = {"order_status": "Where's my order?", "shipping_info": "Shipping",
             "faq_care": "Shoe care", "complaint": "A complaint", PERSON: "Talk to a person"}


def ranking(*pairs: tuple[str, float]) -> list[dict]:
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def test_the_likeliest_offerable_topics_best_first_then_a_person():
    found = likely_topics(ranking(("nlu_fallback", 0.9), ("complaint", 0.6), ("greet", 0.2),
                                  ("faq_care", 0.18), ("complaint", 0.17),
                                  ("shipping_info", 0.15), ("order_status", 0.15)), OFFERABLE)
    assert found == ["complaint", "faq_care", "shipping_info"]
    assert topic_buttons(found, OFFERABLE) == [
        {"title": "A complaint", "payload": "/complaint"},
        {"title": "Shoe care", "payload": "/faq_care"},
        {"title": "Shipping", "payload": "/shipping_info"},
        {"title": "Talk to a person", "payload": "/human_request"}]


def test_nothing_likely_enough_offers_nothing_and_a_person_is_never_a_topic():
    assert likely_topics(ranking(("human_request", 0.5), ("order_status", 0.14),
                                 ("shipping_info", 0.5)), OFFERABLE) == []
    assert likely_topics(ranking(("human_request", 0.5), ("faq_care", 0.3)), OFFERABLE) == \
        ["faq_care"]
    assert likely_topics([{"name": None}, {"confidence": 1}], OFFERABLE) == []


def test_every_language_titles_the_same_topics_within_messengers_20_characters():
    wording = get_wording()
    titles = {code: {key: text for key, text in wording.words[code].items()
                     if key.startswith("topics.")} for code in get_brand().languages}
    keys = {code: set(found) for code, found in titles.items()}
    assert len({frozenset(found) for found in keys.values()}) == 1
    assert "topics.human_request" in keys["en"]
    assert all(len(text) <= 20 for found in titles.values() for text in found.values())


def test_unfamiliar_text_gets_no_topic():
    assert UNFAMILIAR == "unfamiliar_text"
    assert not offers_topics({"intent": {"name": "nlu_fallback"}, UNFAMILIAR: True})
    assert offers_topics({"intent": {"name": "nlu_fallback"}, "content_doubted": True})
