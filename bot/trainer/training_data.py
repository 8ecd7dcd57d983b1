"""Writing what a trainer decided into the Rasa project: examples, new intents, answers, rules.

* The NLU data exists per language: `data/nlu/<language>/*.yml` (one file per topic), beside
  the language-neutral files of `data/nlu/` (regexes, synonyms, lookups). Examples of
  language L of an intent go to the file of `data/nlu/L/` that already holds it (a new intent
  gets `data/nlu/L/<intent>.yml`); every Nth one (`trainer.yml`'s ``test_every``, at least one
  for a new intent) goes to L's held-apart `tests/nlu/test_nlu_L.yml` instead, never all to
  training.
* A new intent is added to `domain.yml` with its answer, a response ``utter_<intent>`` with
  the trainer's variations in every brand language (each variation with the condition
  ``language: L``, so that the bot answers in the conversation's language), or the handoff to
  a person; `data/rules.yml` gets the rule that answers it. An answer missing in one of the
  brand's languages refuses the intent, naming the languages missing.
* A text already among the training or test examples of any language (compared without case,
  spacing and end punctuation) is not added again.
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from bot.trainer import yaml_files
from bot.trainer.languages import brand_languages, named

INTENT_NAME = re.compile(r"[a-z][a-z0-9_]{2,49}")
HANDOFF_ACTION = "action_handoff"
LANGUAGE_SLOT = "language"
NLU_DIR = Path("data/nlu")
TEST_DIR = Path("tests/nlu")
_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_UNSAFE = re.compile(r"[\[\]{}]")


def held_apart_file(language: str) -> Path:
    """The held-apart NLU test file of a language, relative to the project."""
    return TEST_DIR / f"test_nlu_{language}.yml"


class TrainingDataError(ValueError):
    """The change was not made (or was rolled back); the message says why."""


class MissingAnswerError(TrainingDataError):
    """A new intent's answer is missing in some brand languages (`missing`, their codes)."""

    def __init__(self, message: str, missing: Sequence[str]) -> None:
        super().__init__(message)
        self.missing = list(missing)


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
class Split:
    """What one language's examples became: training, held apart, or duplicates left out."""

    language: str
    training: list[str] = field(default_factory=list)
    test: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Added:
    """What a change wrote, per language (in the brand's order)."""

    intent: str
    splits: tuple[Split, ...] = ()

    @property
    def training(self) -> list[str]:
        """The examples written for training, every language."""
        return [text for split in self.splits for text in split.training]

    @property
    def test(self) -> list[str]:
        """The examples written to the held-apart test files, every language."""
        return [text for split in self.splits for text in split.test]

    @property
    def duplicates(self) -> list[str]:
        """The texts left out as already known, every language."""
        return [text for split in self.splits for text in split.duplicates]

    @property
    def languages(self) -> list[str]:
        """The languages that had examples."""
        return [split.language for split in self.splits]

    def of(self, language: str) -> Split:
        """One language's split (empty when the language had no examples)."""
        return next((s for s in self.splits if s.language == language), Split(language))


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
    """The project's NLU data (per language), domain and rules, changed safely.

    Args:
        project_dir: the Rasa project (config.yml, domain.yml, data/, tests/nlu/).
        validate: checks the project after a change (`rasa_validate`); None when valid.
        languages: the brand's languages, the default first (None: brand.yml's).
    """

    def __init__(self, project_dir: Path,
                 validate: Callable[[Path], str | None] = rasa_validate,
                 languages: Sequence[str] | None = None) -> None:
        self.project_dir = project_dir
        self._validate = validate
        self._languages = None if languages is None else tuple(languages)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages examples and answers are written in, the brand's default first."""
        if self._languages is None:
            self._languages = brand_languages()
        return self._languages

    # ------------------------------------------------------------------ reading

    def _nlu_files(self) -> list[Path]:
        """Every NLU data file: the language-neutral ones and those of each language."""
        return sorted((self.project_dir / NLU_DIR).rglob("*.yml"))

    def _language_files(self, language: str) -> list[Path]:
        return sorted((self.project_dir / NLU_DIR / language).rglob("*.yml"))

    def _test_files(self) -> list[Path]:
        found = set((self.project_dir / TEST_DIR).glob("test_nlu_*.yml"))
        found |= {self.project_dir / held_apart_file(code) for code in self.languages}
        return sorted(path for path in found if path.exists())

    def intents(self) -> list[str]:
        """The intents of the domain, in its order."""
        return [str(name) for name in yaml_files.load(self.project_dir / "domain.yml")["intents"]]

    def known_examples(self) -> dict[str, str]:
        """Every training and test example of every language, normalized, with its intent."""
        known: dict[str, str] = {}
        for path in [*self._nlu_files(), *self._test_files()]:
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
            made = [path.parent for path in before if not path.parent.exists()]
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
                for folder in made:  # a language folder the change made, empty again
                    if folder.exists() and not any(folder.iterdir()):
                        folder.rmdir()
                raise
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _by_language(self, examples: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
        """The examples of each brand language (in the brand's order); others are refused."""
        if isinstance(examples, (str, bytes)) or not isinstance(examples, Mapping):
            raise TypeError("examples are given by language: {language: [texts]}")
        unknown = [code for code in examples if code not in self.languages]
        if unknown:
            raise TrainingDataError(f"{', '.join(map(repr, unknown))} is not a brand language "
                                    f"({', '.join(self.languages)})")
        return {code: list(examples[code]) for code in self.languages
                if code in examples and list(examples[code])}

    def _split(self, intent: str, examples: Mapping[str, Sequence[str]], test_every: int,
               at_least_one_test: bool) -> Added:
        known = set(self.known_examples())
        splits = []
        for language, texts in examples.items():
            split = Split(language)
            fresh: list[str] = []
            for text in texts:
                safe = example_text(text)
                key = normalized(safe)
                if key in known:
                    split.duplicates.append(safe)
                else:
                    known.add(key)
                    fresh.append(safe)
            for index, text in enumerate(fresh, start=1):
                (split.test if index % test_every == 0 else split.training).append(text)
            if at_least_one_test and not split.test and len(split.training) > 1:
                split.test.append(split.training.pop())
            splits.append(split)
        return Added(intent, tuple(splits))

    def _file_with(self, intent: str, language: str) -> Path:
        """The file of the language's data holding the intent (or the one it would get)."""
        for path in self._language_files(language):
            items = (yaml_files.load(path) or {}).get("nlu") or []
            if any(item.get("intent") == intent for item in items):
                return path
        return self.project_dir / NLU_DIR / language / f"{intent}.yml"

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
            path.parent.mkdir(parents=True, exist_ok=True)
        items = data.setdefault("nlu", CommentedSeq())
        item = next((i for i in items if i.get("intent") == intent), None)
        if item is None:
            items.append(CommentedMap([("intent", intent), ("examples", _block(texts))]))
            _blank_line_before_last(items)
        else:
            item["examples"] = _block([*_examples_of(item.get("examples")), *texts])
        yaml_files.save(path, data, like)

    def _write_split(self, added: Added, files: Mapping[str, Path], header: str) -> None:
        for split in added.splits:
            self._append_examples(files[split.language], added.intent, split.training, header)
            self._append_examples(self.project_dir / held_apart_file(split.language),
                                  added.intent, split.test,
                                  f"# Held-apart {named([split.language])} NLU test set. Never "
                                  "used for training.")

    def add_examples(self, intent: str, examples: Mapping[str, Iterable[str]],
                     test_every: int) -> Added:
        """Adds examples to an existing intent, each in its language's files (some to tests).

        Args:
            intent: an intent of the domain.
            examples: the texts by language ({"it": [...], "en": [...]}).
            test_every: every Nth new example of a language goes to its test file.
        """
        if intent not in self.intents():
            raise TrainingDataError(f"there is no intent {intent!r}")
        by_language = self._by_language(examples)
        files = {code: self._file_with(intent, code) for code in by_language}
        tests = [self.project_dir / held_apart_file(code) for code in by_language]
        with self._change([*files.values(), *tests]):
            added = self._split(intent, by_language, test_every, at_least_one_test=False)
            self._write_split(added, files, "# added by the trainer")
        return added

    def missing_answers(self, answers: Mapping[str, Sequence[str]]) -> list[str]:
        """The brand languages without a wording among `answers`."""
        return [code for code in self.languages
                if not any(text.strip() for text in answers.get(code) or ())]

    def create_intent(self, intent: str, examples: Mapping[str, Iterable[str]],
                      answers: Mapping[str, Sequence[str]] | None = None,
                      hand_off: bool = False, test_every: int = 4) -> Added:
        """A new intent: its examples, its answer (responses or the handoff) and its rule.

        Args:
            intent: the new intent's name.
            examples: the texts by language; one language at least needs 3 new ones.
            answers: the bot's wordings by language, every brand language given (or none,
                with `hand_off`).
            hand_off: the bot hands the intent to a person instead of answering.
            test_every: every Nth new example of a language goes to its test file (one at
                least, for each language with 2 or more).
        """
        if not INTENT_NAME.fullmatch(intent):
            raise TrainingDataError("an intent name is 3 to 50 lower-case letters, digits or "
                                    "'_', starting with a letter")
        if intent in self.intents():
            raise TrainingDataError(f"the intent {intent!r} exists already")
        from rasa.shared.core.constants import DEFAULT_INTENTS

        if intent in DEFAULT_INTENTS:  # Rasa's own rules answer these; a rule of ours would clash
            raise TrainingDataError(f"{intent!r} is one of Rasa's own intents: choose another name")
        by_language = self._by_language(examples)
        variations = {code: [" ".join(a.split()) for a in texts if a.strip()]
                      for code, texts in self._by_language(answers or {}).items()}
        variations = {code: texts for code, texts in variations.items() if texts}
        if hand_off and variations:
            raise TrainingDataError("a new intent needs its answer: response texts, or the "
                                    "handoff to a person (not both)")
        missing = [] if hand_off else self.missing_answers(variations)
        if missing and len(missing) == len(self.languages):
            raise MissingAnswerError("a new intent needs its answer: response texts in every "
                                     f"brand language ({named(self.languages)}), or the "
                                     "handoff to a person", missing)
        if missing:
            raise MissingAnswerError("a new intent needs its answer in every brand language: "
                                     f"missing in {named(missing)}", missing)
        domain_path = self.project_dir / "domain.yml"
        rules_path = self.project_dir / "data" / "rules.yml"
        files = {code: self.project_dir / NLU_DIR / code / f"{intent}.yml"
                 for code in by_language}
        tests = [self.project_dir / held_apart_file(code) for code in by_language]
        with self._change([domain_path, rules_path, *files.values(), *tests]):
            added = self._split(intent, by_language, test_every, at_least_one_test=True)
            if not any(len(s.training) >= 2 and s.test for s in added.splits):
                raise TrainingDataError("a new intent needs at least 3 new examples in one "
                                        "language (2 to train on, 1 to test with)")
            self._write_split(added, files, f"# {intent}: added by the trainer")
            self._add_to_domain(domain_path, intent, variations)
            self._add_rule(rules_path, intent, None if hand_off else f"utter_{intent}")
        return added

    @staticmethod
    def _add_to_domain(path: Path, intent: str, variations: Mapping[str, Sequence[str]]) -> None:
        """The intent, and its response: each language's wordings on the condition of it."""
        domain = yaml_files.load(path)
        domain["intents"].append(intent)
        if variations:
            responses = domain.setdefault("responses", CommentedMap())
            if f"utter_{intent}" in responses:
                raise TrainingDataError(f"the response utter_{intent} exists already")
            responses[f"utter_{intent}"] = CommentedSeq(
                CommentedMap([
                    ("condition", CommentedSeq([CommentedMap([
                        ("type", "slot"), ("name", LANGUAGE_SLOT), ("value", language)])])),
                    ("text", DoubleQuotedScalarString(text))])
                for language, texts in variations.items() for text in texts)
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
