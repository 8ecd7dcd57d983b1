"""Training a model only when none in `models/` matches the current config, domain and data.

A model is named after a fingerprint of config.yml, domain.yml, every file under data/ and
the Rasa version; when that file exists, nothing is trained and a second start takes seconds.
"""

from __future__ import annotations

import hashlib
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


def data_fingerprint(project: Path) -> str:
    """A hash of everything a trained model depends on (config, domain, data, Rasa version)."""
    import rasa

    digest = hashlib.sha256(f"rasa {rasa.__version__}".encode())
    files = [project / "config.yml", project / "domain.yml"]
    files += sorted(path for path in (project / "data").rglob("*") if path.is_file())
    for path in files:
        digest.update(str(path.relative_to(project)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_for_current_data(project: Path) -> Path:
    """Where the model for the current config, domain and data is (or will be) stored."""
    return project / "models" / f"nightdesk-{data_fingerprint(project)}.tar.gz"


def train_if_needed(settings: Settings, force: bool = False) -> Path:
    """Trains unless the newest model matches; returns the model to use.

    Raises:
        RuntimeError: training failed (Rasa's own output says why).
    """
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
    result = subprocess.run(rasa_command(*args), cwd=project, env=rasa_environment(settings))
    if result.returncode != 0 or not model.exists():
        raise RuntimeError(f"rasa train failed with exit code {result.returncode}")
    return model
