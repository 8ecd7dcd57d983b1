"""`nightdesk train` fine-tunes the live model when only NLU examples changed, and
`nightdesk gate` compares the two, on a copy of the project in a temporary directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.runtime.training import model_note, structure_fingerprint
from bot.trainer.models import ModelShelf
from bot.trainer.training_data import TrainingData

pytestmark = pytest.mark.e2e

PROJECT_DIR = Path(__file__).resolve().parents[2]
FILES = ["config.yml", "domain.yml", "brand.yml", "trainer.yml", "credentials.yml",
         "endpoints.yml", "canned_replies.yml", "data", "tests/nlu"]
MALTA = ["do you ship to malta", "how long does delivery to malta take", "shipping to malta?",
         "can I get shoes sent to valletta", "malta delivery time", "deliver to gozo?",
         "what does shipping to malta cost", "is malta in your shipping zone"]


def test_only_new_examples_fine_tune_the_live_model_and_the_gate_compares(model_path,
                                                                            tmp_path):
    copy = tmp_path / "project"
    for part in FILES:
        source, target = PROJECT_DIR / part, copy / part
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    models = copy / "models"
    models.mkdir()
    live = models / model_path.name
    shutil.copy(model_path, live)
    live.with_name(f"{live.name}.json").write_text(json.dumps(
        {"structure": structure_fingerprint(copy), "trained": "full", "from": None}))
    ModelShelf(models).record_live(live, "nightdesk up")

    added = TrainingData(copy, validate=lambda _: None).add_examples("shipping_info", MALTA, 4)
    assert len(added.test) == 2
    env = {**os.environ, "NIGHTDESK_HOME": str(copy), "RASA_TELEMETRY_ENABLED": "false",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'nightdesk.db'}"}

    def nightdesk(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=PROJECT_DIR, env=env,
                              capture_output=True, text=True, timeout=1200)

    trained = nightdesk("train")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    assert f"Fine-tuning {live.name} (only NLU examples changed" in trained.stdout
    candidate = next(p for p in models.glob("nightdesk-*.tar.gz") if p != live)
    note = model_note(candidate)
    assert note["trained"] == "finetune" and note["from"] == live.name

    gate = nightdesk("gate")
    assert gate.returncode in (0, 1), gate.stderr[-2000:]
    assert "accuracy (shared)" in gate.stdout and "shipping_info" in gate.stdout
    verdict = ModelShelf(models).gate(candidate)
    assert verdict["live"] == live.name
    assert verdict["passed"] is (gate.returncode == 0)
    assert ("PASSED" in gate.stdout) is verdict["passed"]
