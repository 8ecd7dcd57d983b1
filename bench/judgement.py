"""Benchmark for the closing notes: does the bot read real customers' words rightly?

Scores the team's own evaluation set, bench/eval/customers_<lang>.yml (messages written as
shop customers write on Messenger at night, none of them in data/nlu or tests/nlu, each
labelled with the behaviour a right reading calls for), for two NLU models trained on the
same data/nlu (one model for both languages):

- ours: config.yml;
- Rasa's default: a config with only `recipe: default.v1` and `language: en` and no
  `pipeline:` key. Rasa 3.6 then fills the pipeline from
  rasa/engine/recipes/config_files/default_config.yml (DefaultV1Recipe.auto_configure):
  WhitespaceTokenizer, RegexFeaturizer, LexicalSyntacticFeaturizer, CountVectorsFeaturizer,
  CountVectorsFeaturizer (char_wb, 1-4 grams), DIETClassifier (100 epochs,
  constrain_similarities), EntitySynonymMapper, ResponseSelector (100 epochs,
  constrain_similarities), FallbackClassifier (threshold 0.3, ambiguity_threshold 0.1).

Each message is parsed on its own (`Agent.parse_message`, no conversation context), and its
final intent (after the fallback classifiers) is mapped to a behaviour by
`bot.understanding.behaviour`. Prints, per language and overall:

- right behaviour %: the bot would do what the label says. An `answer` needs the very topic
  (intent); `order`, `person` and `smalltalk` need the behaviour (any order-flow intent
  starts the same flow, any handoff intent reaches a person); a `scope` message is right
  when the bot says it is out of scope or asks (both offer a person);
- in-scope intent accuracy %: predicted intent equals the label, over messages with one;
- wrong confident answers %: a substantive answer (answer topic or order flow) that is not the
  one asked for (`is_wrong_confident_answer`); target <= 1%;
- out-of-scope handled %: of the scope messages, those read as scope, person or ask;
- the ten most common wrong readings (label -> predicted intent);
- right behaviour % by tag (multi_sentence, typo, near_miss, ...).

judgement.json also lists every message handled wrongly, with what was read, for trainers.

`--cross-validation` also runs `rasa test nlu --cross-validation --runs 1 --folds 3` on
data/nlu with config.yml and prints its test-fold intent accuracy and F1.

The figures also go to bench/results/judgement.json (results/ is git-ignored, as for the
other benches). Trained models are cached under the system's temporary directory, keyed by a
hash of the config and data/nlu (and the Rasa version); `--retrain` ignores the cache;
`--ours-only` skips Rasa's default pipeline (for a trainer trying a change).
Run with `.venv/bin/python bench/judgement.py` (two NLU trainings, a few minutes each on
2 cores; a few seconds when both are cached). Nothing here is asserted.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from bot.understanding.behaviour import (  # noqa: E402
    ASK,
    ORDER,
    PERSON,
    SCOPE,
    SMALLTALK,
    behaviour_of,
    is_wrong_confident_answer,
)

EVAL_DIR = PROJECT / "bench" / "eval"
RESULTS_FILE = PROJECT / "bench" / "results" / "judgement.json"
NLU_DIR = PROJECT / "data" / "nlu"
CACHE_DIR = Path(tempfile.gettempdir()) / "nightdesk-judgement-models"

LANGUAGES = ("en", "it")
EXPECTATIONS = ("answer", "order", "person", "scope", "smalltalk")
TAGS = frozenset({
    "short", "long", "multi_sentence", "typo", "context", "off_topic", "near_miss",
    "order_number", "product",
})

DEFAULT_CONFIG = "recipe: default.v1\nassistant_id: rasa_default\nlanguage: en\n"
"""Rasa's default pipeline: no `pipeline:` key, so Rasa fills its default_config.yml."""


# ---- the evaluation set -----------------------------------------------------------------

