"""Training a model only when none in `models/` matches the current config, domain and data.

A model is named after a fingerprint of config.yml, domain.yml, every file under data/ and
the Rasa version (`bot.trainer.data_fingerprint`); when that file exists, nothing is trained
and a second start takes seconds.

When only NLU examples changed since the live model (`bot.trainer.models`) was trained, i.e.
config, domain, rules and stories are the same, the new model is fine-tuned from the live one
(`rasa train --finetune`, a fraction of the epochs from `trainer.yml`) instead of trained from
scratch; a fine-tuning that fails falls back to full training. Each model gets a note beside
it (`<model>.json`): what it was trained on, how, from which model, in how many seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bot.settings import Settings
from bot.trainer.data_fingerprint import model_for_current_data


def rasa_environment(settings: Settings) -> dict[str, str]:
    """The environment for Rasa processes: ours, the settings, and no telemetry."""
    env = dict(os.environ)
    env.update(settings.as_environment())
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def rasa_command(*args: str) -> list[str]:
    """`rasa <args>` run by this interpreter, with log redaction installed first."""
    return [sys.executable, "-m", "bot.runtime.serve", "rasa", *args]


def structure_fingerprint(project: Path) -> str:
    """A hash of what fine-tuning may not change: config, domain, rules and stories."""
    import rasa

    digest = hashlib.sha256(f"rasa {rasa.__version__}".encode())
    for name in ("config.yml", "domain.yml", "data/rules.yml", "data/stories.yml"):
        path = project / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:16]


def model_note(model: Path) -> dict[str, object] | None:
    """What was noted beside a model when it was trained (None for older models)."""
    path = model.with_name(f"{model.name}.json")
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def finetune_base(project: Path) -> tuple[Path | None, str]:
    """The live model to fine-tune from, or None and the reason to train in full."""
    from bot.trainer.models import ModelShelf

    live = ModelShelf(project / "models").live()
    if live is None:
        return None, "no live model yet"
    base = project / "models" / live.model
    note = model_note(base) if base.exists() else None
    if note is None:
        return None, f"the live model {live.model} has no training note"
    if note.get("structure") != structure_fingerprint(project):
        return None, "config, domain, rules or stories changed since the live model"
    return base, f"only NLU examples changed since {live.model}"


def train_if_needed(settings: Settings, force: bool = False) -> Path:
    """Trains (fine-tunes when it may) unless a model of the current data exists; the model.

    Raises:
        RuntimeError: training failed (Rasa's own output says why).
    """
    from bot.trainer.settings import load_trainer_settings

    project = settings.project_dir
    model = model_for_current_data(project)
    if model.exists() and not force:
        print(f"Model up to date with config, domain and data: {model.name}")
        return model
    args = [
        "train",
        "--config", str(project / "config.yml"),
        "--domain", str(project / "domain.yml"),
        "--data", str(project / "data"),
        "--out", str(project / "models"),
        "--fixed-model-name", model.name.removesuffix(".tar.gz"),
    ]
    if force:
        args.append("--force")
    base, why = finetune_base(project)
    started = time.monotonic()
    if base is not None and not force:
        fraction = load_trainer_settings(project / "trainer.yml").finetune_epoch_fraction
        print(f"Fine-tuning {base.name} ({why}), {fraction:g} of the epochs...")
        result = subprocess.run(
            rasa_command(*args, "--finetune", str(base), "--epoch-fraction", str(fraction)),
            cwd=project, env=rasa_environment(settings))
        if result.returncode == 0 and model.exists():
            _note(project, model, "finetune", base.name, time.monotonic() - started)
            return model
        print(f"Fine-tuning failed (exit code {result.returncode}): training in full instead.")
        base, started = None, time.monotonic()
    else:
        print(f"Training in full ({'asked for' if force else why})...")
    result = subprocess.run(rasa_command(*args), cwd=project, env=rasa_environment(settings))
    if result.returncode != 0 or not model.exists():
        raise RuntimeError(f"rasa train failed with exit code {result.returncode}")
    _note(project, model, "full", None, time.monotonic() - started)
    return model


def _note(project: Path, model: Path, how: str, base: str | None, seconds: float) -> None:
    note = {"structure": structure_fingerprint(project), "trained": how, "from": base,
            "seconds": round(seconds, 1)}
    model.with_name(f"{model.name}.json").write_text(json.dumps(note, indent=2) + "\n",
                                                      encoding="utf-8")
    print(f"{'Fine-tuned' if base else 'Trained'} {model.name} in {seconds:.0f} s.")
