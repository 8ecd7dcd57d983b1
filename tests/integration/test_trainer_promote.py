"""Promotion into the running Rasa server: its model API takes the candidate while the bot keeps
answering, and rollback puts the previous model back. The models are copies of the trained
model on a shelf of the test's own, so the project's `models/live.json` is not touched."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
import urllib.request

import pytest

from bot.trainer.models import ModelShelf, promote, rollback

pytestmark = pytest.mark.e2e


def loaded_model(stack) -> str:
    url = f"{stack.settings.rasa_url}/status?token={stack.settings.rasa_auth_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())["model_file"]


def test_a_candidate_goes_live_without_a_restart_and_rolls_back(stack, model_path, tmp_path,
                                                                 sender):
    shelf = ModelShelf(tmp_path)
    live = tmp_path / "live-model.tar.gz"
    candidate = tmp_path / "candidate-model.tar.gz"
    shutil.copy(model_path, live)
    shutil.copy(model_path, candidate)
    shelf.record_live(live, "nightdesk up")
    shelf.save_gate(candidate, live.name, passed=True, report="PASSED")
    settings = stack.settings

    answers: list[tuple[float, str]] = []

    def customer_writes() -> None:
        text = stack.say(sender, "hello", first_name="Ada")
        answers.append((time.monotonic(), text))

    talking = threading.Thread(target=customer_writes)
    record, loaded_at = None, 0.0

    async def go_live():
        nonlocal record, loaded_at
        loading = asyncio.create_task(promote(shelf, candidate, "tina", settings.rasa_url,
                                              settings.rasa_auth_token))
        await asyncio.sleep(1)
        talking.start()  # a customer writes while the new model loads
        record = await loading
        loaded_at = time.monotonic()

    asyncio.run(go_live())
    talking.join(timeout=180)
    (answered_at, text), = answers
    assert "Ada" in text
    # answered by the old model while the new one was still loading, not after
    assert answered_at < loaded_at
    assert record.model == candidate.name and record.previous == live.name
    assert loaded_model(stack).endswith(candidate.name)
    assert "Ada" in stack.say(sender, "hi again")

    back = asyncio.run(rollback(shelf, "admin", settings.rasa_url, settings.rasa_auth_token))
    assert back.model == live.name and loaded_model(stack).endswith(live.name)
