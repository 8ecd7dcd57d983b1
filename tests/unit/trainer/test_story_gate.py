"""The gate's stories half: which stories a model plays, and the verdict on the candidate."""

from __future__ import annotations

from bot.trainer.gate import Evaluation, GateReport, compare
from bot.trainer.story_gate import (
    StoriesResult,
    StoryOutcome,
    compare_stories,
    read_test_stories,
)

PASS, FAIL = StoryOutcome(True, 3, 3), StoryOutcome(False, 2, 3)


def result(unknown: list[str] | None = None, **outcomes: StoryOutcome) -> StoriesResult:
    return StoriesResult(outcomes, unknown or [])


def test_test_stories_are_read_with_what_they_need_the_model_to_know(tmp_path):
    (tmp_path / "test_flows.yml").write_text(
        'version: "3.1"\nstories:\n'
        "  - story: gift wrap\n    steps:\n"
        "      - user: |\n          can you gift wrap it\n        intent: gift_wrapping\n"
        "      - action: utter_gift_wrapping\n"
        "  - story: hello\n    steps:\n      - intent: greet\n      - action: utter_greet\n")
    gift, hello = read_test_stories(tmp_path)
    assert gift.name == "gift wrap" and gift.intents == {"gift_wrapping"}
    assert gift.actions == {"utter_gift_wrapping"} and gift.data["story"] == "gift wrap"
    assert hello.intents == {"greet"} and hello.actions == {"utter_greet"}


def test_the_same_stories_played_alike_pass():
    live = result(a=PASS, b=PASS, c=FAIL)
    comparison = compare_stories(live, live, tolerance=0.0)
    assert comparison.refusals == [] and comparison.shared == ["a", "b", "c"]
    assert comparison.now_failing == [] and comparison.now_passing == []


def test_a_story_that_now_fails_refuses_the_candidate_and_is_named():
    live = result(a=PASS, b=PASS, c=PASS, d=FAIL)
    candidate = result(a=PASS, b=FAIL, c=PASS, d=PASS)
    comparison = compare_stories(live, candidate, tolerance=0.02)
    assert comparison.now_failing == ["b"] and comparison.now_passing == ["d"]
    assert comparison.refusals == []  # as many stories pass, as many actions are right
    worse = compare_stories(live, result(a=PASS, b=FAIL, c=FAIL, d=FAIL), tolerance=0.02)
    assert worse.refusals[0] == "stories passed fell from 0.750 to 0.250"
    text = "\n".join(worse.as_text())
    assert "now fails: b" in text and "now fails: c" in text


def test_within_the_tolerance_one_story_of_many_may_change():
    live = result(**{f"s{i}": PASS for i in range(60)})
    candidate = result(**{f"s{i}": PASS if i else FAIL for i in range(60)})
    assert compare_stories(live, candidate, tolerance=0.02).refusals == []
    assert compare_stories(live, candidate, tolerance=0.0).refusals


def test_stories_of_a_new_intent_count_for_the_candidate_only():
    live = result(unknown=["gift wrap"], a=PASS)
    candidate = result(a=PASS, **{"gift wrap": FAIL})
    comparison = compare_stories(live, candidate, tolerance=0.0)
    assert comparison.shared == ["a"] and comparison.refusals == []
    assert "Stories only the candidate can play: 1, passed 0" in comparison.as_text()


def test_a_candidate_that_cannot_play_a_story_the_live_model_plays_is_refused():
    comparison = compare_stories(result(a=PASS, b=PASS), result(unknown=["b"], a=PASS), 0.5)
    assert comparison.refusals == ["the candidate cannot play stories the live model plays"]
    assert "the candidate cannot play: b" in "\n".join(comparison.as_text())


def test_the_gate_report_refuses_on_the_stories_even_when_the_nlu_passes():
    nlu = Evaluation([], 1.0, 1.0, {})
    report = GateReport([compare(code, [], nlu, nlu, {"greet"}, tolerance=0.0)
                         for code in ("it", "en")], 0.0, 0.1)
    report.stories = compare_stories(result(a=PASS), result(a=FAIL), tolerance=0.0)
    assert report.refusals == [] and not report.passed
    assert "REFUSED: stories passed fell from 1.000 to 0.000" in report.as_text()
    assert "test stories" in report.as_text()