@dataclass(frozen=True)
class EvalMessage:
    """One labelled message of the evaluation set."""

    text: str
    expect: str
    intent: str | None
    tags: tuple[str, ...]
    language: str


def eval_files() -> dict[str, Path]:
    """Language -> its evaluation file."""
    return {language: EVAL_DIR / f"customers_{language}.yml" for language in LANGUAGES}


def load_eval_file(path: Path) -> list[EvalMessage]:
    """The messages of one evaluation file, validated; ValueError says what is wrong."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("version") != 1:
        raise ValueError(f"{path.name}: expected a mapping with version: 1")
    language = document.get("language")
    if language not in LANGUAGES:
        raise ValueError(f"{path.name}: language must be one of {LANGUAGES}, not {language!r}")
    entries = document.get("messages")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path.name}: messages must be a non-empty list")
    messages = []
    for index, entry in enumerate(entries):
        where = f"{path.name} message {index + 1}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: not a mapping")
        unknown_keys = set(entry) - {"text", "expect", "intent", "tags"}
        if unknown_keys:
            raise ValueError(f"{where}: unknown keys {sorted(unknown_keys)}")
        text = entry.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: text must be a non-empty string")
        expect = entry.get("expect")
        if expect not in EXPECTATIONS:
            raise ValueError(f"{where}: expect must be one of {EXPECTATIONS}, not {expect!r}")
        intent = entry.get("intent")
        if expect == SCOPE:
            if intent is not None:
                raise ValueError(f"{where}: a scope message has no intent")
        elif not isinstance(intent, str) or behaviour_of(intent) != expect:
            raise ValueError(f"{where}: intent {intent!r} is not a known {expect} intent")
        tags = entry.get("tags") or []
        if not isinstance(tags, list) or not set(tags) <= TAGS:
            raise ValueError(f"{where}: unknown tags {sorted(set(tags) - TAGS)}")
        messages.append(EvalMessage(text, expect, intent, tuple(tags), language))
    return messages


def load_eval_set() -> dict[str, list[EvalMessage]]:
    """Language -> its validated messages."""
    return {language: load_eval_file(path) for language, path in eval_files().items()}


# ---- scoring (pure) -----------------------------------------------------------------------

def is_right_behaviour(message: EvalMessage, predicted_intent: str | None) -> bool:
    """Whether the bot, reading `predicted_intent`, does what the message's label asks."""
    predicted = behaviour_of(predicted_intent)
    if message.expect == SCOPE:
        return predicted in (SCOPE, ASK)
    if message.expect in (ORDER, PERSON, SMALLTALK):
        return predicted == message.expect
    return predicted_intent == message.intent


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def score(readings: Iterable[tuple[EvalMessage, str | None]], top: int = 10) -> dict[str, Any]:
    """Figures for (message, predicted intent) pairs; percentages are None when undefined."""
    readings = list(readings)
    in_scope = [(m, p) for m, p in readings if m.expect != SCOPE]
    scope = [(m, p) for m, p in readings if m.expect == SCOPE]
    wrong = Counter()
    for message, predicted in readings:
        label = message.intent or SCOPE
        if message.expect == SCOPE:
            mistaken = behaviour_of(predicted) not in (SCOPE, PERSON, ASK)
        else:
            mistaken = predicted != message.intent
        if mistaken:
            wrong[(label, predicted or "none")] += 1
    return {
        "messages": len(readings),
        "right_behaviour_pct": _percent(
            sum(is_right_behaviour(m, p) for m, p in readings), len(readings)),
        "intent_accuracy_pct": _percent(sum(p == m.intent for m, p in in_scope), len(in_scope)),
        "wrong_confident_answers_pct": _percent(
            sum(is_wrong_confident_answer(m.expect, m.intent, p) for m, p in readings),
            len(readings)),
        "out_of_scope_handled_pct": _percent(
            sum(behaviour_of(p) in (SCOPE, PERSON, ASK) for _, p in scope), len(scope)),
        "top_wrong_readings": [
            {"expected": label, "predicted": predicted, "count": count}
            for (label, predicted), count in sorted(
                wrong.items(), key=lambda item: (-item[1], item[0]))[:top]
        ],
    }


