"""Replies the Messenger channel sends itself: the commenter's language, their name if known."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from bot.messenger.responses import MissingResponseError, render

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[3] / "domain.yml").read_text())
RESPONSES = DOMAIN["responses"]
ITALIAN = [{"type": "slot", "name": "language", "value": "it"}]


def _texts(name: str, language: str) -> set[str]:
    return {v["text"] for v in RESPONSES[name]
            if {c["name"]: c["value"] for c in v.get("condition") or []}.get("language", "en")
            == language}


@pytest.mark.parametrize("name", ["utter_comment_public_reply", "utter_comment_private_reply",
                                  "utter_comment_thanks"])
@pytest.mark.parametrize("language", ["it", "en"])
def test_comment_replies_speak_the_language_and_use_the_name(name, language):
    values = {"first_name": "Giulia", "bot_name": "Nora", "brand_name": "Northwind Footwear"}
    for seed in range(20):
        text = render(RESPONSES, name, values, random.Random(seed), language=language)
        assert "Giulia" in text
        templates = _texts(name, language)
        assert any(text == t.format(**values) for t in templates), text


def test_without_a_name_no_empty_greeting():
    values = {"first_name": None, "bot_name": "Nora", "brand_name": "Northwind Footwear"}
    for seed in range(20):
        text = render(RESPONSES, "utter_comment_public_reply", values, random.Random(seed),
                      language="it")
        assert "None" not in text and "{" not in text
        assert text in _texts("utter_comment_public_reply", "it")


def test_a_language_without_variations_falls_back_to_the_default_ones():
    responses = {"utter_x": [{"text": "Hello {first_name}"},
                             {"condition": ITALIAN, "text": "Ciao {first_name}"}]}
    assert render(responses, "utter_x", {"first_name": "Ana"}, language="es") == "Hello Ana"
    assert render(responses, "utter_x", {"first_name": "Ana"}, language="it") == "Ciao Ana"


def test_nothing_usable_is_an_error():
    with pytest.raises(MissingResponseError):
        render({"utter_x": [{"text": "Hi {first_name}"}]}, "utter_x", {"first_name": None})
