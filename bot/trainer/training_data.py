"""Writing what a trainer decided into the Rasa project: examples, new intents, answers, rules.

* Examples of an intent go to the `data/nlu/*.yml` file that already holds it (a new intent
  gets `data/nlu/<intent>.yml`); every Nth one (`trainer.yml`'s ``test_every``, at least one
  for a new intent) goes to the held-apart `tests/nlu/test_nlu.yml` instead, never all to
  training.
* A new intent is added to `domain.yml` with its answer, a response ``utter_<intent>`` with
  the trainer's variations, or the handoff to a person; `data/rules.yml` gets the rule that
  answers it.
* A text already among the training or test examples (compared without case, spacing and
  end punctuation) is not added again.
* Every change holds a lock on the project (two trainers wait for each other, never corrupt
  a file), writes each file whole, then runs `rasa data validate`; when validation fails
  every file is put back as it was and `TrainingDataError` says why.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from bot.trainer import yaml_files

INTENT_NAME = re.compile(r"[a-z][a-z0-9_]{2,49}")
HANDOFF_ACTION = "action_handoff"
TEST_FILE = Path("tests/nlu/test_nlu.yml")
_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_UNSAFE = re.compile(r"[\[\]{}]")


class TrainingDataError(ValueError):
    """The change was not made (or was rolled back); the message says why."""


def normalized(text: str) -> str:
    """A text as compared for duplicates: entity marks, case, spacing and end marks dropped."""
    text = _ENTITY.sub(r"\1", text).casefold()
    return re.sub(r"\s+", " ", text).strip().strip("?!.,;: ")


def example_text(text: str) -> str:
    """A message made safe as one NLU example: one line, no entity brackets."""
    text = _UNSAFE.sub("", " ".join(text.split()))
    if not text:
        raise TrainingDataError("an example is empty")
    return text


@dataclass(frozen=True)
class Added:
    """What a change wrote: examples for training, for the test file, and duplicates left out."""

    intent: str
    training: list[str] = field(default_factory=list)
    test: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RASA_WARNING = re.compile(r"UserWarning: (.*)")


def validation_complaint(output: str) -> str:
    """What `rasa data validate` found, read from its output.

    Its warnings (but those that never fail a validation) and its last error line.
    """
    lines = [_ANSI.sub("", line).strip() for line in output.splitlines()]
    found = [match.group(1) for line in lines if (match := _RASA_WARNING.search(line))
             and "is not used in any story or rule" not in match.group(1)]
    errors = [line for line in lines if "ERROR" in line or "completed with errors" in line]
    return "\n".join(dict.fromkeys(found[:8] + errors[-1:]))


def rasa_validate(project_dir: Path) -> str | None:
    """Runs `rasa data validate` on the project; None when it passes, else its complaint."""
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--data", "data", "--domain",
         "domain.yml", "--config", "config.yml"],
        cwd=project_dir, capture_output=True, text=True, timeout=600,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    if result.returncode == 0:
        return None
    return (validation_complaint(result.stdout + "\n" + result.stderr)
            or f"rasa data validate exited with {result.returncode}")


def _examples_of(block: Any) -> list[str]:
    return [line[2:] for line in str(block or "").splitlines() if line.startswith("- ")]


def _blank_line_before_last(items: CommentedSeq) -> None:
    """Separates a new last item from the one before, as the project's files do."""
    if len(items) > 1:
        items.yaml_set_comment_before_after_key(len(items) - 1, before="\n")


def _block(examples: Sequence[str]) -> LiteralScalarString:
    return LiteralScalarString("".join(f"- {text}\n" for text in examples))


