"""The regression gate's stories half: the live and the candidate model on the test stories.

Each model plays every conversation of `tests/stories/` (every file, whatever language its
customers write in) as `rasa test core` does: the
customer's turns are taken as the story writes them (intent and entities) and the model's
policies predict each bot action; a story passes when every action is the story's. How the
customer's words are read is the NLU half's job, on the held-apart files with its tolerance:
read end to end too, the stories would refuse a sound candidate whenever a nonsense line
("blorp zzkx") crosses the fallback threshold the other way. Stories that name an
intent or action a model's domain does not know are not played by that model (the live model
does not know a new intent); the two are compared on the stories both play.

The candidate is refused when its share of passed stories is lower than the live model's by
more than the tolerance, or when its share of right actions is; the report names the stories
that now fail and those that now pass.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from rasa.core.agent import Agent


@dataclass(frozen=True)
class Story:
    """A test story: its name, what it needs the model to know, and its YAML."""

    name: str
    intents: frozenset[str]
    actions: frozenset[str]
    data: dict[str, Any]


def _named(steps: Iterable[dict[str, Any]], key: str) -> frozenset[str]:
    return frozenset(str(step[key]) for step in steps if isinstance(step, dict) and key in step)


def read_test_stories(directory: Path) -> list[Story]:
    """The stories of every YAML file under `directory`."""
    stories = []
    for path in sorted(directory.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("stories") or []:
            steps = item.get("steps") or []
            stories.append(Story(str(item["story"]), _named(steps, "intent"),
                                 _named(steps, "action"), item))
    return stories


@dataclass(frozen=True)
class StoryOutcome:
    """How one model played one story: passed or not, and its bot actions predicted right."""

    passed: bool
    right_actions: int
    actions: int


@dataclass(frozen=True)
class StoriesResult:
    """How one model played the test stories, by story name."""

    outcomes: dict[str, StoryOutcome]
    unknown: list[str] = field(default_factory=list)
    """Stories naming an intent or action the model does not know: not played."""

    @property
    def passed(self) -> list[str]:
        """The stories played without a wrong prediction."""
        return sorted(name for name, outcome in self.outcomes.items() if outcome.passed)

    @property
    def failed(self) -> list[str]:
        """The stories with at least one wrong prediction."""
        return sorted(name for name, outcome in self.outcomes.items() if not outcome.passed)

    def passed_share(self, names: Iterable[str]) -> float:
        """The share of the named stories passed."""
        names = list(names)
        return sum(self.outcomes[n].passed for n in names) / len(names) if names else 1.0

    def action_share(self, names: Iterable[str]) -> float:
        """The share of the named stories' bot actions predicted right."""
        outcomes = [self.outcomes[n] for n in names]
        total = sum(o.actions for o in outcomes)
        return sum(o.right_actions for o in outcomes) / total if total else 1.0


def play_stories(stories: list[Story], agent: Agent) -> StoriesResult:
    """Plays the stories the agent's domain knows (the story's intents, the model's actions)."""
    domain = agent.domain
    known_actions = set(domain.action_names_or_texts)
    playable = [s for s in stories
                if s.intents <= set(domain.intents) and s.actions <= known_actions]
    unknown = [s.name for s in stories if s not in playable]
    if not playable:
        return StoriesResult({}, unknown)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "test_stories.yml"
        path.write_text(yaml.safe_dump({"version": "3.1", "stories": [s.data for s in playable]},
                                       allow_unicode=True, sort_keys=False), encoding="utf-8")
        return asyncio.run(_play(path, agent, unknown))


async def _play(path: Path, agent: Agent, unknown: list[str]) -> StoriesResult:
    # rasa.core.test's own steps (Rasa 3.6), kept per story rather than summed as `rasa test`
    # does, so that the stories which changed can be named
    from rasa.core.test import _create_data_generator, _predict_tracker_actions

    generator = _create_data_generator(str(path), agent, use_conversation_test_files=True)
    outcomes = {}
    for tracker in generator.generate_story_trackers():
        store, _, _, _ = await _predict_tracker_actions(tracker, agent, use_e2e=False)
        right = sum(t == p for t, p in zip(store.action_targets, store.action_predictions,
                                           strict=True))
        outcomes[tracker.sender_id] = StoryOutcome(
            not store.check_prediction_target_mismatch(), right, len(store.action_targets))
    return StoriesResult(outcomes, unknown)


@dataclass
class StoriesComparison:
    """The two models on the stories both play, and the verdict on the candidate."""

    live: StoriesResult
    candidate: StoriesResult
    shared: list[str]
    now_failing: list[str]
    now_passing: list[str]
    refusals: list[str] = field(default_factory=list)

    def as_text(self) -> list[str]:
        """The report's lines."""
        live, candidate = self.live, self.candidate
        lines = [
            f"{'stories passed (shared)':24} {live.passed_share(self.shared):>8.3f} "
            f"{candidate.passed_share(self.shared):>10.3f}   of {len(self.shared)}",
            f"{'actions right (shared)':24} {live.action_share(self.shared):>8.3f} "
            f"{candidate.action_share(self.shared):>10.3f}",
        ]
        only = [name for name in candidate.outcomes if name not in self.shared]
        if only:
            lines.append(f"Stories only the candidate can play: {len(only)}, passed "
                         f"{sum(candidate.outcomes[n].passed for n in only)}")
        lines += [f"  - now fails: {name}" for name in self.now_failing]
        lines += [f"  + now passes: {name}" for name in self.now_passing]
        lines += [f"  ! the candidate cannot play: {name}" for name in candidate.unknown]
        return lines


def compare_stories(live: StoriesResult, candidate: StoriesResult,
                    tolerance: float) -> StoriesComparison:
    """The verdict on the candidate's stories against the live model's."""
    shared = sorted(set(live.outcomes) & set(candidate.outcomes))
    comparison = StoriesComparison(
        live, candidate, shared,
        now_failing=[n for n in shared
                     if live.outcomes[n].passed and not candidate.outcomes[n].passed],
        now_passing=[n for n in shared
                     if candidate.outcomes[n].passed and not live.outcomes[n].passed])
    for what, share in (("stories passed", StoriesResult.passed_share),
                        ("actions right", StoriesResult.action_share)):
        before, after = share(live, shared), share(candidate, shared)
        if after < before - tolerance:
            comparison.refusals.append(f"{what} fell from {before:.3f} to {after:.3f}")
    if set(candidate.unknown) - set(live.unknown):
        comparison.refusals.append("the candidate cannot play stories the live model plays")
    return comparison
