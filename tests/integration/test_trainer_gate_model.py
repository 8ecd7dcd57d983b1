"""The gate with real models: the trained model read through Rasa's Agent, against itself, on
the held-apart NLU examples of every brand language and the test stories."""

from __future__ import annotations

import pytest
import yaml

from bot.trainer.gate import (
    GateReport,
    agent_reader,
    compare,
    evaluate,
    held_apart_by_language,
    load_agent,
)
from bot.trainer.story_gate import compare_stories, play_stories, read_test_stories
from tests.integration.conftest import PROJECT_DIR

pytestmark = pytest.mark.e2e


def test_the_live_model_against_itself_passes_and_reads_most_test_examples(model_path):
    languages = yaml.safe_load((PROJECT_DIR / "brand.yml").read_text())["brand"]["languages"]
    by_language = held_apart_by_language(PROJECT_DIR, languages)
    agent = load_agent(model_path)
    intents = set(agent.domain.intents)
    assert {"greet", "order_status", "human_request"} <= intents
    read = agent_reader(agent)
    comparisons = []
    for language, examples in by_language.items():
        live = evaluate(examples, read)
        comparison = compare(language, examples, live, live, intents, tolerance=0.0)
        # the held-apart data of each language, read by the model
        assert live.accuracy >= 0.8, "\n".join(comparison.as_text())
        assert set(live.per_intent) == {e.intent for e in examples}
        comparisons.append(comparison)
    report = GateReport(comparisons, 0.0, 0.1)

    stories = read_test_stories(PROJECT_DIR / "tests/stories")
    played = play_stories(stories, agent)
    assert sorted(played.outcomes) == sorted(s.name for s in stories) and not played.unknown
    # the model's actions on the stories' turns: every conversation plays as written
    assert played.failed == [] and played.action_share(played.outcomes) == 1.0
    report.stories = compare_stories(played, played, tolerance=0.0)
    assert report.passed
    assert all(c.changes == [] and c.new_intents == [] for c in report.languages)
    text = report.as_text()
    assert "stories passed (shared)" in text
    assert all(f"{code} accuracy (shared)" in text for code in languages)


def test_a_model_that_does_not_know_an_intent_plays_only_the_stories_it_knows(model_path):
    agent = load_agent(model_path)
    stories = read_test_stories(PROJECT_DIR / "tests/stories")
    unknown_intent = stories[0].data | {
        "story": "gift wrapping", "steps": [{"user": "can you gift wrap it?",
                                             "intent": "gift_wrapping"},
                                            {"action": "utter_gift_wrapping"}]}
    stories.append(type(stories[0])("gift wrapping", frozenset({"gift_wrapping"}),
                                     frozenset({"utter_gift_wrapping"}), unknown_intent))
    played = play_stories(stories, agent)
    assert played.unknown == ["gift wrapping"] and "gift wrapping" not in played.outcomes
