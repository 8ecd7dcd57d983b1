"""The team's evaluation set (bench/eval) and the judgement bench's scoring: fast, no training."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bench.judgement import (
    EXPECTATIONS,
    LANGUAGES,
    TAGS,
    EvalMessage,
    is_right_behaviour,
    load_eval_file,
    load_eval_set,
    score,
)
from bot.understanding.behaviour import (
    BEHAVIOURS,
    LABEL_INTENTS,
    behaviour_of,
    is_wrong_confident_answer,
)

PROJECT = Path(__file__).resolve().parents[3]
_ENTITY = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_PUNCTUATION = re.compile(r"[^\w\s]")

INTENTS_BY_BEHAVIOUR = {
    "answer": {
        "shipping_info", "returns_info", "refund_status", "faq_size_fit", "faq_care",
        "faq_materials", "faq_availability", "faq_prices", "faq_gift_cards", "faq_stores",
        "faq_payment_methods", "faq_invoices",
    },
    "order": {"order_status", "inform"},
    "person": {
        "human_request", "complaint", "abuse", "payment_issue", "cancel_order",
        "change_address", "delivery_problem",
    },
    "smalltalk": {"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge"},
}


def normalized(text: str) -> str:
    """Lower-case, punctuation removed, spaces collapsed."""
    return " ".join(_PUNCTUATION.sub(" ", text.casefold()).split())


def nlu_texts(paths: list[Path]) -> set[str]:
    found = set()
    for path in paths:
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.add(normalized(_ENTITY.sub(r"\1", line[2:])))
    return found


@pytest.fixture(scope="module")
def eval_set() -> dict[str, list[EvalMessage]]:
    return load_eval_set()


# ---- the set itself -------------------------------------------------------------------------

def test_both_languages_load_and_validate(eval_set):
    assert set(eval_set) == set(LANGUAGES)
    for language, messages in eval_set.items():
        assert all(message.language == language for message in messages)
        for message in messages:
            assert message.expect in EXPECTATIONS
            assert set(message.tags) <= TAGS
            if message.expect == "scope":
                assert message.intent is None
            else:
                assert message.intent in LABEL_INTENTS
                assert behaviour_of(message.intent) == message.expect


def test_size(eval_set):
    assert all(len(messages) >= 300 for messages in eval_set.values())
    assert sum(len(messages) for messages in eval_set.values()) >= 600


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_intent_has_at_least_eight_messages(eval_set, language):
    counts = Counter(message.intent for message in eval_set[language])
    every_intent = set().union(*INTENTS_BY_BEHAVIOUR.values())
    short = {intent: counts[intent] for intent in every_intent if counts[intent] < 8}
    assert not short


@pytest.mark.parametrize("language", LANGUAGES)
def test_tag_and_scope_shares(eval_set, language):
    messages = eval_set[language]
    tags = Counter(tag for message in messages for tag in message.tags)
    total = len(messages)
    assert tags["multi_sentence"] >= 0.15 * total
    assert tags["typo"] >= 0.15 * total
    assert tags["near_miss"] >= 0.10 * total
    assert sum(message.expect == "scope" for message in messages) >= 0.12 * total
    assert all(tags[tag] > 0 for tag in TAGS)


def test_no_message_is_a_training_or_test_example(eval_set):
    training = nlu_texts(sorted((PROJECT / "data" / "nlu").rglob("*.yml")))
    tests = nlu_texts(sorted((PROJECT / "tests" / "nlu").glob("*.yml")))
    assert len(training) > 500 and len(tests) > 200
    copies = [message.text for messages in eval_set.values() for message in messages
              if normalized(message.text) in training | tests]
    assert not copies


def test_no_duplicates_inside_the_set(eval_set):
    texts = Counter(normalized(m.text) for messages in eval_set.values() for m in messages)
    assert not [text for text, count in texts.items() if count > 1]


def test_only_made_up_emails(eval_set):
    emails = re.compile(r"[\w.+-]+@([\w-]+\.)+\w+")
    for messages in eval_set.values():
        for message in messages:
            for found in emails.finditer(message.text):
                assert found.group().endswith("@example.com"), found.group()


def test_the_loader_refuses_bad_labels(tmp_path):
    def write(entry: dict) -> Path:
        path = tmp_path / "customers_en.yml"
        path.write_text(yaml.safe_dump({"version": 1, "language": "en", "messages": [entry]}))
        return path

    good = {"text": "hi", "expect": "smalltalk", "intent": "greet", "tags": ["short"]}
    assert load_eval_file(write(good))[0] == EvalMessage("hi", "smalltalk", "greet",
                                                         ("short",), "en")
    for bad in (
        {**good, "expect": "chitchat"},
        {**good, "intent": "complaint"},          # a person intent under smalltalk
        {**good, "intent": "no_such_intent"},
        {**good, "tags": ["shouting"]},
        {**good, "text": "  "},
        {"text": "weather?", "expect": "scope", "intent": "out_of_scope"},
        {**good, "colour": "red"},
    ):
        with pytest.raises(ValueError):
            load_eval_file(write(bad))


# ---- behaviour ------------------------------------------------------------------------------

def test_behaviour_of_every_intent():
    for behaviour, intents in INTENTS_BY_BEHAVIOUR.items():
        for intent in intents:
            assert behaviour_of(intent) == behaviour
    assert behaviour_of("out_of_scope") == "scope"
    assert behaviour_of("nlu_fallback") == "ask"
    assert behaviour_of("something_new") == "ask"
    assert behaviour_of(None) == "ask"
    assert behaviour_of("") == "ask"
    assert set(BEHAVIOURS.values()) == {"answer", "order", "person", "smalltalk", "scope", "ask"}


def test_domain_intents_all_have_a_behaviour():
    domain = yaml.safe_load((PROJECT / "domain.yml").read_text(encoding="utf-8"))
    intents = [next(iter(i)) if isinstance(i, dict) else i for i in domain["intents"]]
    assert [intent for intent in intents if intent not in BEHAVIOURS] == []


@pytest.mark.parametrize(("expect", "intent", "predicted", "wrong"), [
    ("answer", "faq_care", "faq_care", False),
    ("answer", "faq_care", "shipping_info", True),       # another topic's answer
    ("answer", "faq_care", "order_status", True),        # "what polish" starts the order form
    ("answer", "faq_care", "complaint", False),          # a handoff is never one
    ("answer", "faq_care", "nlu_fallback", False),       # asking is never one
    ("scope", None, "faq_prices", True),
    ("scope", None, "out_of_scope", False),
    ("scope", None, "human_request", False),
    ("person", "delivery_problem", "order_status", True),
    ("person", "delivery_problem", "complaint", False),
    ("smalltalk", "thanks", "refund_status", True),
    ("smalltalk", "thanks", "goodbye", False),
    ("order", "order_status", "inform", False),          # the same flow
    ("order", "inform", "order_status", False),
    ("order", "order_status", "shipping_info", True),
    ("answer", "shipping_info", "inform", True),
])
def test_is_wrong_confident_answer(expect, intent, predicted, wrong):
    assert is_wrong_confident_answer(expect, intent, predicted) is wrong


# ---- scoring --------------------------------------------------------------------------------

def _message(expect: str, intent: str | None, language: str = "en") -> EvalMessage:
    return EvalMessage(f"{expect} {intent}", expect, intent, (), language)


def test_right_behaviour_rules():
    assert is_right_behaviour(_message("answer", "faq_care"), "faq_care")
    assert not is_right_behaviour(_message("answer", "faq_care"), "faq_materials")
    assert is_right_behaviour(_message("order", "order_status"), "inform")
    assert is_right_behaviour(_message("person", "delivery_problem"), "complaint")
    assert not is_right_behaviour(_message("person", "complaint"), "nlu_fallback")
    assert is_right_behaviour(_message("smalltalk", "thanks"), "goodbye")
    assert is_right_behaviour(_message("scope", None), "out_of_scope")
    assert is_right_behaviour(_message("scope", None), "nlu_fallback")
    assert not is_right_behaviour(_message("scope", None), "human_request")
    assert not is_right_behaviour(_message("scope", None), "greet")


def test_score_on_hand_made_readings():
    readings = [
        (_message("answer", "faq_care"), "faq_care"),            # right
        (_message("answer", "faq_care"), "complaint"),           # wrong intent, handed off
        (_message("answer", "faq_care"), "order_status"),        # wrong confident answer
        (_message("order", "order_status"), "inform"),           # right behaviour, wrong intent
        (_message("person", "delivery_problem"), "delivery_problem"),
        (_message("smalltalk", "greet"), "nlu_fallback"),        # asks
        (_message("scope", None), "out_of_scope"),               # handled, right
        (_message("scope", None), "human_request"),              # handled, not right
        (_message("scope", None), "shipping_info"),              # wrong confident answer
        (_message("scope", None), "nlu_fallback"),               # handled, right
    ]
    figures = score(readings)
    assert figures["messages"] == 10
    assert figures["right_behaviour_pct"] == 50.0   # 1, 4, 5, 7, 10
    assert figures["intent_accuracy_pct"] == round(100 * 2 / 6, 1)
    assert figures["wrong_confident_answers_pct"] == 20.0
    assert figures["out_of_scope_handled_pct"] == 75.0
    wrong = {(r["expected"], r["predicted"]): r["count"] for r in figures["top_wrong_readings"]}
    assert wrong == {
        ("faq_care", "complaint"): 1, ("faq_care", "order_status"): 1,
        ("order_status", "inform"): 1, ("greet", "nlu_fallback"): 1,
        ("scope", "shipping_info"): 1,
    }


def test_score_ranks_wrong_readings_and_keeps_ten():
    readings = [(_message("answer", "faq_care"), "complaint")] * 5
    readings += [(_message("answer", f"faq_{n}"), "nlu_fallback")
                 for n in ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k")]
    top = score(readings)["top_wrong_readings"]
    assert len(top) == 10
    assert top[0] == {"expected": "faq_care", "predicted": "complaint", "count": 5}


def test_score_of_nothing_is_undefined_not_zero():
    figures = score([])
    assert figures["messages"] == 0
    assert figures["right_behaviour_pct"] is None
    assert figures["out_of_scope_handled_pct"] is None
    assert figures["top_wrong_readings"] == []
