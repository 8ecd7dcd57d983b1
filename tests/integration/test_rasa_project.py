"""The Rasa project itself: data validation, every response the code uses, test stories."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.handoff.reasons import HandoffReason
from bot.orders import OrderStatus

PROJECT_DIR = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}


def _rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rasa", *args],
        cwd=PROJECT_DIR, env=ENV, capture_output=True, text=True, timeout=timeout,
    )


def _domain() -> dict:
    return yaml.safe_load((PROJECT_DIR / "domain.yml").read_text())


def test_rasa_data_validate_is_clean_apart_from_responses_sent_by_actions():
    result = _rasa("data", "validate")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout + result.stderr
    unused = set(re.findall(r"The utterance '(\w+)' is not used in any story or rule", output))
    code_that_sends = [
        *(PROJECT_DIR / "actions").glob("*.py"), *(PROJECT_DIR / "bot" / "messenger").glob("*.py")
    ]
    actions_source = "".join(p.read_text() for p in code_that_sends)
    domain = _domain()
    asked_by_forms = {
        f"utter_ask_{slot}" for form in domain["forms"].values() for slot in form["required_slots"]
    }
    sent_by_code = (
        {f"utter_order_{s.value}" for s in OrderStatus}
        | {f"utter_handoff_ack_{r.value}" for r in HandoffReason}
        | asked_by_forms
        | {"utter_default"}  # Rasa's own action_default_fallback (core fallback)
    )
    for response in unused:
        assert response in sent_by_code or f'"{response}"' in actions_source, response
    other_warnings = [
        line for line in output.splitlines()
        if "UserWarning" in line and "is not used in any story or rule" not in line
    ]
    assert other_warnings == []


def test_every_response_the_code_sends_exists_with_several_variations():
    responses = _domain()["responses"]
    for status in OrderStatus:
        assert len(responses[f"utter_order_{status.value}"]) >= 2, status
    for reason in HandoffReason:
        assert len(responses[f"utter_handoff_ack_{reason.value}"]) >= 2, reason
    for name, variations in responses.items():
        assert len(variations) >= 2, f"{name} needs several variations"


def _nlu_examples(files: list[Path]) -> dict[str, set[str]]:
    """The examples of NLU files by intent, entity marks removed, case and spacing folded."""
    found: dict[str, set[str]] = {}
    for file in files:
        for block in yaml.safe_load(file.read_text()).get("nlu", []):
            if "intent" not in block:
                continue  # synonyms, regexes and lookups are not examples
            for line in str(block.get("examples", "")).splitlines():
                text = re.sub(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}", r"\1\2",
                              line.lstrip("- ").strip())
                if text:
                    found.setdefault(block["intent"], set()).add(" ".join(text.casefold().split()))
    return found


def test_held_apart_nlu_data_never_overlaps_training_data_in_any_language():
    languages = yaml.safe_load((PROJECT_DIR / "brand.yml").read_text())["brand"]["languages"]
    assert len(languages) >= 2
    intents = set(_domain()["intents"])
    training_files = sorted((PROJECT_DIR / "data" / "nlu").rglob("*.yml"))
    training = set().union(*_nlu_examples(training_files).values())  # every language's
    for language in languages:
        assert list((PROJECT_DIR / "data" / "nlu" / language).glob("*.yml")), language
        test_file = PROJECT_DIR / "tests" / "nlu" / f"test_nlu_{language}.yml"
        assert test_file.exists(), f"{test_file.name} is missing"
        by_intent = _nlu_examples([test_file])
        testing = set().union(*by_intent.values())
        assert len(testing) >= 200, language
        assert training.isdisjoint(testing), (language, sorted(training & testing)[:10])
        missing = sorted(intents - set(by_intent))
        assert missing == [], f"intents without held-apart {language} examples: {missing}"
        assert set(by_intent) <= intents, (language, sorted(set(by_intent) - intents))


@pytest.mark.e2e
def test_rasa_test_stories_pass_without_prediction_errors(model_path, tmp_path):
    result = _rasa(
        "test", "core",
        "--model", str(model_path),
        "--stories", str(PROJECT_DIR / "tests" / "stories"),
        "--fail-on-prediction-errors",
        "--out", str(tmp_path),
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details + result.stdout[-2000:] + result.stderr[-3000:]
