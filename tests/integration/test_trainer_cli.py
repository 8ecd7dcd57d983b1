"""`nightdesk review` through the CLI, on a copy of the project in a temporary directory.

The night's messages are seeded in Rasa's tracker store table; the trainer sees them grouped,
creates an intent from the biggest group (checked by the real `rasa data validate`), adds a
message to an existing intent, and dismisses the noise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from bot.store import create_db_engine, ensure_schema
from tests.rasa_events import events_table, user_event

PROJECT_DIR = Path(__file__).resolve().parents[2]
NIGHT = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=12)
SEEDED = [
    ("n1", "can you gift wrap my order?", "nlu_fallback", 0.32),
    ("n2", "do you do gift wrapping", "nlu_fallback", 0.28),
    ("n3", "gift wrap please", "shipping_info", 0.41),
    ("n4", "is gift wrapping available?", "nlu_fallback", 0.3),
    ("n5", "can you giftwrap it", "out_of_scope", 0.7),
    ("n6", "how long does shipping to malta take", "shipping_info", 0.45),
    ("n7", "qwertyuiop", "nlu_fallback", 0.1),
    ("n8", "where is my order", "order_status", 0.99),  # understood: never shown
]


@pytest.fixture()
def project(tmp_path) -> tuple[Path, dict[str, str]]:
    copy = tmp_path / "project"
    copy.mkdir()
    for part in ("config.yml", "domain.yml", "brand.yml", "trainer.yml", "credentials.yml",
                 "endpoints.yml", "canned_replies.yml"):
        shutil.copy(PROJECT_DIR / part, copy / part)
    shutil.copytree(PROJECT_DIR / "data", copy / "data")
    shutil.copytree(PROJECT_DIR / "tests" / "nlu", copy / "tests" / "nlu")
    database = f"sqlite:///{tmp_path / 'nightdesk.db'}"
    engine = create_db_engine(database)
    ensure_schema(engine)
    events = events_table(engine)
    with engine.begin() as connection:
        connection.execute(events.insert(), [
            user_event(sender, text, NIGHT + timedelta(minutes=i), intent, confidence)
            for i, (sender, text, intent, confidence) in enumerate(SEEDED)])
    env = {**os.environ, "NIGHTDESK_HOME": str(copy), "DATABASE_URL": database,
           "RASA_TELEMETRY_ENABLED": "false"}
    return copy, env


def nightdesk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=300)


def groups(env: dict[str, str]) -> list[dict]:
    result = nightdesk(env, "review", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_review_inbox_from_the_cli(project):
    copy, env = project
    found = groups(env)
    assert [g["size"] for g in found] == [5, 1, 1]
    assert "gift" in found[0]["typical"]
    shown = nightdesk(env, "review")
    assert shown.returncode == 0 and "[1] 5 message(s) like" in shown.stdout
    assert "where is my order" not in shown.stdout

    created = nightdesk(env, "review", "new-intent", "1", "--name", "gift_wrapping",
                        "--answer", "Yes! Choose gift wrapping at checkout (€3).",
                        "--answer", "We gift wrap for €3: tick the box at checkout.",
                        "--by", "tina")
    assert created.returncode == 0, created.stderr
    assert "Labelled as gift_wrapping 5 message(s)" in created.stdout
    assert "to training: 4, to the test file: 1" in created.stdout
    domain = yaml.safe_load((copy / "domain.yml").read_text())
    assert "gift_wrapping" in domain["intents"] and "utter_gift_wrapping" in domain["responses"]
    assert (copy / "data/nlu/gift_wrapping.yml").exists()
    assert "gift_wrapping" in (copy / "tests/nlu/test_nlu.yml").read_text()
    assert not (PROJECT_DIR / "data/nlu/gift_wrapping.yml").exists()  # the copy, only

    left = groups(env)
    assert len(left) == 2 and all("gift" not in g["typical"] for g in left)
    malta = next(g["group"] for g in left if "malta" in g["typical"])
    assigned = nightdesk(env, "review", "assign", str(malta), "--intent", "shipping_info")
    assert assigned.returncode == 0, assigned.stderr
    assert "malta" in (copy / "data/nlu/shipping.yml").read_text().lower() or \
        "malta" in (copy / "tests/nlu/test_nlu.yml").read_text().lower()
    (noise,) = groups(env)
    dismissed = nightdesk(env, "review", "dismiss", str(noise["group"]))
    assert dismissed.returncode == 0 and "qwertyuiop" in dismissed.stdout
    assert groups(env) == []
    assert "The review inbox is empty." in nightdesk(env, "review").stdout


def test_a_bad_choice_is_refused_and_changes_nothing(project):
    copy, env = project
    before = {p: p.read_bytes() for p in copy.rglob("*.yml")}
    for args, complaint in (
        (("assign", "9", "--intent", "shipping_info"), "there is no group '9'"),
        (("assign", "1.9", "--intent", "shipping_info"), "group 1 has no message '9'"),
        (("assign", "1", "--intent", "no_such_intent"), "there is no intent"),
        (("new-intent", "1", "--name", "greet", "--hand-off"), "exists already"),
    ):
        result = nightdesk(env, "review", *args)
        assert result.returncode == 2 and complaint in result.stderr, (args, result.stderr)
    assert {p: p.read_bytes() for p in copy.rglob("*.yml")} == before
    assert [g["size"] for g in groups(env)] == [5, 1, 1]  # nothing was decided
