"""`nightdesk review` through the CLI, on a copy of the project in a temporary directory.

The night's messages are seeded in Rasa's tracker store table, English and Italian, each with
the language slot the bot answered it in; the trainer sees them grouped by language, is told
which language a new intent's answer is missing in, creates the intent from the biggest group
with its answer in both (checked by the real `rasa data validate`), adds the Italian group to
it (into the Italian data), adds a message to an existing intent, and dismisses the noise.
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
from tests.rasa_events import events_table, slot_event, user_event

PROJECT_DIR = Path(__file__).resolve().parents[2]
NIGHT = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=12)
SEEDED = [  # conversation, text, intent, confidence, the language slot after it
    ("n1", "can you gift wrap my order?", "nlu_fallback", 0.32, "en"),
    ("n2", "do you do gift wrapping", "nlu_fallback", 0.28, "en"),
    ("n3", "gift wrap please", "shipping_info", 0.41, "en"),
    ("n4", "is gift wrapping available?", "nlu_fallback", 0.3, "en"),
    ("n5", "can you giftwrap it", "out_of_scope", 0.7, "en"),
    ("i1", "potete fare una confezione regalo?", "nlu_fallback", 0.3, "it"),
    ("i2", "è possibile avere la confezione regalo", "nlu_fallback", 0.3, "it"),
    ("i3", "si può avere il pacco regalo", "nlu_fallback", 0.3, "it"),
    ("n6", "how long does shipping to malta take", "shipping_info", 0.45, "en"),
    ("n7", "qwertyuiop", "nlu_fallback", 0.1, None),  # no slot: the detector's, the default
    ("n8", "where is my order", "order_status", 0.99, "en"),  # understood: never shown
]
ANSWERS = ["--answer", "en", "Yes! Choose gift wrapping at checkout (€3).",
           "--answer", "en", "We gift wrap for €3: tick the box at checkout.",
           "--answer", "it", "Sì! Scegli la confezione regalo al checkout (3 €)."]


@pytest.fixture()
def project(tmp_path) -> tuple[Path, dict[str, str]]:
    copy = tmp_path / "project"
    copy.mkdir()
    for part in ("config.yml", "domain.yml", "brand.yml", "wording.yml", "trainer.yml",
                 "credentials.yml", "endpoints.yml", "canned_replies.yml"):
        shutil.copy(PROJECT_DIR / part, copy / part)
    shutil.copytree(PROJECT_DIR / "data", copy / "data")
    shutil.copytree(PROJECT_DIR / "tests" / "nlu", copy / "tests" / "nlu")
    database = f"sqlite:///{tmp_path / 'nightdesk.db'}"
    engine = create_db_engine(database)
    ensure_schema(engine)
    events = events_table(engine)
    rows = []
    for i, (sender, text, intent, confidence, language) in enumerate(SEEDED):
        rows.append(user_event(sender, text, NIGHT + timedelta(minutes=i), intent, confidence))
        if language:
            rows.append(slot_event(sender, "language", language,
                                   NIGHT + timedelta(minutes=i, seconds=1)))
    with engine.begin() as connection:
        connection.execute(events.insert(), rows)
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
    assert [(g["size"], g["language"]) for g in found] == [(5, "en"), (3, "it"), (1, "it"),
                                                          (1, "en")]  # then the newest
    assert "gift" in found[0]["typical"] and "regalo" in found[1]["typical"]
    assert all(item["language"] == group["language"] for group in found
               for item in group["items"])
    shown = nightdesk(env, "review")
    assert shown.returncode == 0 and "[1] 5 message(s) in English (en) like" in shown.stdout
    assert "[2] 3 message(s) in Italian (it) like" in shown.stdout
    assert "where is my order" not in shown.stdout

    before = {p: p.read_bytes() for p in copy.rglob("*.yml")}
    english_only = nightdesk(env, "review", "new-intent", "1", "--name", "gift_wrapping",
                             *ANSWERS[:6], "--by", "tina")
    assert english_only.returncode == 2
    assert "missing in Italian (it)" in english_only.stderr
    assert '--answer it "..."' in english_only.stderr
    assert {p: p.read_bytes() for p in copy.rglob("*.yml")} == before

    created = nightdesk(env, "review", "new-intent", "1", "--name", "gift_wrapping",
                        *ANSWERS, "--by", "tina")
    assert created.returncode == 0, created.stderr
    assert "Labelled as gift_wrapping 5 message(s)" in created.stdout
    assert "English (en): to training: 4, to the test file: 1" in created.stdout
    domain = yaml.safe_load((copy / "domain.yml").read_text())
    assert "gift_wrapping" in domain["intents"]
    assert [v["condition"] for v in domain["responses"]["utter_gift_wrapping"]] == [
        [{"type": "slot", "name": "language", "value": code}] for code in ("it", "en", "en")]
    assert (copy / "data/nlu/en/gift_wrapping.yml").exists()
    assert not (copy / "data/nlu/it/gift_wrapping.yml").exists()
    assert "gift_wrapping" in (copy / "tests/nlu/test_nlu_en.yml").read_text()
    assert not (PROJECT_DIR / "data/nlu/en/gift_wrapping.yml").exists()  # the copy, only

    left = groups(env)
    assert len(left) == 3 and all("gift" not in g["typical"] for g in left)
    italian = next(g["group"] for g in left if g["language"] == "it" and g["size"] == 3)
    joined = nightdesk(env, "review", "assign", str(italian), "--intent", "gift_wrapping",
                       "--example", "incartate anche le scatole?")
    assert joined.returncode == 0, joined.stderr
    assert "Italian (it): to training: 3, to the test file: 1" in joined.stdout
    italian_data = (copy / "data/nlu/it/gift_wrapping.yml").read_text()
    assert "si può avere il pacco regalo" in italian_data or \
        "si può avere il pacco regalo" in (copy / "tests/nlu/test_nlu_it.yml").read_text()
    assert "regalo" not in (copy / "data/nlu/en/gift_wrapping.yml").read_text()

    left = groups(env)
    malta = next(g["group"] for g in left if "malta" in g["typical"])
    assigned = nightdesk(env, "review", "assign", str(malta), "--intent", "shipping_info")
    assert assigned.returncode == 0, assigned.stderr
    assert "malta" in (copy / "data/nlu/en/shipping.yml").read_text().lower() or \
        "malta" in (copy / "tests/nlu/test_nlu_en.yml").read_text().lower()
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
        (("new-intent", "1", "--name", "gift_wrapping", "--answer", "it", "Sì"),
         "missing in English (en)"),
        (("new-intent", "1", "--name", "gift_wrapping", *ANSWERS, "--answer", "fr", "Oui"),
         "'fr' is not a brand language"),
        (("assign", "1", "--intent", "greet", "--example", "salut", "--language", "fr"),
         "'fr' is not a brand language"),
    ):
        result = nightdesk(env, "review", *args)
        assert result.returncode == 2 and complaint in result.stderr, (args, result.stderr)
    assert {p: p.read_bytes() for p in copy.rglob("*.yml")} == before
    assert [g["size"] for g in groups(env)] == [5, 3, 1, 1]  # nothing was decided
