"""The trainer's settings from `trainer.yml`, checked once when read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class TrainerSettingsError(ValueError):
    """`trainer.yml` is missing a value or has a wrong one; the message says which."""


@dataclass(frozen=True)
class TrainerSettings:
    """What the trainer's loop is tuned by.

    Attributes:
        low_confidence_below: messages read with less confidence than this are reviewed.
        look_back_days: how many days of conversations the review inbox reads.
        group_distance: the cosine distance under which messages share a group.
        stop_words: per language, the little words grouping leaves out (English has
            scikit-learn's list unless one is given here).
        test_every: every Nth labelled message goes to the NLU test file.
        gate_tolerance: how much lower than the live model's the candidate's accuracy, macro
            F1, share of test stories passed and of their actions right may be before the gate
            refuses it.
        gate_intent_f1_drop: how much lower an old intent's F1 may be.
        finetune_epoch_fraction: the share of the configured epochs a fine-tuning runs.
    """

    low_confidence_below: float = 0.6
    look_back_days: int = 30
    group_distance: float = 0.62
    stop_words: Mapping[str, frozenset[str]] = field(default_factory=dict)
    test_every: int = 4
    gate_tolerance: float = 0.02
    gate_intent_f1_drop: float = 0.1
    finetune_epoch_fraction: float = 0.5


def _number(data: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise TrainerSettingsError(f"trainer.yml: {key} must be a number from {low} to {high}")
    return float(value)


def _stop_words(review: dict[str, Any]) -> dict[str, frozenset[str]]:
    value = review.get("stop_words") or {}
    if not isinstance(value, dict) or not all(
            isinstance(code, str) and isinstance(words, list)
            and all(isinstance(word, str) for word in words) for code, words in value.items()):
        raise TrainerSettingsError("trainer.yml: review.stop_words must map a language code to "
                                   "a list of words")
    return {code: frozenset(word.casefold() for word in words) for code, words in value.items()}


def load_trainer_settings(path: Path) -> TrainerSettings:
    """Reads `trainer.yml`; a missing file means the defaults."""
    if not path.exists():
        return TrainerSettings()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise TrainerSettingsError(f"trainer.yml is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise TrainerSettingsError("trainer.yml must be a mapping")
    review = data.get("review") or {}
    if not isinstance(review, dict):
        raise TrainerSettingsError("trainer.yml: review must be a mapping")
    look_back = review.get("look_back_days", 30)
    if isinstance(look_back, bool) or not isinstance(look_back, int) or not 1 <= look_back <= 3650:
        raise TrainerSettingsError("trainer.yml: review.look_back_days must be a whole number "
                                   "from 1 to 3650")
    test_every = data.get("test_every", 4)
    if isinstance(test_every, bool) or not isinstance(test_every, int) or not 2 <= test_every <= 20:
        raise TrainerSettingsError("trainer.yml: test_every must be a whole number from 2 to 20")
    gate, train = data.get("gate") or {}, data.get("train") or {}
    if not isinstance(gate, dict) or not isinstance(train, dict):
        raise TrainerSettingsError("trainer.yml: gate and train must be mappings")
    return TrainerSettings(
        low_confidence_below=_number(review, "low_confidence_below", 0.6, 0.0, 1.0),
        look_back_days=look_back,
        group_distance=_number(review, "group_distance", 0.62, 0.05, 1.0),
        stop_words=_stop_words(review),
        test_every=test_every,
        gate_tolerance=_number(gate, "tolerance", 0.02, 0.0, 0.5),
        gate_intent_f1_drop=_number(gate, "intent_f1_drop", 0.1, 0.0, 1.0),
        finetune_epoch_fraction=_number(train, "finetune_epoch_fraction", 0.5, 0.05, 1.0),
    )
