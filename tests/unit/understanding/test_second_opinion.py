"""The second opinion: a linear model over n-grams confirms, replaces or doubts DIET's reading.

Trained on the project's own NLU data; checked on the held-apart NLU tests (the linear model
alone must read them about as well as DIET does) and on readings DIET got wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytest.importorskip("rasa")

from rasa.engine.graph import ExecutionContext  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402
from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from bot.understanding.behaviour import PERSON, behaviour_of  # noqa: E402
from bot.understanding.second_opinion import (  # noqa: E402
    SECOND_OPINION,
    LinearReader,
    SecondOpinionClassifier,
)
from bot.understanding.unfamiliar_text import UNFAMILIAR  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parents[3]
CONTEXT = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]


def _config() -> dict:
    pipeline = yaml.safe_load((PROJECT_DIR / "config.yml").read_text())["pipeline"]
    step = next(step for step in pipeline if step["name"].endswith("SecondOpinionClassifier"))
    return {key: value for key, value in step.items() if key != "name"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[SecondOpinionClassifier, LocalModelStorage, Resource]:
    storage = LocalModelStorage(tmp_path_factory.mktemp("second-opinion"))
    resource = Resource("second_opinion")
    component = SecondOpinionClassifier.create(_config(), storage, resource, CONTEXT)
    component.train(load_data(str(PROJECT_DIR / "data" / "nlu")))
    return component, storage, resource


def _read(component: SecondOpinionClassifier, text: str, intent: str,
          confidence: float = 0.93, **extra: object) -> Message:
    ranking = [{"name": intent, "confidence": confidence},
               {"name": "faq_invoices", "confidence": 0.03},
               {"name": "out_of_scope", "confidence": 0.02}]
    message = Message(data={"text": text, "intent": dict(ranking[0]),
                            "intent_ranking": ranking, **extra})
    component.process([message])
    return message


def test_a_reading_both_models_share_stands(trained):
    component, _, _ = trained
    message = _read(component, "where is my order, i ordered last week", "order_status")
    assert message.get("intent") == {"name": "order_status", "confidence": 0.93}
    assert message.get(SECOND_OPINION) is None


def test_a_clear_different_reading_replaces_diets(trained):
    component, _, _ = trained
    message = _read(component, "where do i enter my company vat number for the invoice",
                    "order_status")
    assert message.get("intent")["name"] == "faq_invoices"
    assert message.get("intent_ranking")[0]["name"] == "faq_invoices"
    assert message.get(SECOND_OPINION) == {"read": "faq_invoices", "was": "order_status"}


def test_a_clear_reading_stands_in_for_an_unsure_one(trained):
    component, _, _ = trained
    message = _read(component, "is there a size chart for the boots", "nlu_fallback", 0.41)
    assert message.get("intent")["name"] == "faq_size_fit"
    assert "nlu_fallback" not in [entry["name"] for entry in message.get("intent_ranking")]


def test_an_unclear_disagreement_becomes_a_question_offering_both_readings(trained):
    component, _, _ = trained
    text = "the thing from before"
    own, margin = component._reader.read(text)
    assert own != "refund_status" and margin < _config()["min_margin"]
    message = _read(component, text, "refund_status")
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 0.93}
    ranking = [entry["name"] for entry in message.get("intent_ranking")]
    assert ranking[:2] == ["nlu_fallback", "refund_status"]
    assert message.get(SECOND_OPINION) == {"read": "nlu_fallback", "was": "refund_status"}


def test_an_unclear_disagreement_about_the_same_behaviour_keeps_diets_reading(trained):
    component, _, _ = trained
    text = "order nr 10003"
    own, margin = component._reader.read(text)
    assert behaviour_of(own) == PERSON and own != "complaint"
    assert margin < _config()["min_margin"]
    message = _read(component, text, "complaint")  # both readings hand over to a person
    assert message.get("intent") == {"name": "complaint", "confidence": 0.93}
    assert message.get(SECOND_OPINION) is None


def test_text_unlike_anything_learned_stays_not_understood(trained):
    component, _, _ = trained
    message = _read(component, "is there a size chart", "nlu_fallback", 0.7,
                    **{UNFAMILIAR: True})
    assert message.get("intent")["name"] == "nlu_fallback"


def test_the_linear_model_reads_the_held_apart_tests_on_its_own(trained):
    component, _, _ = trained
    tests = load_data(str(PROJECT_DIR / "tests" / "nlu")).intent_examples
    right = sum(component._reader.read(example.get("text"))[0] == example.get("intent")
                for example in tests)
    assert len(tests) > 500
    assert right >= len(tests) * 90 // 100, right  # 96% (601 of 625) on the data of 2 December


def test_the_reloaded_model_reads_the_same(trained):
    component, storage, resource = trained
    reloaded = SecondOpinionClassifier.load(_config(), storage, resource, CONTEXT)
    for text in ("do you take klarna", "my parcel never arrived", "vorrei la fattura"):
        assert reloaded._reader.read(text) == component._reader.read(text)


def test_with_fewer_than_two_intents_it_reads_nothing(tmp_path):
    reader = LinearReader.trained(["hi", "hello"], ["greet", "greet"])
    assert reader.read("hi") == (None, 0.0)
    component = SecondOpinionClassifier.create({}, LocalModelStorage(tmp_path),
                                               Resource("empty"), CONTEXT)
    component.train(TrainingData([Message(data={"text": "hi", "intent": "greet"})]))
    message = _read(component, "hi", "greet")
    assert message.get("intent")["name"] == "greet"
