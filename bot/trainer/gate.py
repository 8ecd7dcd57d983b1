"""The regression gate: the live and the candidate model on the held-apart test data.

This module is its NLU half and the verdict; `bot.trainer.story_gate` plays the test stories.

The held-apart data exists per language: `tests/nlu/test_nlu_<language>.yml` for each of the
brand's languages. Both models read every example of each; the report gives, per language,
the intent accuracy and the macro F1 of both, then per intent the F1 of both, the
predictions that changed (better or worse), and where the new intents are confused with old
ones. The bars hold in each language on its own (a better English never hides a worse
Italian): the candidate is refused when, in any language, its accuracy or macro F1 is lower
than the live model's by more than `trainer.yml`'s tolerance, or an old intent's F1 drops by
more than `gate.intent_f1_drop` (with a dozen test examples an intent, one example read
differently moves its F1 by about 0.05: the bar sits above that noise; an intent with fewer
held-apart examples in a language, `MIN_SUPPORT_FOR_F1`, is judged by the language's figures
only). Every figure and
every refusal is named with its language. Wrong confident answers are counted too (a
substantive answer to another question than the one asked, `bot.understanding.behaviour`):
the candidate is refused when it gives more of them than the live model in any language.

Examples of intents the live model does not know (the new ones) count for the candidate only;
comparing the two is done on the intents both know.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from bot.trainer.languages import named
from bot.trainer.story_gate import StoriesComparison
from bot.trainer.training_data import held_apart_file
from bot.understanding.behaviour import behaviour_of, is_wrong_confident_answer

if TYPE_CHECKING:
    from rasa.core.agent import Agent

MIN_SUPPORT_FOR_F1 = 12
"""Held-apart examples an intent needs in a language before its own F1 can refuse a
candidate: the `intent_f1_drop` bar sits above the noise of a dozen examples, not of three
(its examples still count in the language's accuracy and macro F1)."""

WRONG_CONFIDENT_NOISE = 0.01
"""How many more wrong confident answers than the live model's, per held-apart example, a
retrained candidate gives by chance (one per hundred examples; any rise on fewer than a
hundred): a rise beyond it refuses."""

Reader = Callable[[Sequence[str]], list[tuple[str, float]]]
"""Reads texts with a model: the intent and confidence of each."""

_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    """A test example and the intent it should be read as."""

    text: str
    intent: str


class GateError(ValueError):
    """The gate cannot run: the message says what is missing."""


def held_apart_by_language(project_dir: Path,
                           languages: Sequence[str]) -> dict[str, list[Example]]:
    """The held-apart examples of each brand language, in the brand's order.

    Raises:
        GateError: when a language has no test file, or one without examples.
    """
    found = {}
    for code in languages:
        path = project_dir / held_apart_file(code)
        if not path.exists():
            raise GateError(f"{held_apart_file(code)} is missing: the gate needs held-apart "
                            f"examples in every brand language ({named([code])} has none)")
        found[code] = held_apart_examples(path)
        if not found[code]:
            raise GateError(f"{held_apart_file(code)} has no examples")
    return found


def held_apart_examples(path: Path) -> list[Example]:
    """The examples of an NLU test file, entity marks removed."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    for item in data.get("nlu") or []:
        if "intent" not in item:
            continue
        for line in str(item.get("examples") or "").splitlines():
            if line.startswith("- "):
                found.append(Example(_ENTITY.sub(r"\1", line[2:]).strip(), str(item["intent"])))
    return found


@dataclass(frozen=True)
class IntentScore:
    """Precision, recall and F1 of one intent, with its number of test examples."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    """How one model read the test examples."""

    predictions: list[str]
    accuracy: float
    macro_f1: float
    per_intent: dict[str, IntentScore]
    wrong_confident: int = 0
    """Examples answered with content about another question (never a handoff or a
    question back)."""


def _score(expected: Sequence[str], predicted: Sequence[str]) -> Evaluation:
    intents = sorted(set(expected))
    per_intent = {}
    for intent in intents:
        hits = sum(e == p == intent for e, p in zip(expected, predicted, strict=True))
        said = sum(p == intent for p in predicted)
        support = sum(e == intent for e in expected)
        precision = hits / said if said else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[intent] = IntentScore(round(precision, 4), round(recall, 4), round(f1, 4),
                                         support)
    right = sum(e == p for e, p in zip(expected, predicted, strict=True))
    accuracy = right / len(expected) if expected else 0.0
    macro = sum(s.f1 for s in per_intent.values()) / len(per_intent) if per_intent else 0.0
    wrong = sum(is_wrong_confident_answer(behaviour_of(e), e, p)
                for e, p in zip(expected, predicted, strict=True))
    return Evaluation(list(predicted), round(accuracy, 4), round(macro, 4), per_intent, wrong)


def evaluate(examples: Sequence[Example], read: Reader) -> Evaluation:
    """Reads the examples with a model and scores what it read."""
    predicted = [intent for intent, _ in read([example.text for example in examples])]
    return _score([example.intent for example in examples], predicted)


@dataclass(frozen=True)
class Change:
    """A test example the two models read differently."""

    text: str
    expected: str
    live: str
    candidate: str

    @property
    def better(self) -> bool:
        """Whether the candidate got it right where the live model did not."""
        return self.candidate == self.expected


@dataclass
class LanguageComparison:
    """The NLU half for one language: both models on its held-apart file, and its refusals."""

    language: str
    live: Evaluation
    candidate: Evaluation
    compared_live: Evaluation
    compared_candidate: Evaluation
    changes: list[Change]
    confusion_with_new: dict[str, dict[str, int]]
    new_intents: list[str]
    refusals: list[str] = field(default_factory=list)

    @property
    def examples(self) -> int:
        """How many held-apart examples of the language were read."""
        return len(self.candidate.predictions)

    def as_text(self) -> list[str]:
        """The language's part of the report, each figure named with the language."""
        code = self.language
        lines = [
            f"NLU, {named([code])}: {self.examples} held-apart examples "
            f"({held_apart_file(code)})",
            f"{'':24} {'live':>8} {'candidate':>10}",
            f"{f'{code} accuracy (shared)':24} {self.compared_live.accuracy:>8.3f} "
            f"{self.compared_candidate.accuracy:>10.3f}",
            f"{f'{code} macro F1 (shared)':24} {self.compared_live.macro_f1:>8.3f} "
            f"{self.compared_candidate.macro_f1:>10.3f}",
            f"{f'{code} accuracy (all)':24} {'':>8} {self.candidate.accuracy:>10.3f}",
            f"{f'{code} wrong confident':24} {self.compared_live.wrong_confident:>8} "
            f"{self.compared_candidate.wrong_confident:>10}",
            "",
            f"{f'{code} intent':24} {'F1 live':>8} {'F1 cand.':>10} {'examples':>9}",
        ]
        for intent, score in sorted(self.candidate.per_intent.items()):
            old = None if intent in self.new_intents else self.live.per_intent[intent]
            lines.append(f"{intent:24} {(f'{old.f1:.3f}' if old else 'new'):>8} "
                         f"{score.f1:>10.3f} {score.support:>9}")
        better = [c for c in self.changes if c.better]
        worse = [c for c in self.changes if not c.better]
        lines.append(f"\n{code} changed predictions: {len(better)} better, {len(worse)} worse")
        for change in self.changes:
            mark = "+" if change.better else "-"
            lines.append(f"  {mark} \"{change.text}\" ({change.expected}): {change.live} -> "
                         f"{change.candidate}")
        for new, confused in self.confusion_with_new.items():
            pairs = ", ".join(f"{other} {count}" for other, count in confused.items()) or "none"
            lines.append(f"Confusion of {new} with old intents ({code}): {pairs}")
        return lines

    def as_json(self) -> dict[str, object]:
        """The language's figures, for the verdict file."""
        return {
            "examples": self.examples,
            "accuracy": {"live": self.compared_live.accuracy,
                         "candidate": self.compared_candidate.accuracy,
                         "candidate_all": self.candidate.accuracy},
            "macro_f1": {"live": self.compared_live.macro_f1,
                         "candidate": self.compared_candidate.macro_f1},
            "wrong_confident": {"live": self.compared_live.wrong_confident,
                                "candidate": self.compared_candidate.wrong_confident,
                                "candidate_all": self.candidate.wrong_confident},
            "intents": {intent: {"live": None if intent in self.new_intents
                                 else self.live.per_intent[intent].f1,
                                 "candidate": score.f1, "examples": score.support}
                        for intent, score in sorted(self.candidate.per_intent.items())},
            "new_intents": self.new_intents,
            "changed": {"better": sum(c.better for c in self.changes),
                        "worse": sum(not c.better for c in self.changes)},
            "refusals": self.refusals,
        }


@dataclass
class GateReport:
    """The comparison in every brand language (and on the stories), and the verdict."""

    languages: list[LanguageComparison]
    tolerance: float
    intent_f1_drop: float
    stories: StoriesComparison | None = None

    @property
    def passed(self) -> bool:
        """Whether the candidate may be promoted (every language and, when played, the stories)."""
        return not self.all_refusals

    @property
    def refusals(self) -> list[str]:
        """Why the NLU half refuses the candidate, each reason named with its language."""
        return [reason for language in self.languages for reason in language.refusals]

    @property
    def all_refusals(self) -> list[str]:
        """Why the candidate is refused: the NLU's reasons, then the stories'."""
        return self.refusals + (self.stories.refusals if self.stories else [])

    def language(self, code: str) -> LanguageComparison:
        """One language's comparison."""
        return next(language for language in self.languages if language.language == code)

    def as_text(self) -> str:
        """The report for a terminal."""
        lines: list[str] = []
        for language in self.languages:
            lines += [*language.as_text(), ""]
        if self.stories is not None:
            lines += [f"{'test stories':24} {'live':>8} {'candidate':>10}",
                      *self.stories.as_text()]
        verdict = "PASSED" if self.passed else "REFUSED: " + "; ".join(self.all_refusals)
        lines.append(f"\nGate (tolerance {self.tolerance:.3f}, an intent's F1 "
                     f"{self.intent_f1_drop:.3f}, in each of "
                     f"{', '.join(language.language for language in self.languages)}): "
                     f"{verdict}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        """The figures by language, the stories' and the verdict, for the verdict file."""
        stories = None
        if self.stories is not None:
            shared = self.stories.shared
            stories = {"shared": len(shared),
                       "passed": {"live": self.stories.live.passed_share(shared),
                                  "candidate": self.stories.candidate.passed_share(shared)},
                       "actions_right": {
                           "live": self.stories.live.action_share(shared),
                           "candidate": self.stories.candidate.action_share(shared)},
                       "now_failing": self.stories.now_failing,
                       "refusals": self.stories.refusals}
        return {"passed": self.passed, "tolerance": self.tolerance,
                "intent_f1_drop": self.intent_f1_drop,
                "languages": {language.language: language.as_json()
                              for language in self.languages},
                "stories": stories, "refusals": self.all_refusals}


def compare(language: str, examples: Sequence[Example], live: Evaluation,
            candidate: Evaluation, live_intents: set[str], tolerance: float,
            intent_f1_drop: float = 0.1, min_support: int = 0) -> LanguageComparison:
    """The verdict in one language on the candidate against the live model.

    Args:
        language: the language of the examples (it names every refusal).
        examples: the language's held-apart examples, read by both models.
        live: how the live model read them.
        candidate: how the candidate read them.
        live_intents: the intents the live model knows.
        tolerance: how much lower the candidate's accuracy and macro F1 may be.
        intent_f1_drop: how much lower an old intent's F1 may be, when the candidate also
            reads fewer of the intent's own examples rightly (a fall in precision alone is
            other intents' examples read as it, counted against those intents).
        min_support: the held-apart examples an intent needs for its F1 to refuse
            (`MIN_SUPPORT_FOR_F1` in the gate; 0: every intent).
    """
    new_intents = {e.intent for e in examples} - live_intents
    shared = [i for i, e in enumerate(examples) if e.intent not in new_intents]
    expected = [examples[i].intent for i in shared]
    compared_live = _score(expected, [live.predictions[i] for i in shared])
    compared_candidate = _score(expected, [candidate.predictions[i] for i in shared])
    changes = [Change(examples[i].text, examples[i].intent, live.predictions[i],
                      candidate.predictions[i])
               for i in range(len(examples))
               if live.predictions[i] != candidate.predictions[i]]
    confusion: dict[str, dict[str, int]] = {}
    for new in sorted(new_intents):
        counts: Counter = Counter()
        for example, predicted in zip(examples, candidate.predictions, strict=True):
            if example.intent == new and predicted != new:
                counts[predicted] += 1  # the new intent's examples read as an old one
            elif example.intent != new and predicted == new:
                counts[example.intent] += 1  # an old intent's examples read as the new one
        confusion[new] = dict(counts.most_common())
    report = LanguageComparison(language, live, candidate, compared_live, compared_candidate,
                                changes, confusion, sorted(new_intents))
    if compared_candidate.accuracy < compared_live.accuracy - tolerance:
        report.refusals.append(f"{language}: accuracy fell from {compared_live.accuracy:.3f} "
                               f"to {compared_candidate.accuracy:.3f}")
    if compared_candidate.macro_f1 < compared_live.macro_f1 - tolerance:
        report.refusals.append(f"{language}: macro F1 fell from {compared_live.macro_f1:.3f} "
                               f"to {compared_candidate.macro_f1:.3f}")
    allowed_rise = int(WRONG_CONFIDENT_NOISE * len(expected))
    if compared_candidate.wrong_confident > compared_live.wrong_confident + allowed_rise:
        report.refusals.append(
            f"{language}: wrong confident answers rose from {compared_live.wrong_confident} "
            f"to {compared_candidate.wrong_confident}")
    for intent, old in compared_live.per_intent.items():
        new_score = compared_candidate.per_intent[intent]
        if old.support < min_support:
            continue  # one example read differently moves its F1 by more than the bar
        if new_score.recall >= old.recall:
            # only other intents' examples now read as this one: counted against their
            # recall, the accuracy and the wrong confident answers, not twice here
            continue
        if new_score.f1 < old.f1 - intent_f1_drop:
            report.refusals.append(f"{language}: {intent} F1 fell from {old.f1:.3f} to "
                                   f"{new_score.f1:.3f}")
    return report


def load_agent(model_path: Path) -> Agent:
    """A trained Rasa model, loaded in this process (loads Rasa), its logging kept to warnings.

    Loaded for answering, without Rasa's training step (`bot.understanding.model_loading`).
    """
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from bot.understanding.model_loading import install_inference_loading

    install_inference_loading()
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    return Agent.load(model_path)


def agent_reader(agent: Agent) -> Reader:
    """A loaded Rasa model as a `Reader`."""
    import asyncio

    def read(texts: Sequence[str]) -> list[tuple[str, float]]:
        async def all_of_them() -> list[tuple[str, float]]:
            found = []
            for text in texts:
                intent = (await agent.parse_message(text)).get("intent") or {}
                found.append((str(intent.get("name")), float(intent.get("confidence") or 0)))
            return found

        return asyncio.run(all_of_them())

    return read