class TrainingData:
    """The project's NLU data, domain and rules, changed safely.

    Args:
        project_dir: the Rasa project (config.yml, domain.yml, data/, tests/nlu/).
        validate: checks the project after a change (`rasa_validate`); None when valid.
    """

    def __init__(self, project_dir: Path,
                 validate: Callable[[Path], str | None] = rasa_validate) -> None:
        self.project_dir = project_dir
        self._validate = validate

    # ------------------------------------------------------------------ reading

    def _nlu_files(self) -> list[Path]:
        return sorted((self.project_dir / "data" / "nlu").glob("*.yml"))

    def intents(self) -> list[str]:
        """The intents of the domain, in its order."""
        return [str(name) for name in yaml_files.load(self.project_dir / "domain.yml")["intents"]]

    def known_examples(self) -> dict[str, str]:
        """Every training and test example, normalized, with its intent."""
        known: dict[str, str] = {}
        for path in [*self._nlu_files(), self.project_dir / TEST_FILE]:
            if not path.exists():
                continue
            for item in (yaml_files.load(path) or {}).get("nlu") or []:
                if "intent" in item:
                    for text in _examples_of(item.get("examples")):
                        known.setdefault(normalized(text), str(item["intent"]))
        return known

    # ------------------------------------------------------------------ changing

    @contextmanager
    def _change(self, paths: Iterable[Path]) -> Iterator[None]:
        """Holds the project lock; puts `paths` back as they were if the change fails."""
        lock_path = self.project_dir / ".trainer.lock"
        with open(lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            before = {path: path.read_bytes() if path.exists() else None for path in paths}
            try:
                yield
                complaint = self._validate(self.project_dir)
                if complaint:
                    raise TrainingDataError(f"rasa data validate refused the change:\n"
                                            f"{complaint}")
            except BaseException:
                for path, content in before.items():
                    if content is None:
                        path.unlink(missing_ok=True)
                    else:
                        path.write_bytes(content)
                raise
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _split(self, intent: str, texts: Iterable[str], test_every: int,
               at_least_one_test: bool) -> Added:
        known = self.known_examples()
        added = Added(intent)
        fresh: list[str] = []
        for text in texts:
            safe = example_text(text)
            key = normalized(safe)
            if key in known or key in {normalized(t) for t in fresh}:
                added.duplicates.append(safe)
            else:
                fresh.append(safe)
        for index, text in enumerate(fresh, start=1):
            (added.test if index % test_every == 0 else added.training).append(text)
        if at_least_one_test and not added.test and len(added.training) > 1:
            added.test.append(added.training.pop())
        return added

    def _file_with(self, intent: str) -> Path:
        for path in self._nlu_files():
            items = (yaml_files.load(path) or {}).get("nlu") or []
            if any(item.get("intent") == intent for item in items):
                return path
        return self.project_dir / "data" / "nlu" / f"{intent}.yml"

    def _append_examples(self, path: Path, intent: str, texts: Sequence[str],
                         header: str) -> None:
        if not texts:
            return
        if path.exists():
            like = path.read_text(encoding="utf-8")
            data = yaml_files.load(path)
        else:
            like = f'version: "3.1"\n\n{header}\nnlu:\n- intent: x\n'
            data = CommentedMap([("version", DoubleQuotedScalarString("3.1")),
                                 ("nlu", CommentedSeq())])
            data.yaml_set_start_comment(header.lstrip("# "))
        items = data.setdefault("nlu", CommentedSeq())
        item = next((i for i in items if i.get("intent") == intent), None)
        if item is None:
            items.append(CommentedMap([("intent", intent), ("examples", _block(texts))]))
            _blank_line_before_last(items)
        else:
            item["examples"] = _block([*_examples_of(item.get("examples")), *texts])
        yaml_files.save(path, data, like)

    def add_examples(self, intent: str, texts: Iterable[str], test_every: int) -> Added:
        """Adds examples to an existing intent (some to the test file)."""
        if intent not in self.intents():
            raise TrainingDataError(f"there is no intent {intent!r}")
        target = self._file_with(intent)
        test_path = self.project_dir / TEST_FILE
        with self._change([target, test_path]):
            added = self._split(intent, texts, test_every, at_least_one_test=False)
            self._append_examples(target, intent, added.training, "# added by the trainer")
            self._append_examples(test_path, intent, added.test, "# held-apart test data")
        return added

    def create_intent(self, intent: str, texts: Iterable[str], answers: Sequence[str] = (),
                      hand_off: bool = False, test_every: int = 4) -> Added:
        """A new intent: its examples, its answer (responses or the handoff) and its rule."""
        if not INTENT_NAME.fullmatch(intent):
            raise TrainingDataError("an intent name is 3 to 50 lower-case letters, digits or "
                                    "'_', starting with a letter")
        if intent in self.intents():
            raise TrainingDataError(f"the intent {intent!r} exists already")
        from rasa.shared.core.constants import DEFAULT_INTENTS

        if intent in DEFAULT_INTENTS:  # Rasa's own rules answer these; a rule of ours would clash
            raise TrainingDataError(f"{intent!r} is one of Rasa's own intents: choose another name")
        variations = [" ".join(a.split()) for a in answers if a.strip()]
        if hand_off == bool(variations):
            raise TrainingDataError("a new intent needs its answer: response texts, or the "
                                    "handoff to a person (not both)")
        domain_path = self.project_dir / "domain.yml"
        rules_path = self.project_dir / "data" / "rules.yml"
        nlu_path = self.project_dir / "data" / "nlu" / f"{intent}.yml"
        test_path = self.project_dir / TEST_FILE
        with self._change([domain_path, rules_path, nlu_path, test_path]):
            added = self._split(intent, texts, test_every, at_least_one_test=True)
            if len(added.training) < 2:
                raise TrainingDataError("a new intent needs at least 3 new examples (2 to "
                                        "train on, 1 to test with)")
            self._append_examples(nlu_path, intent, added.training,
                                  f"# {intent}: added by the trainer")
            self._append_examples(test_path, intent, added.test, "# held-apart test data")
            self._add_to_domain(domain_path, intent, variations)
            self._add_rule(rules_path, intent, None if hand_off else f"utter_{intent}")
        return added

    @staticmethod
    def _add_to_domain(path: Path, intent: str, variations: Sequence[str]) -> None:
        domain = yaml_files.load(path)
        domain["intents"].append(intent)
        if variations:
            responses = domain.setdefault("responses", CommentedMap())
            if f"utter_{intent}" in responses:
                raise TrainingDataError(f"the response utter_{intent} exists already")
            responses[f"utter_{intent}"] = CommentedSeq(
                CommentedMap([("text", text)]) for text in variations)
        yaml_files.save(path, domain)

    @staticmethod
    def _add_rule(path: Path, intent: str, response: str | None) -> None:
        rules = yaml_files.load(path)
        steps = [CommentedMap([("intent", intent)]),
                 CommentedMap([("action", response or HANDOFF_ACTION)])]
        if response is None:
            steps.append(CommentedMap([("active_loop", None)]))
        rules["rules"].append(CommentedMap([
            ("rule", f"{intent} (added by the trainer)"), ("steps", CommentedSeq(steps))]))
        _blank_line_before_last(rules["rules"])
        yaml_files.save(path, rules)
