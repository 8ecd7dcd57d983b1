"""Which model file belongs to the current config, domain and data (the candidate's name).

A model is named after a fingerprint of config.yml, domain.yml, every file under data/ and
the Rasa version: the same project gives the same name, so a model that exists need not be
trained again, and the gate knows which model is the candidate.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


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
