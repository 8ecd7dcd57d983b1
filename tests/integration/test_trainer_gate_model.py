"""The gate with real models: the trained model read through Rasa's Agent, against itself."""

from __future__ import annotations

import pytest

from bot.trainer.gate import compare, evaluate, held_apart_examples, model_reader
from tests.integration.conftest import PROJECT_DIR

pytestmark = pytest.mark.e2e


def test_the_live_model_against_itself_passes_and_reads_most_test_examples(model_path):
    examples = held_apart_examples(PROJECT_DIR / "tests/nlu/test_nlu.yml")
    read, intents = model_reader(model_path)
    assert {"greet", "order_status", "human_request"} <= intents
    live = evaluate(examples, read)
    report = compare(examples, live, live, intents, tolerance=0.0)
    assert report.passed and report.changes == [] and report.new_intents == []
    assert live.accuracy >= 0.8, report.as_text()  # the held-apart data, read by the model
    assert set(live.per_intent) == {e.intent for e in examples}
