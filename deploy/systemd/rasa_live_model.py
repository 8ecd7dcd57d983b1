"""`rasa run` on the live model, for nightdesk-rasa@.service.

`nightdesk up` serves the model that models/live.json names (what `nightdesk promote` and
`nightdesk rollback` change), never a newer candidate that has not been through the gate;
`rasa run --model models/` would load the newest file instead. This script picks the model
as `nightdesk up` does (`bot.trainer.models.model_to_serve`: the live model, or the model of
the current data when nothing is live yet, which it then records as live), then becomes
`python -m bot.runtime.serve rasa run --model <it> <its own arguments>`, so systemd watches
the Rasa server itself. It never trains: run `nightdesk train` before the first start.

Usage: python deploy/systemd/rasa_live_model.py [rasa run arguments...]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def choose_model(models_dir: Path, model_of_data: Path) -> Path:
    """The model to serve: the live one, else the model of the current data (made live).

    Raises:
        SystemExit: neither file exists.
    """
    from bot.trainer.models import ModelShelf, model_to_serve

    shelf = ModelShelf(models_dir)
    live = shelf.live()
    live_exists = live is not None and (models_dir / live.model).exists()
    if not live_exists and not model_of_data.exists():
        raise SystemExit(
            f"nightdesk-rasa: no live model in {models_dir} and no model of the current data "
            f"({model_of_data.name}): run `nightdesk train` as the nightdesk user first")
    model, why = model_to_serve(shelf, model_of_data, "nightdesk-rasa (systemd)")
    print(why, file=sys.stderr, flush=True)
    return model


def main(argv: list[str]) -> None:
    """Replaces this process with the Rasa server on the chosen model."""
    sys.path.insert(0, str(PROJECT_DIR))
    from bot.runtime.training import rasa_command
    from bot.settings import get_settings
    from bot.trainer.data_fingerprint import model_for_current_data

    project = get_settings().project_dir
    model = choose_model(project / "models", model_for_current_data(project))
    command = rasa_command("run", "--model", str(model), *argv)
    os.environ.setdefault("ACTION_SERVER_TOKEN", "")  # endpoints.yml reads it
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
