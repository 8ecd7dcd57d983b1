"""Writing a trainer's decisions into a copy of the Rasa project (ruamel.yaml round trip),
each language's examples into its own files, a new intent's answer in every language."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml

from bot.trainer import yaml_files
from bot.trainer.training_data import (
    MissingAnswerError,
    TrainingData,
    TrainingDataError,
    held_apart_file,
    normalized,
    rasa_validate,
    validation_complaint,
)

PROJECT_DIR = Path(__file__).resolve().parents[3]
RASA_FILES = [Path("config.yml"), Path("domain.yml"), Path("data"), Path("tests/nlu")]
LANGUAGES = ("it", "en")
GIFT_WRAP = ["can you gift wrap my order", "do you do gift wrapping", "gift wrap please",
             "is gift wrapping available", "can you giftwrap it", "i'd like it wrapped as a gift",
             "Can you gift wrap my order?"]  # the last is the first again
GIFT_WRAP_IT = ["potete fare una confezione regalo", "mi fate il pacchetto regalo",
                "è possibile avere la confezione regalo", "lo incartate come regalo?"]
ANSWERS = {"en": ["Yes! Tick 'gift wrap' at checkout: it costs €3.",
                  "We gift wrap for €3: choose it at checkout 🎁"],
           "it": ["Sì! Scegli 'confezione regalo' al checkout: costa 3 €."]}


@pytest.fixture()
def project(tmp_path) -> Path:
    for part in RASA_FILES:
        source, target = PROJECT_DIR / part, tmp_path / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    return tmp_path


def passes(_: Path) -> None:
    return None


def examples(path: Path, intent: str) -> list[str]:
    items = yaml.safe_load(path.read_text())["nlu"]
    block = next(item["examples"] for item in items if item.get("intent") == intent)
    return [line[2:] for line in block.splitlines()]


def test_every_project_file_survives_a_round_trip_unchanged():
    paths = [*(PROJECT_DIR / "data").rglob("*.yml"), PROJECT_DIR / "domain.yml",
             *(PROJECT_DIR / "tests/nlu").glob("*.yml"), PROJECT_DIR / "config.yml"]
    assert {PROJECT_DIR / "tests/nlu/test_nlu_it.yml", PROJECT_DIR / "data/nlu/it/orders.yml",
            PROJECT_DIR / "data/nlu/en/orders.yml"} <= set(paths)
    for path in paths:
        text = path.read_text()
        assert yaml_files.dumps(yaml_files.load(path), text) == text, path


def test_a_new_intent_with_its_answer_in_domain_rules_data_and_tests(project):
    data = TrainingData(project, validate=rasa_validate,  # the real `rasa data validate`
                        languages=LANGUAGES)
    domain_before = (project / "domain.yml").read_text()
    added = data.create_intent("gift_wrapping", {"en": GIFT_WRAP, "it": GIFT_WRAP_IT},
                               answers=ANSWERS, test_every=4)
    assert added.languages == ["it", "en"]  # the brand's order
    english, italian = added.of("en"), added.of("it")
    assert english.duplicates == ["Can you gift wrap my order?"]
    assert len(english.training) == 5 and english.test == ["is gift wrapping available"]
    assert italian.training == GIFT_WRAP_IT[:3] and italian.test == GIFT_WRAP_IT[3:]
    assert examples(project / "data/nlu/en/gift_wrapping.yml", "gift_wrapping") == \
        english.training
    assert examples(project / "data/nlu/it/gift_wrapping.yml", "gift_wrapping") == \
        italian.training
    assert examples(project / "tests/nlu/test_nlu_en.yml", "gift_wrapping") == english.test
    assert examples(project / "tests/nlu/test_nlu_it.yml", "gift_wrapping") == italian.test
    assert not (project / "data/nlu/gift_wrapping.yml").exists()
    domain = yaml.safe_load((project / "domain.yml").read_text())
    assert "gift_wrapping" in domain["intents"]
    # each language's wordings on the condition of the conversation's language
    assert [(v["condition"], v["text"]) for v in domain["responses"]["utter_gift_wrapping"]] == [
        ([{"type": "slot", "name": "language", "value": language}], text)
        for language in ("it", "en") for text in ANSWERS[language]]
    rules = yaml.safe_load((project / "data/rules.yml").read_text())["rules"]
    assert rules[-1]["steps"] == [{"intent": "gift_wrapping"}, {"action": "utter_gift_wrapping"}]
    # comments and layout of the files that were there survive
    after = (project / "domain.yml").read_text()
    assert after.startswith(domain_before.split("intents:")[0])
    assert all(line in after for line in domain_before.splitlines() if line.startswith("#"))
    assert "  - gift_wrapping\n" in after
    assert "    - condition:\n        - type: slot\n          name: language\n" in after
    assert data.known_examples()[normalized("gift wrap please")] == "gift_wrapping"
    assert data.known_examples()[normalized("lo incartate come regalo")] == "gift_wrapping"


def test_a_new_intent_that_hands_off_and_examples_for_an_existing_one(project):
    data = TrainingData(project, validate=passes, languages=LANGUAGES)
    data.create_intent("warranty_claim", {"en": ["my shoes broke after a year, warranty?",
                                                 "is there a warranty", "warranty claim please"]},
                       hand_off=True, test_every=4)
    rules = yaml.safe_load((project / "data/rules.yml").read_text())["rules"]
    assert rules[-1]["steps"] == [{"intent": "warranty_claim"}, {"action": "action_handoff"},
                                  {"active_loop": None}]
    assert (project / "data/nlu/en/warranty_claim.yml").exists()
    assert not (project / "data/nlu/it/warranty_claim.yml").exists()
    it_before = (project / "data/nlu/it/shipping.yml").read_text()
    added = data.add_examples("shipping_info", {"en": [
        "ship to [Malta] fast?", "how long to malta", "do you ship to Malta", "delivery to malta",
        "how long does shipping take"]}, test_every=2)
    assert added.duplicates == ["how long does shipping take"]
    assert added.training == ["ship to Malta fast?", "do you ship to Malta"]  # brackets gone
    assert added.test == ["how long to malta", "delivery to malta"]
    assert examples(project / "data/nlu/en/shipping.yml", "shipping_info")[-2:] == \
        added.training
    assert examples(project / "tests/nlu/test_nlu_en.yml", "shipping_info")[-2:] == added.test
    assert (project / "data/nlu/it/shipping.yml").read_text() == it_before


def test_examples_of_each_language_go_to_that_languages_files(project):
    data = TrainingData(project, validate=passes, languages=LANGUAGES)
    en_test = (project / "tests/nlu/test_nlu_en.yml").read_text()
    added = data.add_examples("returns_info", {
        "it": ["posso rendere le scarpe dopo un mese", "come faccio il reso delle ciabatte",
               "il reso è gratuito per la Sicilia?", "quanto tempo ho per restituire"],
        "en": ["can i send back slippers"]}, test_every=4)
    italian_file = data._file_with("returns_info", "it")
    assert italian_file.parent == project / "data/nlu/it"
    assert examples(italian_file, "returns_info")[-3:] == added.of("it").training
    assert examples(project / "tests/nlu/test_nlu_it.yml", "returns_info")[-1:] == \
        ["quanto tempo ho per restituire"]
    english_file = data._file_with("returns_info", "en")
    assert english_file.parent == project / "data/nlu/en"
    assert examples(english_file, "returns_info")[-1] == "can i send back slippers"
    assert (project / "tests/nlu/test_nlu_en.yml").read_text() == en_test  # 1 of 4: none
    # a text known in one language is a duplicate in any other
    again = data.add_examples("returns_info", {"en": ["Posso rendere le scarpe dopo un mese!"]},
                              test_every=4)
    assert again.duplicates == ["Posso rendere le scarpe dopo un mese!"]
    # an intent's first examples in a language of a topic file of the other one
    data.create_intent("size_guide", {"en": ["what size should i take", "size guide please",
                                             "do your shoes run small"]},
                       answers={"en": ["See the size guide."], "it": ["Vedi la guida."]})
    added = data.add_examples("size_guide", {"it": ["quale numero mi consigliate di ordinare"]}, 4)
    assert added.training == ["quale numero mi consigliate di ordinare"]
    assert examples(project / "data/nlu/it/size_guide.yml", "size_guide") == added.training


def test_a_new_intent_needs_its_answer_in_every_brand_language(project):
    data = TrainingData(project, validate=passes, languages=LANGUAGES)
    before = {p: p.read_bytes() for p in project.rglob("*.yml")}
    with pytest.raises(MissingAnswerError, match=r"missing in Italian \(it\)$") as refused:
        data.create_intent("gift_wrapping", {"en": GIFT_WRAP}, answers={"en": ANSWERS["en"]})
    assert refused.value.missing == ["it"]
    with pytest.raises(MissingAnswerError, match=r"missing in English \(en\)$"):
        data.create_intent("gift_wrapping", {"en": GIFT_WRAP},
                           answers={"it": ANSWERS["it"], "en": ["  "]})
    with pytest.raises(MissingAnswerError, match=r"in every brand language \(Italian \(it\), "
                                                 r"English \(en\)\), or the handoff"):
        data.create_intent("gift_wrapping", {"en": GIFT_WRAP})
    three = TrainingData(project, validate=passes, languages=("it", "en", "de"))
    with pytest.raises(MissingAnswerError, match=r"missing in German \(de\)") as refused:
        three.create_intent("gift_wrapping", {"en": GIFT_WRAP}, answers=ANSWERS)
    assert refused.value.missing == ["de"]
    with pytest.raises(TrainingDataError, match="'fr' is not a brand language"):
        data.create_intent("gift_wrapping", {"en": GIFT_WRAP},
                           answers={**ANSWERS, "fr": ["Oui !"]})
    with pytest.raises(TrainingDataError, match="'fr' is not a brand language"):
        data.add_examples("greet", {"fr": ["bonjour"]}, 4)
    assert {p: p.read_bytes() for p in project.rglob("*.yml")} == before
    assert not (project / "data/nlu/en/gift_wrapping.yml").exists()
    # handed to a person, an intent needs no answer in any language
    data.create_intent("gift_wrapping", {"en": GIFT_WRAP}, hand_off=True)
    assert "utter_gift_wrapping" not in yaml.safe_load((project / "domain.yml").read_text())[
        "responses"]


def test_a_third_language_gets_its_own_folder_test_file_and_answers(project):
    data = TrainingData(project, validate=passes, languages=("it", "en", "de"))
    added = data.create_intent("gift_wrapping", {"de": [
        "könnt ihr das als geschenk verpacken", "geschenkverpackung bitte",
        "gibt es geschenkpapier", "bitte als geschenk einpacken"]},
        answers={**ANSWERS, "de": ["Ja, für 3 €."]})
    assert added.languages == ["de"] and len(added.test) == 1
    assert examples(project / "data/nlu/de/gift_wrapping.yml", "gift_wrapping") == \
        added.training
    assert examples(project / held_apart_file("de"), "gift_wrapping") == added.test
    assert "Held-apart German (de) NLU test set" in (project / held_apart_file("de")).read_text()
    responses = yaml.safe_load((project / "domain.yml").read_text())["responses"]
    assert [v["condition"][0]["value"] for v in responses["utter_gift_wrapping"]] == [
        "it", "en", "en", "de"]
    rolled_back = TrainingData(project, validate=lambda _: "broken", languages=("it", "fr"))
    with pytest.raises(TrainingDataError, match="refused"):
        rolled_back.add_examples("greet", {"fr": ["salut les amis", "bonsoir"]}, 2)
    assert not (project / "data/nlu/fr").exists() and not (project / held_apart_file("fr")).exists()


def test_the_brand_file_gives_the_languages_by_default(project):
    assert TrainingData(project).languages == ("it", "en")  # brand.yml, the default first


def test_refusals_change_nothing(project):
    data = TrainingData(project, validate=passes, languages=LANGUAGES)
    before = {p: p.read_bytes() for p in project.rglob("*.yml")}
    english = {"en": GIFT_WRAP}
    for call, complaint in (
        (lambda: data.create_intent("greet", english, answers=ANSWERS), "exists already"),
        (lambda: data.create_intent("Gift Wrap", english, answers=ANSWERS), "lower-case"),
        (lambda: data.create_intent("nlu_fallback", english, answers=ANSWERS), "Rasa's own"),
        (lambda: data.create_intent("restart", english, hand_off=True), "Rasa's own"),
        (lambda: data.create_intent("gift_wrapping", english), "needs its answer"),
        (lambda: data.create_intent("gift_wrapping", english, answers=ANSWERS, hand_off=True),
         "not both"),
        (lambda: data.create_intent("gift_wrapping", {"en": GIFT_WRAP[:2]}, answers=ANSWERS),
         "at least 3 new examples"),
        # two in each language are not three in one
        (lambda: data.create_intent("gift_wrapping", {"en": GIFT_WRAP[:2],
                                                      "it": GIFT_WRAP_IT[:2]}, answers=ANSWERS),
         "at least 3 new examples in one language"),
        (lambda: data.add_examples("no_such_intent", {"en": ["hello"]}, 4), "no intent"),
    ):
        with pytest.raises(TrainingDataError, match=complaint):
            call()
    assert {p: p.read_bytes() for p in project.rglob("*.yml")} == before
    assert not (project / "data/nlu/en/gift_wrapping.yml").exists()


def test_a_change_the_validator_refuses_is_rolled_back(project):
    data = TrainingData(project, validate=lambda _: "YamlValidationException: broken",
                        languages=LANGUAGES)
    before = {p: p.read_bytes() for p in project.rglob("*.yml")}
    with pytest.raises(TrainingDataError, match="refused the change:\nYamlValidation"):
        data.create_intent("gift_wrapping", {"en": GIFT_WRAP, "it": GIFT_WRAP_IT},
                           answers=ANSWERS)
    assert {p: p.read_bytes() for p in project.rglob("*.yml")} == before
    assert not (project / "data/nlu/en/gift_wrapping.yml").exists()
    assert not (project / "data/nlu/it/gift_wrapping.yml").exists()


def test_two_trainers_at_once_both_land_and_nothing_breaks(project):
    def slow(_: Path) -> None:
        time.sleep(0.3)  # a validation in progress while the other trainer waits

    errors = []

    def label(texts: list[str]) -> None:
        try:
            TrainingData(project, validate=slow, languages=LANGUAGES).add_examples(
                "returns_info", {"en": texts}, 10)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=label, args=([f"{word} return question {n}"
                                                     for n in range(3)],))
               for word in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    target = TrainingData(project, languages=LANGUAGES)._file_with("returns_info", "en")
    added = [text for text in examples(target, "returns_info") if "return question" in text]
    assert sorted(added) == sorted(f"{w} return question {n}" for w in ("first", "second")
                                   for n in range(3))


def test_the_validators_complaint_is_its_warnings_not_its_progress_lines():
    output = (
        "/x/rasa/shared/utils/io.py:100: UserWarning: The utterance 'utter_ask_proof' is not "
        "used in any story or rule.\n"
        "\x1b[93m/x/rasa/shared/utils/io.py:100: UserWarning: The action 'action_later' is used "
        "in the 'unfinished' block, but it is not listed in the domain file.\n"
        "  More info at https://rasa.com/docs/rasa/domain\n"
        "\x1b[0m2026-11-22 23:00:41 INFO     rasa.validator  - Validating intents...\n"
        "2026-11-22 23:00:41 INFO     rasa.validator  - No story structure conflicts found.\n"
        "\x1b[91mProject validation completed with errors.\x1b[0m\n")
    assert validation_complaint(output) == (
        "The action 'action_later' is used in the 'unfinished' block, but it is not listed in "
        "the domain file.\nProject validation completed with errors.")
