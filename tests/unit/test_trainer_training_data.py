"""Writing a trainer's decisions into a copy of the Rasa project (ruamel.yaml round trip)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml

from bot.trainer import yaml_files
from bot.trainer.training_data import (
    TrainingData,
    TrainingDataError,
    normalized,
    rasa_validate,
    validation_complaint,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
RASA_FILES = [Path("config.yml"), Path("domain.yml"), Path("data"), Path("tests/nlu")]
GIFT_WRAP = ["can you gift wrap my order", "do you do gift wrapping", "gift wrap please",
             "is gift wrapping available", "can you giftwrap it", "i'd like it wrapped as a gift",
             "Can you gift wrap my order?"]  # the last is the first again


@pytest.fixture()
def project(tmp_path) -> Path:
    for part in RASA_FILES:
        source, target = PROJECT_DIR / part, tmp_path / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    return tmp_path


def passes(_: Path) -> None:
    return None


def examples(path: Path, intent: str) -> list[str]:
    items = yaml.safe_load(path.read_text())["nlu"]
    block = next(item["examples"] for item in items if item.get("intent") == intent)
    return [line[2:] for line in block.splitlines()]


def test_every_project_file_survives_a_round_trip_unchanged():
    paths = [*(PROJECT_DIR / "data").rglob("*.yml"), PROJECT_DIR / "domain.yml",
             PROJECT_DIR / "tests/nlu/test_nlu.yml", PROJECT_DIR / "config.yml"]
    for path in paths:
        text = path.read_text()
        assert yaml_files.dumps(yaml_files.load(path), text) == text, path


def test_a_new_intent_with_its_answer_in_domain_rules_data_and_tests(project):
    data = TrainingData(project, validate=rasa_validate)  # the real `rasa data validate`
    domain_before = (project / "domain.yml").read_text()
    added = data.create_intent("gift_wrapping", GIFT_WRAP, answers=[
        "Yes! Tick 'gift wrap' at checkout: it costs €3.", "We gift wrap for €3: choose it at "
        "checkout 🎁"], test_every=4)
    assert added.duplicates == ["Can you gift wrap my order?"]
    assert len(added.training) == 5 and added.test == ["is gift wrapping available"]
    assert examples(project / "data/nlu/gift_wrapping.yml", "gift_wrapping") == added.training
    assert examples(project / "tests/nlu/test_nlu.yml", "gift_wrapping") == added.test
    domain = yaml.safe_load((project / "domain.yml").read_text())
    assert "gift_wrapping" in domain["intents"]
    assert [v["text"] for v in domain["responses"]["utter_gift_wrapping"]][1].endswith("🎁")
    rules = yaml.safe_load((project / "data/rules.yml").read_text())["rules"]
    assert rules[-1]["steps"] == [{"intent": "gift_wrapping"}, {"action": "utter_gift_wrapping"}]
    # comments and layout of the files that were there survive
    after = (project / "domain.yml").read_text()
    assert after.startswith(domain_before.split("intents:")[0])
    assert all(line in after for line in domain_before.splitlines() if line.startswith("#"))
    assert "  - gift_wrapping\n" in after
    assert data.known_examples()[normalized("gift wrap please")] == "gift_wrapping"


def test_a_new_intent_that_hands_off_and_examples_for_an_existing_one(project):
    data = TrainingData(project, validate=passes)
    data.create_intent("warranty_claim", ["my shoes broke after a year, warranty?",
                                          "is there a warranty", "warranty claim please"],
                       hand_off=True, test_every=4)
    rules = yaml.safe_load((project / "data/rules.yml").read_text())["rules"]
    assert rules[-1]["steps"] == [{"intent": "warranty_claim"}, {"action": "action_handoff"},
                                  {"active_loop": None}]
    added = data.add_examples("shipping_info", ["ship to [Malta] fast?", "how long to malta",
                                                "do you ship to Malta", "delivery to malta",
                                                "how long does shipping take"], test_every=2)
    assert added.duplicates == ["how long does shipping take"]
    assert added.training == ["ship to Malta fast?", "do you ship to Malta"]  # brackets gone
    assert added.test == ["how long to malta", "delivery to malta"]
    assert examples(project / "data/nlu/shipping.yml", "shipping_info")[-2:] == added.training


def test_refusals_change_nothing(project):
    data = TrainingData(project, validate=passes)
    before = {p: p.read_bytes() for p in project.rglob("*.yml")}
    for call, complaint in (
        (lambda: data.create_intent("greet", GIFT_WRAP, answers=["hi"]), "exists already"),
        (lambda: data.create_intent("Gift Wrap", GIFT_WRAP, answers=["x"]), "lower-case"),
        (lambda: data.create_intent("nlu_fallback", GIFT_WRAP, answers=["x"]), "Rasa's own"),
        (lambda: data.create_intent("restart", GIFT_WRAP, hand_off=True), "Rasa's own"),
        (lambda: data.create_intent("gift_wrapping", GIFT_WRAP), "needs its answer"),
        (lambda: data.create_intent("gift_wrapping", GIFT_WRAP[:2], answers=["x"]),
         "at least 3 new examples"),
        (lambda: data.add_examples("no_such_intent", ["hello"], 4), "no intent"),
    ):
        with pytest.raises(TrainingDataError, match=complaint):
            call()
    assert {p: p.read_bytes() for p in project.rglob("*.yml")} == before
    assert not (project / "data/nlu/gift_wrapping.yml").exists()


def test_a_change_the_validator_refuses_is_rolled_back(project):
    data = TrainingData(project, validate=lambda _: "YamlValidationException: broken")
    before = {p: p.read_bytes() for p in project.rglob("*.yml")}
    with pytest.raises(TrainingDataError, match="refused the change:\nYamlValidation"):
        data.create_intent("gift_wrapping", GIFT_WRAP, answers=["We do!"])
    assert {p: p.read_bytes() for p in project.rglob("*.yml")} == before
    assert not (project / "data/nlu/gift_wrapping.yml").exists()


def test_two_trainers_at_once_both_land_and_nothing_breaks(project):
    def slow(_: Path) -> None:
        time.sleep(0.3)  # a validation in progress while the other trainer waits

    errors = []

    def label(texts: list[str]) -> None:
        try:
            TrainingData(project, validate=slow).add_examples("returns_info", texts, 10)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=label, args=([f"{word} return question {n}"
                                                     for n in range(3)],))
               for word in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    target = TrainingData(project)._file_with("returns_info")
    added = [text for text in examples(target, "returns_info") if "return question" in text]
    assert sorted(added) == sorted(f"{w} return question {n}" for w in ("first", "second")
                                   for n in range(3))


def test_the_validators_complaint_is_its_warnings_not_its_progress_lines():
    output = (
        "/x/rasa/shared/utils/io.py:100: UserWarning: The utterance 'utter_ask_proof' is not "
        "used in any story or rule.\n"
        "\x1b[93m/x/rasa/shared/utils/io.py:100: UserWarning: The action 'action_later' is used "
        "in the 'unfinished' block, but it is not listed in the domain file.\n"
        "  More info at https://rasa.com/docs/rasa/domain\n"
        "\x1b[0m2026-11-22 23:00:41 INFO     rasa.validator  - Validating intents...\n"
        "2026-11-22 23:00:41 INFO     rasa.validator  - No story structure conflicts found.\n"
        "\x1b[91mProject validation completed with errors.\x1b[0m\n")
    assert validation_complaint(output) == (
        "The action 'action_later' is used in the 'unfinished' block, but it is not listed in "
        "the domain file.\nProject validation completed with errors.")
