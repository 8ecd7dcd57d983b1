"""The language layer: detection among the brand's languages, wording.yml, phrasing."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml

from bot.language import LanguageDetector, WordingError, load_wording

PROJECT_DIR = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(["it", "en"])


# ------------------------------------------------------------------------ detection


@pytest.mark.parametrize("text", ["ok", "10023", "20121", "grazie!", "👍", "???", "", "/greet",
                                  '/inform{"email": "a@b.it"}', "hello", "si", "no"])
def test_short_or_unclear_messages_keep_a_settled_language(detector, text):
    for current in ("it", "en"):
        assert detector.choose(text, current, settled=True).language == current


@pytest.mark.parametrize(("text", "language"), [
    ("ciao, dov'è il mio ordine 10023?", "it"),
    ("dove e il mio ordine", "it"),
    ("voglio parlare con una persona", "it"),
    ("quanto costa la spedizione in Germania?", "it"),
    ("nn mi è arrivato il pacco xke?", "it"),
    ("where is my order?", "en"),
    ("I want a human", "en"),
    ("how long does shipping to Germany take?", "en"),
])
def test_a_clear_longer_message_switches(detector, text, language):
    other = "en" if language == "it" else "it"
    choice = detector.choose(text, other, settled=True)
    assert choice.language == language and choice.settled


def test_before_the_language_is_settled_one_clear_word_decides(detector):
    assert detector.choose("thanks", "it", settled=False).language == "en"
    assert detector.choose("buonasera", "en", settled=False).language == "it"
    # unclear single words leave it to the default or the channel's hint
    unclear = detector.choose("ok", "it", settled=False)
    assert unclear.language == "it" and not unclear.settled


@pytest.mark.parametrize("text", ["mi date il tracking del 10731?", "ecco lo screenshot",
                                  "ok, vai pure col reso"])
def test_english_words_in_italian_do_not_switch_to_english(detector, text):
    assert detector.choose(text, "it", settled=True).language == "it"


def test_intent_payloads_never_switch(detector):
    assert detector.choose("/human_request", "it", settled=False).language == "it"


def test_an_unknown_current_language_falls_back_to_the_first(detector):
    assert detector.choose("10023", "de", settled=True).language == "it"


def test_a_comment_on_its_own(detector):
    assert detector.language_of("Bellissime scarpe, quando tornano disponibili?") == "it"
    assert detector.language_of("Love these shoes, when are they back in stock?") == "en"
    assert detector.language_of("😍😍") == "it"  # the brand's default


def test_one_language_brand_needs_no_model():
    single = LanguageDetector(["en"])
    assert single.choose("dove è il mio ordine", "en", settled=True).language == "en"


def test_unknown_language_code_is_refused():
    with pytest.raises(ValueError, match="unknown language code"):
        LanguageDetector(["xx"])


# ------------------------------------------------------------------------ wording.yml


def test_the_real_wording_has_every_brand_language():
    brand = yaml.safe_load((PROJECT_DIR / "brand.yml").read_text())["brand"]
    wording = load_wording(PROJECT_DIR / "wording.yml", brand["languages"])
    assert set(wording.languages) == set(brand["languages"])


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "wording.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_missing_language_or_key_is_named(tmp_path):
    data = yaml.safe_load((PROJECT_DIR / "wording.yml").read_text())
    with pytest.raises(WordingError, match="no section for the brand language 'de'"):
        load_wording(_write(tmp_path, data), ["it", "en", "de"])
    del data["it"]["when"]["tomorrow"]
    with pytest.raises(WordingError, match=r"it\.when\.tomorrow is missing"):
        load_wording(_write(tmp_path, data), ["en", "it"])


def test_placeholders_must_match_across_languages(tmp_path):
    data = yaml.safe_load((PROJECT_DIR / "wording.yml").read_text())
    data["it"]["when"]["today"] = "oggi alle {ora}"
    with pytest.raises(WordingError, match=r"it\.when\.today uses \['ora'\]"):
        load_wording(_write(tmp_path, data), ["en", "it"])


def test_an_unknown_locale_is_refused(tmp_path):
    data = yaml.safe_load((PROJECT_DIR / "wording.yml").read_text())
    data["it"]["locale"] = "xx_YY"
    with pytest.raises(WordingError, match="unknown"):
        load_wording(_write(tmp_path, data), ["en", "it"])


# ------------------------------------------------------------------------ phrasing

NOW = datetime(2026, 12, 2, 22, 0, tzinfo=timezone.utc)  # Wednesday 23:00 in Rome


@pytest.mark.parametrize(("moment", "english", "italian"), [
    (datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc), "tomorrow at 9:00", "domani alle 9:00"),
    (datetime(2026, 12, 2, 22, 30, tzinfo=timezone.utc), "today at 23:30", "oggi alle 23:30"),
    (datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc), "on Monday at 9:00", "lunedì alle 9:00"),
    (datetime(2027, 1, 7, 8, 0, tzinfo=timezone.utc), "on 7 January at 9:00",
     "il 7 gennaio alle 9:00"),
])
def test_moments(phrasing, phrasing_it, moment, english, italian):
    assert phrasing.moment(moment, NOW) == english
    assert phrasing_it.moment(moment, NOW) == italian


def test_money_dates_lists_and_countries(phrasing, phrasing_it):
    assert phrasing.money(9.9, "EUR") == "€9.90"
    assert phrasing_it.money(9.9, "EUR") == "9,90\u00a0€"  # no break before €
    assert phrasing_it.money(1234.5, "EUR") == "1.234,50\u00a0€"
    assert phrasing_it.day(date(2026, 12, 7), date(2026, 12, 2)) == "lunedì 7 dicembre"
    assert phrasing.listing(["a", "b", "c"]) == "a, b and c"
    assert phrasing_it.listing(["a", "b", "c"]) == "a, b e c"
    assert phrasing_it.country("Germany") == "Germania"
    assert phrasing_it.country("United States") == "Stati Uniti"
    assert phrasing_it.country("Narnia") == "Narnia"
    assert phrasing_it.working_days("3-5") == "3–5 giorni lavorativi"
    assert phrasing_it.working_days("1") == "1 giorno lavorativo"
    assert phrasing.payment_method("paypal") == "PayPal account"
    assert phrasing_it.payment_method("crypto_wallet") == "crypto wallet"


def test_waits(phrasing_it):
    assert phrasing_it.wait(None, NOW) == "appena possibile"
    assert phrasing_it.wait(NOW, NOW, open_now=True) == "subito"


def test_the_language_slot_follows_the_brand():
    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text())
    brand = yaml.safe_load((PROJECT_DIR / "brand.yml").read_text())["brand"]
    slot = domain["slots"]["language"]
    assert sorted(slot["values"]) == sorted(brand["languages"])
    assert slot["initial_value"] == brand["default_language"]
    assert {"type": "custom", "action": "action_detect_language"} in slot["mappings"]
