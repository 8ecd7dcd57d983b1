"""The regression gate's NLU comparison, on readers whose answers are set by hand."""

from __future__ import annotations

from bot.trainer.gate import Example, compare, evaluate, held_apart_examples

EXAMPLES = [
    Example("where is my parcel", "order_status"),
    Example("has my order shipped", "order_status"),
    Example("how long to germany", "shipping_info"),
    Example("shipping time to spain", "shipping_info"),
    Example("can you gift wrap it", "gift_wrapping"),
    Example("gift wrap please", "gift_wrapping"),
]
LIVE = {"order_status", "shipping_info", "greet"}


def reader(answers: dict[str, str]):
    return lambda texts: [(answers[text], 0.9) for text in texts]


def test_a_candidate_that_learnt_the_new_intent_and_kept_the_rest_passes():
    live = evaluate(EXAMPLES, reader({
        "where is my parcel": "order_status", "has my order shipped": "order_status",
        "how long to germany": "shipping_info", "shipping time to spain": "order_status",
        "can you gift wrap it": "shipping_info", "gift wrap please": "nlu_fallback"}))
    candidate = evaluate(EXAMPLES, reader({
        "where is my parcel": "order_status", "has my order shipped": "order_status",
        "how long to germany": "shipping_info", "shipping time to spain": "shipping_info",
        "can you gift wrap it": "gift_wrapping", "gift wrap please": "gift_wrapping"}))
    report = compare(EXAMPLES, live, candidate, LIVE, tolerance=0.02)
    assert report.passed and report.new_intents == ["gift_wrapping"]
    # on the 4 examples both know: live 3/4 right, candidate 4/4
    assert (report.compared_live.accuracy, report.compared_candidate.accuracy) == (0.75, 1.0)
    # live: order_status P 2/3 R 1 F1 0.8; shipping_info P 1 R 1/2 F1 0.6667
    assert report.compared_live.per_intent["order_status"].f1 == 0.8
    assert report.compared_live.per_intent["shipping_info"].f1 == 0.6667
    assert [(c.text, c.better) for c in report.changes] == [
        ("shipping time to spain", True), ("can you gift wrap it", True),
        ("gift wrap please", True)]
    assert report.confusion_with_new == {"gift_wrapping": {}}
    text = report.as_text()
    assert "gift_wrapping" in text and "new" in text and "PASSED" in text


def test_a_damaged_candidate_is_refused_with_the_reasons():
    right = {e.text: e.intent for e in EXAMPLES}
    live = evaluate(EXAMPLES, reader(right))
    damaged = evaluate(EXAMPLES, reader({**right, "where is my parcel": "gift_wrapping",
                                         "has my order shipped": "gift_wrapping"}))
    report = compare(EXAMPLES, live, damaged, LIVE, tolerance=0.05, intent_f1_drop=0.1)
    assert not report.passed
    assert report.refusals[0] == "accuracy fell from 1.000 to 0.500"
    assert any(r.startswith("order_status F1 fell from 1.000 to 0.000") for r in report.refusals)
    # the new intent swallowed two old examples
    assert report.confusion_with_new == {"gift_wrapping": {"order_status": 2}}
    assert "REFUSED" in report.as_text()


def test_within_the_tolerance_a_small_dip_passes():
    many = [Example(f"parcel question {n}", "order_status") for n in range(50)]
    live = evaluate(many, reader({e.text: "order_status" for e in many}))
    answers = {e.text: "order_status" for e in many} | {"parcel question 0": "greet"}
    candidate = evaluate(many, reader(answers))
    assert compare(many, live, candidate, LIVE, tolerance=0.05).passed  # 0.98 >= 1 - 0.05
    assert not compare(many, live, candidate, LIVE, tolerance=0.01).passed


def test_one_example_of_an_intent_read_differently_is_noise_three_are_not():
    many = [Example(f"parcel question {n}", "order_status") for n in range(12)] + [
        Example(f"hello {n}", "greet") for n in range(88)]
    right = {e.text: e.intent for e in many}
    live = evaluate(many, reader(right))
    one = evaluate(many, reader(right | {"parcel question 0": "greet"}))
    report = compare(many, live, one, LIVE, tolerance=0.05, intent_f1_drop=0.1)
    assert report.passed, report.refusals  # order_status F1 1.0 -> 0.957
    three = evaluate(many, reader(right | {f"parcel question {n}": "greet" for n in range(3)}))
    report = compare(many, live, three, LIVE, tolerance=0.05, intent_f1_drop=0.1)
    assert report.refusals[-1] == "order_status F1 fell from 1.000 to 0.857"


def test_the_projects_test_file_is_read_without_entity_marks():
    from pathlib import Path

    examples = held_apart_examples(Path(__file__).resolve().parents[2] / "tests/nlu/test_nlu.yml")
    assert len(examples) > 100
    assert all("](" not in e.text and "]{" not in e.text for e in examples)
    assert {"greet", "order_status"} <= {e.intent for e in examples}