def by_tag(readings: Iterable[tuple[EvalMessage, str | None]]) -> dict[str, dict[str, Any]]:
    """Tag -> how many messages carry it and the right behaviour % among them."""
    readings = list(readings)
    figures = {}
    for tag in sorted(TAGS):
        tagged = [(m, p) for m, p in readings if tag in m.tags]
        if tagged:
            figures[tag] = {"messages": len(tagged), "right_behaviour_pct": _percent(
                sum(is_right_behaviour(m, p) for m, p in tagged), len(tagged))}
    return figures


def misreadings(readings: Iterable[tuple[EvalMessage, str | None]]) -> list[dict[str, Any]]:
    """Every message the bot would not handle rightly, with what it read (for the trainers)."""
    return [
        {"language": m.language, "text": m.text, "expect": m.expect, "intent": m.intent,
         "predicted": p, "wrong_confident": is_wrong_confident_answer(m.expect, m.intent, p)}
        for m, p in readings if not is_right_behaviour(m, p)
    ]


# ---- training and parsing -----------------------------------------------------------------

def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))
    return env


def _rasa(*args: str) -> list[str]:
    """The venv's `rasa` (beside this interpreter), or `python -m rasa`."""
    script = Path(sys.executable).parent / "rasa"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "rasa", *args]


def fingerprint(config_text: str, nlu_dir: Path = NLU_DIR) -> str:
    """Hash of what an NLU model depends on: the config, data/nlu and the Rasa version."""
    import rasa

    digest = hashlib.sha256(f"rasa {rasa.__version__}\n".encode())
    digest.update(config_text.encode())
    for path in sorted(p for p in nlu_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(nlu_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def trained_model(config_text: str, retrain: bool = False) -> tuple[Path, float | None]:
    """An NLU model for `config_text` on data/nlu: (path, training seconds or None if cached)."""
    key = fingerprint(config_text)
    model = CACHE_DIR / key / "nlu.tar.gz"
    if model.exists() and not retrain:
        return model, None
    with tempfile.TemporaryDirectory(prefix="nightdesk-judgement-") as tmp_name:
        tmp = Path(tmp_name)
        config = tmp / "config.yml"  # Rasa may write its auto-configured keys into it
        config.write_text(config_text, encoding="utf-8")
        started = time.monotonic()
        result = subprocess.run(
            _rasa("train", "nlu", "--config", str(config), "--nlu", str(NLU_DIR),
                  "--out", str(tmp / "out"), "--fixed-model-name", "nlu"),
            cwd=tmp, env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True,
        )
        seconds = time.monotonic() - started
        if result.returncode != 0:
            raise SystemExit(f"rasa train nlu failed:\n{result.stderr[-3000:]}")
        model.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(tmp / "out" / "nlu.tar.gz"), model)
    return model, seconds


def parse_all(model: Path, texts: Sequence[str]) -> list[str | None]:
    """The final intent name of each text, as the trained NLU model reads it on its own."""
    return [(parsed.get("intent") or {}).get("name") for parsed in parse_whole(model, texts)]


def parse_whole(model: Path, texts: Sequence[str]) -> list[dict[str, Any]]:
    """What the trained NLU model outputs for each text read on its own."""
    import logging

    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # unconfigured, Rasa's structlog prints every parse at debug level to stdout
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)

    async def run() -> list[dict[str, Any]]:
        agent = Agent.load(str(model))
        return [await agent.parse_message(text) for text in texts]

    return asyncio.run(run())


