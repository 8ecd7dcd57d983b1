"""Training a model only when none in `models/` matches the current config, domain and data.

Rasa's own fingerprint decides: `rasa train` reuses the newest model when config.yml,
domain.yml and data/ are unchanged, so a second start takes seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.settings import Settings


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


def latest_model(models_dir: Path) -> Path | None:
    """The newest model archive, or None."""
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    return models[-1] if models else None


def train_if_needed(settings: Settings, force: bool = False) -> Path:
    """Trains unless the newest model matches; returns the model to use.

    Raises:
        RuntimeError: training failed (Rasa's own output says why).
    """
    project = settings.project_dir
    args = [
        "train",
        "--config", str(project / "config.yml"),
        "--domain", str(project / "domain.yml"),
        "--data", str(project / "data"),
        "--out", str(project / "models"),
    ]
    if force:
        args.append("--force")
    result = subprocess.run(rasa_command(*args), cwd=project, env=rasa_environment(settings))
    model = latest_model(project / "models")
    if result.returncode != 0 or model is None:
        raise RuntimeError(f"rasa train failed with exit code {result.returncode}")
    return model
