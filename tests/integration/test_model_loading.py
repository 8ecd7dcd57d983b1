"""The trained model loaded for answering (`bot.understanding.model_loading`) answers exactly
as the model loaded Rasa's way: every intent ranking, entity and next-action score.

Both loads of the model in models/ run in this process, one after the other; every held-apart
test message of both languages is read by each, and a conversation of them is played to the
policies.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.understanding.model_loading import install_inference_loading, uninstall_inference_loading

pytestmark = pytest.mark.e2e

PROJECT_DIR = Path(__file__).resolve().parents[2]


def held_apart_texts() -> list[str]:
    texts = []
    for language in ("en", "it"):
        data = yaml.safe_load((PROJECT_DIR / f"tests/nlu/test_nlu_{language}.yml").read_text())
        for block in data["nlu"]:
            texts += [line[2:] for line in block.get("examples", "").splitlines()
                      if line.startswith("- ")]
    return texts


def everything_it_says(model: Path, texts: list[str]) -> list[Any]:
    from rasa.core.agent import Agent
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    agent = Agent.load(str(model))

    async def read() -> list[Any]:
        said: list[Any] = []
        tracker = DialogueStateTracker("loading", agent.domain.slots)
        for event in (SessionStarted(), ActionExecuted("action_listen")):
            tracker.update(event)
        for number, text in enumerate(texts):
            parsed = await agent.parse_message(text)
            said.append((parsed["intent"], parsed["entities"], parsed["intent_ranking"]))
            if number < 60:
                tracker.update(UserUttered(text, parsed["intent"], parsed["entities"], parsed))
                prediction = agent.processor.predict_next_with_tracker(tracker)
                said.append((prediction["policy"], prediction["confidence"],
                             prediction["scores"]))
                tracker.update(ActionExecuted("action_listen"))
        return said

    return asyncio.run(read())


def test_the_model_loaded_for_answering_answers_as_rasas_load(model_path, monkeypatch):
    from rasa.utils.tensorflow.models import RasaModel

    texts = held_apart_texts()
    assert len(texts) > 300
    try:
        rasas = everything_it_says(model_path, texts)
        install_inference_loading()

        def no_training(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("a model loaded for answering was trained")

        monkeypatch.setattr(RasaModel, "fit", no_training)
        ours = everything_it_says(model_path, texts)
    finally:
        uninstall_inference_loading()
    assert ours == rasas