def cross_validation() -> dict[str, float]:
    """`rasa test nlu --cross-validation` (1 run, 3 folds) with config.yml on data/nlu."""
    with tempfile.TemporaryDirectory(prefix="nightdesk-cv-") as tmp_name:
        out = Path(tmp_name) / "results"
        started = time.monotonic()
        result = subprocess.run(
            _rasa("test", "nlu", "--nlu", str(NLU_DIR), "--config", str(PROJECT / "config.yml"),
                  "--cross-validation", "--runs", "1", "--folds", "3", "--out", str(out),
                  "--no-plot"),
            cwd=PROJECT, env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True,
        )
        if result.returncode != 0:
            raise SystemExit(f"rasa test nlu --cross-validation failed:\n{result.stderr[-3000:]}")
        report = json.loads((out / "intent_report.json").read_text())
    return {
        "intent_accuracy": round(report["accuracy"], 4),
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "weighted_f1": round(report["weighted avg"]["f1-score"], 4),
        "seconds": round(time.monotonic() - started),
    }


# ---- report -------------------------------------------------------------------------------

def _fmt(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:5.1f}%"


def print_figures(label: str, figures: dict[str, dict[str, Any]]) -> None:
    print(f"== {label}")
    print(f"{'':8} {'n':>4}  right behaviour  intent acc  wrong confident  out-of-scope handled")
    for part, result in figures.items():
        print(f"{part:8} {result['messages']:>4}  {_fmt(result['right_behaviour_pct']):>15}"
              f"  {_fmt(result['intent_accuracy_pct']):>10}"
              f"  {_fmt(result['wrong_confident_answers_pct']):>15}"
              f"  {_fmt(result['out_of_scope_handled_pct']):>20}")
    print("   most common wrong readings (overall): expected -> predicted")
    for row in figures["overall"]["top_wrong_readings"]:
        print(f"   {row['count']:>4}  {row['expected']} -> {row['predicted']}")


def main() -> None:
    arguments = sys.argv[1:]
    retrain = "--retrain" in arguments
    started = time.monotonic()
    eval_set = load_eval_set()
    messages = [message for language in LANGUAGES for message in eval_set[language]]
    pipelines = {
        "nightdesk config.yml": (PROJECT / "config.yml").read_text(encoding="utf-8"),
        "rasa default pipeline": DEFAULT_CONFIG,
    }
    if "--ours-only" in arguments:
        del pipelines["rasa default pipeline"]
    report: dict[str, Any] = {
        "eval_set": {language: len(eval_set[language]) for language in LANGUAGES},
        "pipelines": {},
    }
    for label, config_text in pipelines.items():
        model, seconds = trained_model(config_text, retrain=retrain)
        print(f"{label}: model {model}"
              + (f" (trained in {seconds:.0f} s)" if seconds is not None else " (cached)"))
        intents = parse_all(model, [message.text for message in messages])
        readings = list(zip(messages, intents, strict=True))
        figures = {
            language: score([r for r in readings if r[0].language == language])
            for language in LANGUAGES
        }
        figures["overall"] = score(readings)
        tags = by_tag(readings)
        print_figures(label, figures)
        print("   right behaviour by tag: " + ", ".join(
            f"{tag} {_fmt(row['right_behaviour_pct']).strip()} of {row['messages']}"
            for tag, row in tags.items()))
        report["pipelines"][label] = {
            "training_seconds": None if seconds is None else round(seconds, 1),
            "figures": figures,
            "by_tag": tags,
            "misreadings": misreadings(readings),
        }
    if "--cross-validation" in arguments:
        print("== rasa test nlu --cross-validation --runs 1 --folds 3 (config.yml, data/nlu)")
        cv = cross_validation()
        print(f"test folds: intent accuracy {cv['intent_accuracy']:.3f}  "
              f"macro F1 {cv['macro_f1']:.3f}  weighted F1 {cv['weighted_f1']:.3f}  "
              f"({cv['seconds']} s)")
        report["cross_validation"] = cv
    report["seconds"] = round(time.monotonic() - started)
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"figures written to {RESULTS_FILE.relative_to(PROJECT)} ({report['seconds']} s)")


if __name__ == "__main__":
    main()
