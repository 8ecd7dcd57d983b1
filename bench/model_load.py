"""How long a Rasa process takes from its start to its first answer: stock loading vs ours.

Starts the action server once, then the Rasa server `ROUNDS` times each way, alternately,
on the same model, database and port:
- stock: `python -m rasa run` (Rasa's `RasaModel.load`, which fits each TensorFlow model on
  one example before reading its saved weights);
- ours: `python -m bot.runtime.serve rasa run`, as `nightdesk up` starts it (the model
  loaded for answering, `bot.understanding.model_loading`).
Prints, for each: the seconds from the process's start to the model loaded (Rasa's /status
names it), to the first answer through the REST channel, and the ratio.

Run: `.venv/bin/python bench/model_load.py` (a quiet machine; both cores). Nothing is
asserted.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ["RASA_TELEMETRY_ENABLED"] = "false"

from bot.orders.seed import seed_demo_shop  # noqa: E402
from bot.runtime.processes import (  # noqa: E402
    ManagedProcess,
    _niced,
    _spawn,
    running_action_server,
    start_rasa_server,
)
from bot.runtime.training import train_if_needed  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402
from bot.store import create_db_engine  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
RASA_PORT, ACTION_PORT = 17905, 17906


def stock_rasa(settings: Settings, model: Path, log: Path) -> ManagedProcess:
    """Rasa's own `rasa run`, same model, endpoints, channels and port as ours."""
    project = settings.project_dir
    command = [sys.executable, "-m", "rasa", "run", "--model", str(model),
               "--endpoints", str(project / "endpoints.yml"),
               "--credentials", str(project / "credentials.yml"),
               "--interface", "127.0.0.1", "--port", str(RASA_PORT), "--enable-api",
               "--auth-token", settings.rasa_auth_token]
    return ManagedProcess("stock Rasa", _spawn(_niced(command), settings, log),
                          f"{settings.rasa_url}/status?token={settings.rasa_auth_token}")


def model_loaded(settings: Settings) -> bool:
    url = f"{settings.rasa_url}/status?token={settings.rasa_auth_token}"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(json.loads(response.read()).get("model_file"))
    except OSError:
        return False


def first_answer(settings: Settings) -> list:
    body = json.dumps({"sender": f"load-{uuid.uuid4().hex[:8]}", "message": "hi"}).encode()
    request = urllib.request.Request(f"{settings.rasa_url}/webhooks/rest/webhook", body,
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def one_start(settings: Settings, start, log: Path) -> tuple[float, float]:  # noqa: ANN001
    began = time.monotonic()
    server = start(log)
    try:
        while not model_loaded(settings):
            if server.process.poll() is not None:
                raise SystemExit(f"the Rasa server exited; see {log}")
            time.sleep(0.1)
        loaded = time.monotonic() - began
        answer = first_answer(settings)
        answered = time.monotonic() - began
        if not answer:
            raise SystemExit("the first message got no answer")
        return loaded, answered
    finally:
        server.stop()


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="nightdesk-bench-load-"))
    environ = dict(os.environ, NIGHTDESK_HOME=str(PROJECT),
                   DATABASE_URL=f"sqlite:///{home / 'nightdesk.db'}",
                   RASA_URL=f"http://127.0.0.1:{RASA_PORT}",
                   RASA_AUTH_TOKEN=f"bench-{uuid.uuid4().hex[:8]}",
                   ACTION_SERVER_URL=f"http://127.0.0.1:{ACTION_PORT}/webhook",
                   ORDERS_BACKEND="sql")
    settings = load_settings(environ)
    model = train_if_needed(settings)
    seed_demo_shop(create_db_engine(settings.database_url), settings.clock()())
    ways = {
        "stock (python -m rasa run)": lambda log: stock_rasa(settings, model, log),
        "ours (bot.runtime.serve)": lambda log: start_rasa_server(settings, model, log),
    }
    figures: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
    with running_action_server(settings, home / "actions.log"):
        for number in range(ROUNDS):
            for way, start in ways.items():
                figures[way].append(one_start(settings, start, home / f"rasa-{number}.log"))
                print(f"  round {number + 1}, {way}: model loaded {figures[way][-1][0]:.1f} s, "
                      f"first answer {figures[way][-1][1]:.1f} s", flush=True)
    print(f"\nmodel {model.name}; median of {ROUNDS} starts each")
    print(f"{'':<28} {'to model loaded':>16} {'to first answer':>16}")
    medians = {}
    for way, runs in figures.items():
        medians[way] = (statistics.median(r[0] for r in runs),
                        statistics.median(r[1] for r in runs))
        print(f"{way:<28} {medians[way][0]:>14.1f} s {medians[way][1]:>14.1f} s")
    stock, ours = medians.values()
    print(f"{'ratio (stock / ours)':<28} {stock[0] / ours[0]:>15.1f}x {stock[1] / ours[1]:>15.1f}x")


if __name__ == "__main__":
    main()
