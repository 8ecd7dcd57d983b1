"""How long the trainer's loop takes, from "label" to "new model live", on a running bot.

On a copy of the project with its bot running (the project's current model live), through the
`nightdesk` CLI as a trainer runs it, three changes, each timed per step (label, train, gate,
promote) and in all:
1. a new intent (gift_wrapping) with 15 examples and its answer: a new intent changes the
   domain and the rules, so the model is trained in full;
2. 15 examples added to an existing intent (shipping_info): fine-tuned from the live model
   (`train.finetune_epoch_fraction` of the epochs);
3. the same kind of change (15 more shipping_info examples) trained in full (`--force`), to
   compare with 2.
The gate's report for the new intent is printed as well. Nothing here is asserted.

Run with `.venv/bin/python bench/trainer_loop.py` (about 10 minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from bot.orders.seed import seed_demo_shop  # noqa: E402
from bot.runtime.processes import running_servers  # noqa: E402
from bot.runtime.shell import send  # noqa: E402
from bot.runtime.training import structure_fingerprint, train_if_needed  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.store import create_db_engine  # noqa: E402
from bot.trainer.models import ModelShelf  # noqa: E402

PROJECT_FILES = ["config.yml", "domain.yml", "brand.yml", "trainer.yml", "credentials.yml",
                 "endpoints.yml", "canned_replies.yml", "data", "tests/nlu", "tests/stories"]
GIFT_WRAPPING = [
    "can you gift wrap my order?", "could you wrap it as a present", "can I have it gift wrapped",
    "can the parcel come gift wrapped", "please gift wrap the boots", "is gift wrap free",
    "it's a present, can you wrap it", "wrap it as a gift please", "do you offer gift wrapping",
    "is gift wrapping available", "i'd like it gift wrapped", "does gift wrapping cost extra",
    "how much is gift wrapping", "can I add gift wrapping to my order", "do you wrap presents",
]
MALTA = [
    "do you ship to malta", "how long does delivery to malta take", "shipping to malta?",
    "can I get shoes sent to valletta", "malta delivery time", "deliver to gozo?",
    "what does shipping to malta cost", "is malta in your shipping zone", "ship to mdina",
    "how many days to malta", "malta shipping price", "do you deliver to sliema",
    "can you send boots to malta", "express to malta?", "shipping costs for malta",
]
CYPRUS = [text.replace("malta", "cyprus").replace("valletta", "nicosia")
          .replace("gozo", "limassol").replace("mdina", "larnaca").replace("sliema", "paphos")
          for text in MALTA]


def copy_project(target: Path, model: Path) -> None:
    """The project's data and settings, with `model` live in models/."""
    for part in PROJECT_FILES:
        source, copy = PROJECT / part, target / part
        copy.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy)
    (target / "models").mkdir()
    live = target / "models" / model.name
    shutil.copy(model, live)
    note = model.with_name(f"{model.name}.json")
    if note.exists():
        shutil.copy(note, live.with_name(f"{live.name}.json"))
    else:  # a model trained before notes were kept: it is the model of this data
        live.with_name(f"{live.name}.json").write_text(json.dumps(
            {"structure": structure_fingerprint(target), "trained": "full", "from": None}))
    ModelShelf(target / "models").record_live(live, "bench")


def nightdesk(environ: dict[str, str], *args: str) -> tuple[float, str]:
    """Runs the CLI; its seconds and output (stops the benchmark when it fails)."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "bot.cli", *args], env=environ,
                            capture_output=True, text=True, cwd=PROJECT)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"nightdesk {' '.join(args[:2])} failed:\n{result.stdout[-3000:]}\n"
                         f"{result.stderr[-3000:]}")
    return seconds, result.stdout


def one_change(environ: dict[str, str], label: Sequence[str],
               train: Sequence[str] = ("train",)) -> tuple[dict[str, float], str]:
    """Label, train, gate, promote: the seconds of each and the gate's report."""
    steps = {"label": nightdesk(environ, *label)[0], "train": nightdesk(environ, *train)[0]}
    steps["gate"], report = nightdesk(environ, "gate")
    steps["promote"] = nightdesk(environ, "promote", "--by", "bench")[0]
    return steps, report


def examples(texts: Sequence[str]) -> list[str]:
    return [arg for text in texts for arg in ("--example", text)]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="nightdesk-trainer-bench-") as tmp_name:
        tmp = Path(tmp_name)
        model = train_if_needed(load_settings({"NIGHTDESK_HOME": str(PROJECT)}))
        project = tmp / "project"
        copy_project(project, model)
        environ = {
            **os.environ, "NIGHTDESK_HOME": str(project),
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "RASA_URL": "http://127.0.0.1:16105",
            "ACTION_SERVER_URL": "http://127.0.0.1:16155/webhook",
            "RASA_AUTH_TOKEN": uuid.uuid4().hex, "RASA_TELEMETRY_ENABLED": "false",
        }
        settings = load_settings(environ)
        seed_demo_shop(create_db_engine(settings.database_url), datetime.now(timezone.utc))
        with running_servers(settings, model, log_dir=tmp / "logs", timeout=600):
            changes = [
                ("new intent, 15 examples (full training)",
                 ["review", "new-intent", *examples(GIFT_WRAPPING), "--name", "gift_wrapping",
                  "--answer", "Yes, we gift wrap for €3: choose it at checkout.",
                  "--answer", "We can gift wrap it (€3): tick the box at checkout."],
                 ["train"]),
                ("15 examples of shipping_info (fine-tuned)",
                 ["review", "assign", *examples(MALTA), "--intent", "shipping_info"], ["train"]),
                ("15 examples of shipping_info (full, --force)",
                 ["review", "assign", *examples(CYPRUS), "--intent", "shipping_info"],
                 ["train", "--force"]),
            ]
            results = []
            for name, label, train in changes:
                steps, report = one_change(environ, label, train)
                results.append((name, steps))
                if not results[1:]:
                    first_report = report
                    reply = "\n".join(r.get("text", "") for r in send(
                        settings.rasa_url, "bench", "can you gift wrap the trainers for me?",
                        None))
            print("== label to live (seconds), on a running bot, 2 cores")
            print(f"{'change':46} {'label':>6} {'train':>6} {'gate':>6} {'promote':>8} "
                  f"{'total':>6}")
            for name, steps in results:
                print(f"{name:46} {steps['label']:>6.1f} {steps['train']:>6.1f} "
                      f"{steps['gate']:>6.1f} {steps['promote']:>8.1f} "
                      f"{sum(steps.values()):>6.1f}")
            print("\n== the gate's report for the new intent")
            print(first_report)
            print(f"\nThe bot, asked 'can you gift wrap the trainers for me?' after promotion:\n"
                  f"{reply}")


if __name__ == "__main__":
    main()
